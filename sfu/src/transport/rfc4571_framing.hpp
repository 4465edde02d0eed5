// RFC 4571 framing of packets on a TCP stream, as ICE-TCP (RFC 6544 section 3) carries STUN,
// DTLS, SRTP and SRTCP: each packet is preceded by its length as a 16-bit unsigned integer in
// network byte order. FrameReader cuts frames out of what the stream delivers, in a fixed buffer;
// FrameWriter queues frames in a fixed ring until the socket takes them. Neither allocates after
// construction, neither throws.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace podium::sfu::rfc4571 {

inline constexpr std::size_t kLengthSize = 2;

class FrameReader {
 public:
  // `max_frame`: the largest frame accepted (the packet path's datagram size); larger ones are a
  // framing error. The buffer holds one frame and its length field, plus room for more reads.
  explicit FrameReader(std::size_t max_frame);

  // Where the next read from the stream goes (empty while a whole frame is waiting to be taken).
  std::span<std::uint8_t> writable();
  // `n` bytes were read into writable().
  void commit(std::size_t n);

  enum class Status : std::uint8_t {
    frame,        // `frame` is the next packet (valid until the next commit() or compact())
    need_more,    // no complete frame buffered
    zero_length,  // a frame of length 0: no STUN, DTLS or RTP packet is empty
    oversize,     // a length above max_frame
  };
  struct Next {
    Status status = Status::need_more;
    std::span<std::uint8_t> frame;
  };
  // The next complete frame. After zero_length or oversize the stream cannot be resynchronized.
  Next next();
  // Moves a partial frame to the front of the buffer; call after taking the frames of a read.
  void compact();

  std::size_t buffered() const { return end_ - begin_; }
  std::size_t max_frame() const { return max_frame_; }

 private:
  std::size_t max_frame_;
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

class FrameWriter {
 public:
  explicit FrameWriter(std::size_t capacity);

  // Queues one frame made of head, payload and `padding` zero bytes, or nothing when it does not
  // fit (false: the caller drops the packet, as a full UDP socket buffer would). Frames over
  // 65535 bytes cannot be framed and are refused too.
  bool push(std::span<const std::uint8_t> head, std::span<const std::uint8_t> payload = {},
            std::size_t padding = 0);
  // The queued bytes as at most two spans (the ring may wrap); returns how many were filled.
  int pending(iovec (&iov)[2]) const;
  // `n` queued bytes were written to the stream.
  void consume(std::size_t n);

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return ring_.size(); }
  bool empty() const { return size_ == 0; }

 private:
  void put(const std::uint8_t* data, std::size_t n);
  void put_zeros(std::size_t n);

  std::vector<std::uint8_t> ring_;
  std::size_t head_ = 0;  // first queued byte
  std::size_t size_ = 0;
};

}  // namespace podium::sfu::rfc4571
