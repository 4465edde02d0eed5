// libFuzzer entry for the RFC 4571 framing of the SFU's ICE-TCP connections (RFC 6544 section 3):
// the input is a TCP stream, fed to a FrameReader in chunks whose sizes come from the input (as
// recv() would cut it), the frames taken after every chunk and the buffer compacted as the
// listener does. A model of the stream checks that every frame is 1..max_frame bytes and is
// exactly the bytes that follow its 2-byte length (so the frames with their headers are a prefix
// of the input), that zero_length and oversize are reported only for such a length field, that
// need_more is never said of a complete frame and that there is always room for the next read.
// The frames then go through a FrameWriter (split into head, payload and zero padding, drained in
// chunks so the ring wraps) and must come out as that same prefix of the input.
//
// Input layout: 2 bytes max_frame - 1 (so up to 65536, above the 16-bit limit), 2 bytes seed of
// the chunk sizes, 2 bytes writer capacity, then the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "transport/rfc4571_framing.hpp"

namespace {

namespace rfc4571 = podium::sfu::rfc4571;

constexpr std::size_t kHeader = 6;

void check(bool condition) {
  if (!condition) std::abort();
}

// Chunk sizes and splits from the input's seed: deterministic per input, so findings reproduce.
class Splits {
 public:
  explicit Splits(std::uint32_t seed) : state_(seed * 2654435761u + 0x9E3779B9u) {}
  std::uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }
  // 1..limit, favouring small chunks (single bytes split length fields) but reaching whole frames.
  std::size_t chunk(std::size_t limit) {
    const std::uint32_t r = next();
    std::size_t n = 0;
    switch (r & 3) {
      case 0:
        n = 1 + (r >> 2) % 3;
        break;
      case 1:
        n = 1 + (r >> 2) % 64;
        break;
      default:
        n = 1 + (r >> 2) % (limit ? limit : 1);
        break;
    }
    return std::min(n, limit);
  }

 private:
  std::uint32_t state_;
};

std::size_t length_at(std::span<const std::uint8_t> stream, std::size_t at) {
  return (static_cast<std::size_t>(stream[at]) << 8) | stream[at + 1];
}

// Writes every frame through a FrameWriter of `capacity` bytes, draining it in chunks; the bytes
// written must be the frames with their length fields, i.e. stream.first(consumed).
void check_writer(std::span<const std::uint8_t> stream, std::size_t consumed, std::size_t capacity,
                  Splits& splits) {
  rfc4571::FrameWriter writer(capacity);
  check(writer.capacity() == capacity && writer.empty());
  std::vector<std::uint8_t> written;
  written.reserve(consumed);

  auto drain_some = [&](bool all) {
    do {
      iovec iov[2];
      const int count = writer.pending(iov);
      check(count >= 0 && count <= 2);
      check((count == 0) == writer.empty());
      std::size_t total = 0;
      for (int i = 0; i < count; ++i) {
        check(iov[i].iov_len > 0);
        total += iov[i].iov_len;
      }
      check(total == writer.size());
      if (count == 0) return;
      // A partial write, as sendmsg() may make.
      std::size_t n = all ? total : splits.chunk(total);
      for (int i = 0; i < count && n > 0; ++i) {
        const std::size_t take = std::min(n, iov[i].iov_len);
        const auto* bytes = static_cast<const std::uint8_t*>(iov[i].iov_base);
        written.insert(written.end(), bytes, bytes + take);
        writer.consume(take);
        n -= take;
      }
    } while (all && !writer.empty());
  };

  for (std::size_t at = 0; at < consumed;) {
    const std::size_t length = length_at(stream, at);
    const auto frame = stream.subspan(at + rfc4571::kLengthSize, length);
    // Trailing zero bytes may be queued as padding.
    std::size_t zeros = 0;
    while (zeros < length && frame[length - 1 - zeros] == 0) ++zeros;
    const std::size_t padding = zeros ? splits.next() % (zeros + 1) : 0;
    const std::size_t head_size = splits.next() % (length - padding + 1);
    const auto head = frame.first(head_size);
    const auto payload = frame.subspan(head_size, length - padding - head_size);

    const std::size_t before = writer.size();
    if (writer.push(head, payload, padding)) {
      check(writer.size() == before + rfc4571::kLengthSize + length);
      at += rfc4571::kLengthSize + length;
      if (splits.next() % 4 == 0) drain_some(false);
      continue;
    }
    // Refused: nothing queued, and only because it does not fit.
    check(writer.size() == before);
    check(capacity - before < rfc4571::kLengthSize + length);
    if (writer.empty()) {
      // It never fits: the rest of the stream cannot be written through this writer.
      check(rfc4571::kLengthSize + length > capacity);
      consumed = at;
      break;
    }
    drain_some(true);
  }
  drain_some(true);
  check(writer.empty() && writer.size() == 0);
  check(written.size() == consumed);
  check(std::equal(written.begin(), written.end(), stream.begin()));
}

