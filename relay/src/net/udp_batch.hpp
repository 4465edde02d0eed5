// Batched UDP I/O for the data path: recvmmsg into fixed per-worker buffers, and a send batch
// flushed with sendmmsg. Nothing here allocates after construction.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <span>

#include "net/five_tuple.hpp"

namespace podium::relay {

inline constexpr std::size_t kRecvBatch = 32;
inline constexpr std::size_t kMaxDatagram = 8192;  // larger datagrams are truncated and dropped

struct ReceivedDatagram {
  std::span<const std::uint8_t> data;
  SocketAddress source;
  bool truncated = false;
};

class RecvBatch {
 public:
  RecvBatch();
  // Reads up to kRecvBatch datagrams without blocking. Returns the count (0 when none ready),
  // or -errno on error.
  int receive(int fd);
  ReceivedDatagram at(std::size_t index) const;

 private:
  std::array<mmsghdr, kRecvBatch> messages_{};
  std::array<iovec, kRecvBatch> iov_{};
  std::array<sockaddr_storage, kRecvBatch> sources_{};
  alignas(64) std::array<std::array<std::uint8_t, kMaxDatagram>, kRecvBatch> buffers_{};
};

inline constexpr std::size_t kSendBatch = 64;
inline constexpr std::size_t kHeadroom = 576;  // room for a STUN response or a TURN header

// Datagrams queued for sending: a header written in place (headroom) followed by an optional
// payload that points at caller-owned memory which must outlive flush().
class SendBatch {
 public:
  struct Entry {
    int fd = -1;
    SocketAddress destination;
    std::array<std::uint8_t, kHeadroom> head{};
    std::size_t head_length = 0;
    std::span<const std::uint8_t> payload;
    std::size_t padding = 0;  // zero bytes appended after the payload
  };

  // Returns an entry to fill, flushing first if the batch is full. Calls must be followed by
  // commit() once the entry is filled.
  Entry& next();
  void commit() { ++count_; }
  // Sends every queued datagram; returns how many could not be sent (counted as errors).
  std::size_t flush();
  std::size_t pending() const { return count_; }

 private:
  std::array<Entry, kSendBatch> entries_{};
  std::array<mmsghdr, kSendBatch> messages_{};
  std::array<std::array<iovec, 3>, kSendBatch> iov_{};
  std::size_t count_ = 0;
  std::size_t errors_ = 0;
};

}  // namespace podium::relay
