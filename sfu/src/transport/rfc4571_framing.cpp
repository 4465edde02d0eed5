#include "transport/rfc4571_framing.hpp"

#include <algorithm>
#include <cstring>

namespace podium::sfu::rfc4571 {

namespace {
constexpr std::size_t kMaxFrameLength = 0xFFFF;  // RFC 4571 section 2: a 16-bit LENGTH
}  // namespace

FrameReader::FrameReader(std::size_t max_frame)
    : max_frame_(std::min(max_frame, kMaxFrameLength)), buffer_(2 * (kLengthSize + max_frame_)) {}

std::span<std::uint8_t> FrameReader::writable() {
  if (end_ == buffer_.size()) compact();
  return std::span(buffer_).subspan(end_);
}

void FrameReader::commit(std::size_t n) {
  end_ = std::min(end_ + n, buffer_.size());
}

FrameReader::Next FrameReader::next() {
  if (end_ - begin_ < kLengthSize) return {};
  const std::size_t length = (static_cast<std::size_t>(buffer_[begin_]) << 8) |
                             static_cast<std::size_t>(buffer_[begin_ + 1]);
  if (length == 0) return {Status::zero_length, {}};
  if (length > max_frame_) return {Status::oversize, {}};
  if (end_ - begin_ < kLengthSize + length) return {};
  std::span<std::uint8_t> frame(buffer_.data() + begin_ + kLengthSize, length);
  begin_ += kLengthSize + length;
  return {Status::frame, frame};
}

void FrameReader::compact() {
  if (begin_ == 0) return;
  const std::size_t left = end_ - begin_;
  if (left) std::memmove(buffer_.data(), buffer_.data() + begin_, left);
  begin_ = 0;
  end_ = left;
}

FrameWriter::FrameWriter(std::size_t capacity) : ring_(capacity) {}

bool FrameWriter::push(std::span<const std::uint8_t> head, std::span<const std::uint8_t> payload,
                       std::size_t padding) {
  const std::size_t length = head.size() + payload.size() + padding;
  if (length == 0 || length > kMaxFrameLength) return false;
  if (ring_.size() - size_ < kLengthSize + length) return false;
  const std::uint8_t prefix[kLengthSize] = {static_cast<std::uint8_t>(length >> 8),
                                            static_cast<std::uint8_t>(length)};
  put(prefix, kLengthSize);
  put(head.data(), head.size());
  put(payload.data(), payload.size());
  put_zeros(padding);
  return true;
}

void FrameWriter::put(const std::uint8_t* data, std::size_t n) {
  if (n == 0) return;
  std::size_t tail = (head_ + size_) % ring_.size();
  const std::size_t first = std::min(n, ring_.size() - tail);
  std::memcpy(ring_.data() + tail, data, first);
  if (n > first) std::memcpy(ring_.data(), data + first, n - first);
  size_ += n;
}

void FrameWriter::put_zeros(std::size_t n) {
  if (n == 0) return;
  std::size_t tail = (head_ + size_) % ring_.size();
  const std::size_t first = std::min(n, ring_.size() - tail);
  std::memset(ring_.data() + tail, 0, first);
  if (n > first) std::memset(ring_.data(), 0, n - first);
  size_ += n;
}

int FrameWriter::pending(iovec (&iov)[2]) const {
  if (size_ == 0) return 0;
  const std::size_t first = std::min(size_, ring_.size() - head_);
  iov[0].iov_base = const_cast<std::uint8_t*>(ring_.data() + head_);
  iov[0].iov_len = first;
  if (first == size_) return 1;
  iov[1].iov_base = const_cast<std::uint8_t*>(ring_.data());
  iov[1].iov_len = size_ - first;
  return 2;
}

void FrameWriter::consume(std::size_t n) {
  n = std::min(n, size_);
  head_ = (head_ + n) % ring_.size();
  size_ -= n;
  if (size_ == 0) head_ = 0;
}

}  // namespace podium::sfu::rfc4571