// Frames that cannot be framed (empty, over 65535 bytes) are refused whatever the room.
void check_unframeable() {
  static const std::uint8_t big[0x10000] = {};
  rfc4571::FrameWriter roomy(0x10000 + 16);
  check(!roomy.push({}, {}, 0));
  check(!roomy.push(std::span<const std::uint8_t>(big, sizeof(big))));
  check(!roomy.push({}, std::span<const std::uint8_t>(big, 0x8000), 0x8000));
  check(roomy.empty());
  check(roomy.push(std::span<const std::uint8_t>(big, 0xFFFF)));
  check(roomy.size() == rfc4571::kLengthSize + 0xFFFF);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = (check_unframeable(), true);
  (void)once;
  if (size < kHeader) return 0;
  const std::size_t requested = ((static_cast<std::size_t>(data[0]) << 8) | data[1]) + 1;
  Splits splits((static_cast<std::uint32_t>(data[2]) << 8) | data[3]);
  const std::size_t capacity = ((static_cast<std::size_t>(data[4]) << 8) | data[5]) + 1;
  const std::span<const std::uint8_t> stream(data + kHeader, size - kHeader);

  rfc4571::FrameReader reader(requested);
  const std::size_t max_frame = std::min<std::size_t>(requested, 0xFFFF);
  check(reader.max_frame() == max_frame);
  check(reader.buffered() == 0);

  std::size_t fed = 0;       // stream bytes committed to the reader
  std::size_t consumed = 0;  // stream bytes taken as frames (with their length fields)
  bool broken = false;
  while (fed < stream.size() && !broken) {
    auto room = reader.writable();
    // After the frames of every read were taken there is room: an empty span would make recv()
    // return 0, which the listener takes for the peer closing.
    check(!room.empty());
    const std::size_t n = splits.chunk(std::min(room.size(), stream.size() - fed));
    std::memcpy(room.data(), stream.data() + fed, n);
    reader.commit(n);
    fed += n;
    check(reader.buffered() == fed - consumed);

    for (;;) {
      const auto next = reader.next();
      const std::size_t left = fed - consumed;
      if (next.status == rfc4571::FrameReader::Status::need_more) {
        check(next.frame.empty());
        // Only when the buffered bytes do not hold a whole frame.
        if (left >= rfc4571::kLengthSize) {
          const std::size_t length = length_at(stream, consumed);
          check(length != 0 && length <= max_frame);
          check(left < rfc4571::kLengthSize + length);
        }
        break;
      }
      check(left >= rfc4571::kLengthSize);
      const std::size_t length = length_at(stream, consumed);
      if (next.status == rfc4571::FrameReader::Status::zero_length) {
        check(length == 0 && next.frame.empty());
        broken = true;
        break;
      }
      if (next.status == rfc4571::FrameReader::Status::oversize) {
        check(length > max_frame && next.frame.empty());
        broken = true;
        break;
      }
      check(next.status == rfc4571::FrameReader::Status::frame);
      check(!next.frame.empty() && next.frame.size() <= max_frame);
      check(next.frame.size() == length);
      check(left >= rfc4571::kLengthSize + length);
      check(std::equal(next.frame.begin(), next.frame.end(),
                       stream.begin() + static_cast<std::ptrdiff_t>(consumed + 2)));
      consumed += rfc4571::kLengthSize + length;
      check(reader.buffered() == fed - consumed);
    }
    // The listener compacts after every read; sometimes skip it so writable() has to.
    if (splits.next() % 8 != 0) reader.compact();
    check(reader.buffered() == fed - consumed);
  }

  check_writer(stream, consumed, capacity, splits);
  return 0;
}
