// The SFU's outgoing packets, whatever path a session's media takes: a sendmmsg batch on the
// UDP port, or, for a session whose selected candidate pair is an ICE-TCP connection (RFC 6544),
// that connection's RFC 4571 write queue. A packet names its path by the descriptor in its entry
// (Entry::fd): the UDP socket, or the TCP connection's socket. Routing is an array lookup on
// commit; nothing allocates or locks per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "podium/common/udp_batch.hpp"

namespace podium::sfu {

// Largest datagram the SFU sends (an RTP packet plus SRTP tag, a DTLS flight fragment).
inline constexpr std::size_t kMaxMediaDatagram = 1500;

// Stream paths packets can be routed to (implemented by the ICE-TCP listener).
class StreamPaths {
 public:
  virtual ~StreamPaths() = default;
  // Queues one packet on the stream whose socket is `fd` (any descriptor but the UDP socket's).
  // A packet for no open stream, or one a full stream cannot take, is dropped and counted by the
  // streams; it never goes out on UDP.
  virtual void queue(int fd, std::span<const std::uint8_t> head,
                     std::span<const std::uint8_t> payload, std::size_t padding) = 0;
  // Hands queued stream bytes to the kernel (non-blocking).
  virtual void flush() = 0;
};

class MediaSendBatch {
 public:
  using Udp = net::BasicSendBatch<kMaxMediaDatagram>;
  using Entry = Udp::Entry;
  static constexpr std::size_t kHeadroom = Udp::kHeadroom;

  // Same protocol as net::BasicSendBatch: next(), fill the entry, commit().
  Entry& next() {
    current_ = &udp_.next();
    return *current_;
  }
  void commit() {
    const Entry& e = *current_;
    if (streams_ && e.fd != udp_fd_) {
      // Only the UDP socket's packets go to sendmmsg: a descriptor that is no open stream (a
      // path closed since the entry was filled) is dropped by the streams, never sent on UDP.
      streams_->queue(e.fd, {e.head.data(), e.head_length}, e.payload, e.padding);
      ++stream_pending_;  // the UDP slot is reused by the next entry
      return;
    }
    udp_.commit();
  }
  // Sends every queued datagram and writes queued stream bytes; returns how many datagrams
  // could not be sent.
  std::size_t flush() {
    const std::size_t failed = udp_.flush();
    if (streams_) streams_->flush();
    stream_pending_ = 0;
    return failed;
  }
  // Packets queued since the last flush, on UDP and on streams.
  std::size_t pending() const { return udp_.pending() + stream_pending_; }
  void on_failure(net::SendFailureHook hook, void* context) { udp_.on_failure(hook, context); }
  // With stream paths, every entry whose fd is not `udp_fd` goes to them. Without, every entry
  // is a datagram.
  void set_streams(StreamPaths* streams, int udp_fd) {
    streams_ = streams;
    udp_fd_ = udp_fd;
  }

 private:
  Udp udp_;
  Entry* current_ = nullptr;
  StreamPaths* streams_ = nullptr;
  int udp_fd_ = -1;
  std::size_t stream_pending_ = 0;
};

}  // namespace podium::sfu
