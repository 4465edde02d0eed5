#include "podium/common/udp_batch.hpp"

#include <cerrno>

namespace podium::net {

namespace {
constexpr std::uint8_t kZeros[4] = {0, 0, 0, 0};
}

RecvBatch::RecvBatch() {
  for (std::size_t i = 0; i < kRecvBatch; ++i) {
    iov_[i] = {buffers_[i].data(), buffers_[i].size()};
    messages_[i].msg_hdr.msg_iov = &iov_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
    messages_[i].msg_hdr.msg_name = &sources_[i];
  }
}

int RecvBatch::receive(int fd) {
  for (std::size_t i = 0; i < kRecvBatch; ++i) {
    messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    messages_[i].msg_hdr.msg_flags = 0;
  }
  int n;
  do {
    n = ::recvmmsg(fd, messages_.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  return n;
}

ReceivedDatagram RecvBatch::at(std::size_t index) const {
  const auto& message = messages_[index];
  ReceivedDatagram out;
  out.truncated = (message.msg_hdr.msg_flags & MSG_TRUNC) != 0;
  out.data = {buffers_[index].data(), message.msg_len};
  out.source = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sources_[index]),
                                            message.msg_hdr.msg_namelen);
  return out;
}

std::size_t send_batched(const SendParts* entries, std::size_t count, mmsghdr* messages,
                         std::array<iovec, 3>* iovs, SendFailureHook on_failure, void* context) {
  std::size_t failed = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const SendParts& entry = entries[i];
    auto& iov = iovs[i];
    std::size_t parts = 0;
    if (!entry.head.empty()) {
      iov[parts++] = {const_cast<std::uint8_t*>(entry.head.data()), entry.head.size()};
    }
    if (!entry.payload.empty()) {
      iov[parts++] = {const_cast<std::uint8_t*>(entry.payload.data()), entry.payload.size()};
    }
    if (entry.padding) iov[parts++] = {const_cast<std::uint8_t*>(kZeros), entry.padding};
    auto& header = messages[i].msg_hdr;
    header = {};
    header.msg_name = const_cast<sockaddr*>(entry.destination->sa());
    header.msg_namelen = entry.destination->length();
    header.msg_iov = iov.data();
    header.msg_iovlen = parts;
  }
  // One sendmmsg per run of datagrams leaving through the same socket.
  std::size_t start = 0;
  while (start < count) {
    std::size_t end = start + 1;
    while (end < count && entries[end].fd == entries[start].fd) ++end;
    std::size_t done = start;
    while (done < end) {
      int n = ::sendmmsg(entries[start].fd, &messages[done], static_cast<unsigned>(end - done),
                         MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        // The datagram at `done` failed (unreachable, refused, buffer full, ...): skip it.
        if (on_failure) on_failure(context, SendFailure{entries[done].owner, errno});
        ++failed;
        ++done;
        continue;
      }
      done += static_cast<std::size_t>(n);
    }
    start = end;
  }
  return failed;
}

}  // namespace podium::net
