// A transport address (IPv4 or IPv6 address and port) as the data path handles it: raw
// sockaddr storage for recvmmsg/sendmmsg, hashable, no heap.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>

#include <boost/asio/ip/address.hpp>

namespace podium {

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

struct SocketAddressHash {
  std::size_t operator()(const SocketAddress& address) const { return address.hash(); }
};

}  // namespace podium
