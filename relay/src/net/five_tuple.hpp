// The 5-tuple that identifies a TURN allocation, and the client transports it can use.
#pragma once

#include <cstddef>
#include <cstdint>

#include "podium/common/socket_address.hpp"

namespace podium::relay {

using podium::SocketAddress;

enum class ClientTransport : std::uint8_t { udp, tcp, tls, dtls };
inline constexpr std::size_t kClientTransports = 4;
const char* to_string(ClientTransport transport);
// UDP and DTLS carry one STUN message or ChannelData per datagram (or DTLS record).
inline bool is_datagram(ClientTransport transport) {
  return transport == ClientTransport::udp || transport == ClientTransport::dtls;
}

// RFC 8656 section 2: the 5-tuple (client address, server address, transport protocol) that
// identifies an allocation.
struct FiveTuple {
  SocketAddress client;
  SocketAddress server;
  ClientTransport transport = ClientTransport::udp;
  friend bool operator==(const FiveTuple& a, const FiveTuple& b) {
    return a.transport == b.transport && a.client == b.client && a.server == b.server;
  }
};

struct FiveTupleHash {
  std::size_t operator()(const FiveTuple& t) const {
    return t.client.hash() * 31 + t.server.hash() + static_cast<std::size_t>(t.transport);
  }
};

}  // namespace podium::relay
