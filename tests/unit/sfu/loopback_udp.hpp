// A UDP socket bound to 127.0.0.1 on an ephemeral port, for tests that exchange real datagrams
// with the SFU's packet path (sendmmsg batches, the media worker's port).
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "podium/common/socket_address.hpp"

namespace podium::sfu::testing {

class LoopbackUdp {
 public:
  LoopbackUdp() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    local.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
      ::close(fd_);
      throw std::runtime_error("bind() failed");
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &length);
    address_ = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound), length);
  }
  ~LoopbackUdp() {
    if (fd_ >= 0) ::close(fd_);
  }
  LoopbackUdp(const LoopbackUdp&) = delete;
  LoopbackUdp& operator=(const LoopbackUdp&) = delete;

  int fd() const { return fd_; }
  const SocketAddress& address() const { return address_; }

  bool send_to(const SocketAddress& destination, std::span<const std::uint8_t> datagram) const {
    return ::sendto(fd_, datagram.data(), datagram.size(), 0, destination.sa(),
                    destination.length()) == static_cast<ssize_t>(datagram.size());
  }

  struct Datagram {
    std::vector<std::uint8_t> bytes;
    SocketAddress source;
  };
  // The next datagram, or nullopt when none arrives within `timeout`.
  std::optional<Datagram> receive(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return std::nullopt;
      Datagram datagram;
      datagram.bytes.resize(65536);
      sockaddr_storage source{};
      socklen_t length = sizeof(source);
      const ssize_t n = ::recvfrom(fd_, datagram.bytes.data(), datagram.bytes.size(), 0,
                                   reinterpret_cast<sockaddr*>(&source), &length);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return std::nullopt;
      }
      datagram.bytes.resize(static_cast<std::size_t>(n));
      datagram.source =
          SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&source), length);
      return datagram;
    }
  }
  // Reads and discards whatever is queued.
  std::size_t drain() const {
    std::size_t count = 0;
    while (receive(std::chrono::milliseconds(0))) ++count;
    return count;
  }

 private:
  int fd_ = -1;
  SocketAddress address_;
};

}  // namespace podium::sfu::testing
