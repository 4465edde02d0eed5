// Batched UDP I/O for the data paths (relay and SFU): recvmmsg into fixed per-worker buffers, and
// a send batch flushed with sendmmsg. Nothing here allocates after construction.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <span>

#include "podium/common/socket_address.hpp"

namespace podium::net {

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

// One datagram to send: the bytes in `head`, then `payload`, then `padding` zero bytes.
struct SendParts {
  int fd = -1;
  void* owner = nullptr;  // reported back when this datagram fails
  const SocketAddress* destination = nullptr;
  std::span<const std::uint8_t> head;
  std::span<const std::uint8_t> payload;
  std::size_t padding = 0;
};

// A datagram the kernel refused, with the errno and the owner its entry named.
struct SendFailure {
  void* owner = nullptr;
  int error = 0;
};
// Where send_batched reports failures; `on_failure` may be null.
using SendFailureHook = void (*)(void* context, const SendFailure& failure);

// Sends `count` datagrams with one sendmmsg per run of datagrams on the same socket, using the
// caller's message and iovec arrays (each at least `count` long). Returns how many failed; each
// failure is also reported to `on_failure` when given.
std::size_t send_batched(const SendParts* parts, std::size_t count, mmsghdr* messages,
                         std::array<iovec, 3>* iov, SendFailureHook on_failure = nullptr,
                         void* context = nullptr);

// Datagrams queued for sending: a header written in place (Headroom bytes; the SFU writes whole
// packets there) followed by an optional payload that points at caller-owned memory which must
// outlive flush().
template <std::size_t Headroom>
class BasicSendBatch {
 public:
  static constexpr std::size_t kHeadroom = Headroom;
  struct Entry {
    int fd = -1;
    void* owner = nullptr;  // e.g. the session this datagram is for (see on_failure)
    SocketAddress destination;
    std::array<std::uint8_t, Headroom> head{};
    std::size_t head_length = 0;
    std::span<const std::uint8_t> payload;
    std::size_t padding = 0;  // zero bytes appended after the payload
  };

  // Returns an entry to fill, flushing first if the batch is full. Calls must be followed by
  // commit() once the entry is filled.
  Entry& next() {
    if (count_ == kSendBatch) flush();
    Entry& entry = entries_[count_];
    entry.head_length = 0;
    entry.payload = {};
    entry.padding = 0;
    entry.owner = nullptr;
    return entry;
  }
  // Failures of later flushes are reported here (per datagram, with its entry's owner).
  void on_failure(SendFailureHook hook, void* context) {
    hook_ = hook;
    context_ = context;
  }
  void commit() { ++count_; }
  // Sends every queued datagram; returns how many could not be sent (counted as errors).
  std::size_t flush() {
    for (std::size_t i = 0; i < count_; ++i) {
      const Entry& e = entries_[i];
      parts_[i] = {e.fd,      e.owner,  &e.destination, {e.head.data(), e.head_length},
                   e.payload, e.padding};
    }
    std::size_t failed =
        send_batched(parts_.data(), count_, messages_.data(), iov_.data(), hook_, context_);
    count_ = 0;
    return failed;
  }
  std::size_t pending() const { return count_; }

 private:
  std::array<Entry, kSendBatch> entries_{};
  std::array<SendParts, kSendBatch> parts_{};
  std::array<mmsghdr, kSendBatch> messages_{};
  std::array<std::array<iovec, 3>, kSendBatch> iov_{};
  std::size_t count_ = 0;
  SendFailureHook hook_ = nullptr;
  void* context_ = nullptr;
};

}  // namespace podium::net
