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
class DtlsSession;

// How replies reach the client: through the UDP listener socket, a TCP/TLS connection, or a
// DTLS session (encrypted, on its dtls:// listener's socket).
struct ClientLink {
  int udp_fd = -1;
  StreamConnection* stream = nullptr;
  DtlsSession* dtls = nullptr;
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
  Allocation(boost::asio::io_context& io) : relay_socket(io), additional_socket(io) {}

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
  // RFC 6062: a TCP allocation (REQUESTED-TRANSPORT 6); its listening socket and peer
  // connections live in the worker's TcpRelay, relay_socket stays closed.
  bool tcp = false;
  // RFC 8656 section 7.2 (ADDITIONAL-ADDRESS-FAMILY): a dual-stack allocation also has an IPv6
  // relayed transport address. Each peer is reached through the socket of its own family; a
  // Refresh with LIFETIME 0 and REQUESTED-ADDRESS-FAMILY closes one of the two (section 7.3).
  boost::asio::ip::udp::socket additional_socket;
  SocketAddress additional_address;
  SteadyTime expires;
  std::chrono::system_clock::time_point created;
  std::vector<Permission> permissions;
  std::vector<ChannelBinding> channels;
  policy::TokenBucket bandwidth;
  bool reading = false;
  std::string mobility_ticket;  // RFC 8016: empty unless requested (and relay.mobility is on)
  std::uint64_t bytes_to_peer = 0;
  std::uint64_t bytes_to_client = 0;

  // Whether a relayed socket of that family is open: peers of another family get a 443 (RFC 8656
  // sections 9.2 and 12.2) and Send indications to them are dropped (section 11.2).
  bool serves(bool v6) const {
    return ((relay_socket.is_open() || tcp) && relayed_address.is_v6() == v6) ||
           (additional_socket.is_open() && additional_address.is_v6() == v6);
  }
  // The relayed socket peers of that family are reached through (call serves() first).
  boost::asio::ip::udp::socket& socket_for(bool v6) {
    return additional_socket.is_open() && additional_address.is_v6() == v6 ? additional_socket
                                                                           : relay_socket;
  }

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
