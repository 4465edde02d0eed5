// RFC 8656 section 2.2: an Allocation on the server, with its Permissions (section 9) and
// ChannelBindings (section 12). Owned by one worker thread; never shared.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "auth/credentials.hpp"
#include "net/five_tuple.hpp"
#include "podium/stun/constants.hpp"
#include "policy/token_bucket.hpp"

namespace podium::relay {

using SteadyTime = std::chrono::steady_clock::time_point;

class StreamConnection;

// How replies reach the client: through the UDP listener socket, or a TCP/TLS connection.
struct ClientLink {
  int udp_fd = -1;
  StreamConnection* stream = nullptr;
};

// RFC 8656 section 9: permissions are per peer IP address, the port is ignored.
struct Permission {
  SocketAddress peer;
  SteadyTime expires;
};

// RFC 8656 section 12: a channel number bound to one peer transport address.
struct ChannelBinding {
  std::uint16_t number = 0;
  SocketAddress peer;
  SteadyTime expires;
};

struct Allocation {
  Allocation(boost::asio::io_context& io) : relay_socket(io) {}

  std::string id;  // short random id carried by log lines
  FiveTuple five_tuple;
  ClientLink link;
  std::string username;    // USERNAME of the Allocate; later requests must match (441)
  std::string quota_user;  // who the allocation counts against
  std::string realm;
  auth::Key key{};
  stun::TransactionId allocate_transaction{};  // to answer a retransmitted Allocate (7.2)
  boost::asio::ip::udp::socket relay_socket;
  SocketAddress relayed_address;  // as advertised in XOR-RELAYED-ADDRESS
  SteadyTime expires;
  std::chrono::system_clock::time_point created;
  std::vector<Permission> permissions;
  std::vector<ChannelBinding> channels;
  policy::TokenBucket bandwidth;
  bool reading = false;
  std::uint64_t bytes_to_peer = 0;
  std::uint64_t bytes_to_client = 0;

  Permission* find_permission(const SocketAddress& peer) {
    for (auto& p : permissions) {
      if (p.peer.same_ip(peer)) return &p;
    }
    return nullptr;
  }
  ChannelBinding* find_channel(std::uint16_t number) {
    for (auto& c : channels) {
      if (c.number == number) return &c;
    }
    return nullptr;
  }
  ChannelBinding* find_channel(const SocketAddress& peer) {
    for (auto& c : channels) {
      if (c.peer == peer) return &c;
    }
    return nullptr;
  }
};

}  // namespace podium::relay
