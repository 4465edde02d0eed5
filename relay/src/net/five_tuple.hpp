// Transport addresses as the data path handles them: raw sockaddr storage, hashable, no heap.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <functional>

#include <boost/asio/ip/address.hpp>

namespace podium::relay {

// An IPv4 or IPv6 transport address (IP and port).
struct SocketAddress {
  sockaddr_storage storage{};

  static SocketAddress from(const boost::asio::ip::address& ip, std::uint16_t port);
  static SocketAddress from_sockaddr(const sockaddr* sa, socklen_t length);

  bool is_v4() const { return storage.ss_family == AF_INET; }
  bool is_v6() const { return storage.ss_family == AF_INET6; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&storage); }
  socklen_t length() const { return is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6); }
  std::uint16_t port() const;
  boost::asio::ip::address ip() const;
  bool same_ip(const SocketAddress& other) const;
  std::string to_string() const;

  friend bool operator==(const SocketAddress& a, const SocketAddress& b);
  std::size_t hash() const;
};

enum class ClientTransport : std::uint8_t { udp, tcp, tls };
const char* to_string(ClientTransport transport);

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
