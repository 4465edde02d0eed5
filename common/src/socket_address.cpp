#include "podium/common/socket_address.hpp"

#include <arpa/inet.h>

namespace podium {

SocketAddress SocketAddress::from(const boost::asio::ip::address& ip, std::uint16_t port) {
  SocketAddress out;
  if (ip.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    auto bytes = ip.to_v4().to_bytes();
    std::memcpy(&in->sin_addr, bytes.data(), 4);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    auto bytes = ip.to_v6().to_bytes();
    std::memcpy(&in6->sin6_addr, bytes.data(), 16);
  }
  return out;
}

SocketAddress SocketAddress::from_sockaddr(const sockaddr* sa, socklen_t length) {
  SocketAddress out;
  if (sa->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    std::memcpy(&out.storage, sa, sizeof(sockaddr_in));
  } else if (sa->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    std::memcpy(&out.storage, sa, sizeof(sockaddr_in6));
    // Only address and port identify a transport address.
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_flowinfo = 0;
  }
  return out;
}

std::uint16_t SocketAddress::port() const {
  if (is_v4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (is_v6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

boost::asio::ip::address SocketAddress::ip() const {
  if (is_v4()) {
    boost::asio::ip::address_v4::bytes_type bytes;
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, 4);
    return boost::asio::ip::address_v4(bytes);
  }
  if (is_v6()) {
    boost::asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, 16);
    return boost::asio::ip::address_v6(bytes);
  }
  return {};
}

bool SocketAddress::same_ip(const SocketAddress& other) const {
  if (storage.ss_family != other.storage.ss_family) return false;
  if (is_v4()) {
    return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&other.storage)->sin_addr.s_addr;
  }
  if (is_v6()) {
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(&other.storage)->sin6_addr, 16) == 0;
  }
  return false;
}

bool operator==(const SocketAddress& a, const SocketAddress& b) {
  return a.same_ip(b) && a.port() == b.port();
}

std::size_t SocketAddress::hash() const {
  std::size_t h = port();
  if (is_v4()) {
    h = h * 1000003u ^ reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr;
  } else if (is_v6()) {
    const auto* a = reinterpret_cast<const std::uint64_t*>(
        &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
    std::uint64_t parts[2];
    std::memcpy(parts, a, 16);
    h = h * 1000003u ^ parts[0] ^ (parts[1] * 0x9e3779b97f4a7c15ull);
  }
  return h * 0x9e3779b97f4a7c15ull;
}

std::string SocketAddress::to_string() const {
  auto address = ip();
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(port());
  return address.to_string() + ":" + std::to_string(port());
}

}  // namespace podium
