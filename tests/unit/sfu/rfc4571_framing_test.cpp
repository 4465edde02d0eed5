// RFC 4571 framing as the SFU's ICE-TCP connections use it (transport/rfc4571_framing.hpp):
// frames split across reads, several frames in one read, the length limits, and the bounded
// write ring (wrap-around, refusal when full).
#include "transport/rfc4571_framing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace podium::sfu::rfc4571 {
namespace {

using Status = FrameReader::Status;

std::vector<std::uint8_t> framed(const std::string& packet) {
  std::vector<std::uint8_t> out(2 + packet.size());
  out[0] = static_cast<std::uint8_t>(packet.size() >> 8);
  out[1] = static_cast<std::uint8_t>(packet.size());
  if (!packet.empty()) std::memcpy(out.data() + 2, packet.data(), packet.size());
  return out;
}

// Copies `bytes` into the reader as one read (at most what it has room for); returns how many.
std::size_t feed(FrameReader& reader, std::span<const std::uint8_t> bytes) {
  auto room = reader.writable();
  const std::size_t n = std::min(room.size(), bytes.size());
  std::memcpy(room.data(), bytes.data(), n);
  reader.commit(n);
  return n;
}

std::string text(std::span<const std::uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

TEST(Rfc4571Reader, FrameSplitAcrossReads) {
  FrameReader reader(1500);
  const auto bytes = framed("hello, ICE-TCP");
  // The length field alone, then half of its first byte's worth: nothing yet.
  feed(reader, std::span(bytes).first(1));
  EXPECT_EQ(reader.next().status, Status::need_more);
  feed(reader, std::span(bytes).subspan(1, 5));
  EXPECT_EQ(reader.next().status, Status::need_more);
  reader.compact();
  feed(reader, std::span(bytes).subspan(6));
  auto next = reader.next();
  ASSERT_EQ(next.status, Status::frame);
  EXPECT_EQ(text(next.frame), "hello, ICE-TCP");
  EXPECT_EQ(reader.next().status, Status::need_more);
  reader.compact();
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(Rfc4571Reader, SeveralFramesInOneReadAndAPartialOne) {
  FrameReader reader(1500);
  std::vector<std::uint8_t> bytes;
  for (const char* packet : {"one", "two two", "three three three"}) {
    auto f = framed(packet);
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  const auto fourth = framed("four");
  bytes.insert(bytes.end(), fourth.begin(), fourth.begin() + 3);
  ASSERT_EQ(feed(reader, bytes), bytes.size());
  std::vector<std::string> got;
  for (auto next = reader.next(); next.status == Status::frame; next = reader.next()) {
    got.push_back(text(next.frame));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two two", "three three three"}));
  reader.compact();
  EXPECT_EQ(reader.buffered(), 3u);
  feed(reader, std::span(fourth).subspan(3));
  auto next = reader.next();
  ASSERT_EQ(next.status, Status::frame);
  EXPECT_EQ(text(next.frame), "four");
}

TEST(Rfc4571Reader, FramesAreWritableInPlace) {
  // The SFU decrypts SRTP in place: the frame is a mutable view into the reader's buffer.
  FrameReader reader(64);
  feed(reader, framed("abc"));
  auto next = reader.next();
  ASSERT_EQ(next.status, Status::frame);
  next.frame[0] = 'x';
  EXPECT_EQ(text(next.frame), "xbc");
}

TEST(Rfc4571Reader, ZeroLengthIsAFramingError) {
  FrameReader reader(1500);
  const std::uint8_t bytes[] = {0, 0, 0x16};
  feed(reader, bytes);
  EXPECT_EQ(reader.next().status, Status::zero_length);
}

TEST(Rfc4571Reader, OversizeIsAFramingError) {
  FrameReader reader(1500);
  const std::uint8_t at_limit[] = {0x05, 0xDC};  // 1500: fine, waits for the bytes
  feed(reader, at_limit);
  EXPECT_EQ(reader.next().status, Status::need_more);

  FrameReader small(1500);
  const std::uint8_t over[] = {0x05, 0xDD};  // 1501
  feed(small, over);
  EXPECT_EQ(small.next().status, Status::oversize);

  FrameReader largest(100000);  // capped at the 16-bit length field
  EXPECT_EQ(largest.max_frame(), 65535u);
  const std::uint8_t max[] = {0xFF, 0xFF};
  feed(largest, max);
  EXPECT_EQ(largest.next().status, Status::need_more);
}

TEST(Rfc4571Reader, ManyMaximumFramesThroughSmallReads) {
  // Frames of the largest size, delivered in 1000-byte reads: the buffer never overflows and
  // every frame comes out whole and in order.
  constexpr std::size_t kMax = 4000;
  FrameReader reader(kMax);
  std::vector<std::uint8_t> stream;
  for (int i = 0; i < 10; ++i) {
    stream.push_back(static_cast<std::uint8_t>(kMax >> 8));
    stream.push_back(static_cast<std::uint8_t>(kMax & 0xFF));
    stream.insert(stream.end(), kMax, static_cast<std::uint8_t>('a' + i));
  }
  std::vector<char> firsts;
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t n = feed(
        reader, std::span(stream).subspan(at, std::min<std::size_t>(1000, stream.size() - at)));
    ASSERT_GT(n, 0u);
    at += n;
    for (auto next = reader.next(); next.status == Status::frame; next = reader.next()) {
      ASSERT_EQ(next.frame.size(), kMax);
      EXPECT_TRUE(std::all_of(next.frame.begin(), next.frame.end(),
                              [&](std::uint8_t b) { return b == next.frame[0]; }));
      firsts.push_back(static_cast<char>(next.frame[0]));
    }
    reader.compact();
  }
  EXPECT_EQ(std::string(firsts.begin(), firsts.end()), "abcdefghij");
}

std::vector<std::uint8_t> drain(FrameWriter& writer, std::size_t at_most = SIZE_MAX) {
  std::vector<std::uint8_t> out;
  iovec iov[2];
  const int n = writer.pending(iov);
  for (int i = 0; i < n; ++i) {
    const auto* p = static_cast<const std::uint8_t*>(iov[i].iov_base);
    out.insert(out.end(), p, p + iov[i].iov_len);
  }
  if (out.size() > at_most) out.resize(at_most);
  writer.consume(out.size());
  return out;
}

TEST(Rfc4571Writer, PrefixesTheLengthAndJoinsTheParts) {
  FrameWriter writer(64);
  const std::uint8_t head[] = {0x80, 0x6F};
  const std::uint8_t payload[] = {1, 2, 3};
  ASSERT_TRUE(writer.push(head, payload, 2));
  EXPECT_EQ(writer.size(), 2u + 7u);
  EXPECT_EQ(drain(writer), (std::vector<std::uint8_t>{0, 7, 0x80, 0x6F, 1, 2, 3, 0, 0}));
  EXPECT_TRUE(writer.empty());
}

TEST(Rfc4571Writer, RefusesWhatDoesNotFitAndWraps) {
  FrameWriter writer(20);
  const std::vector<std::uint8_t> eight(8, 0xAA);
  ASSERT_TRUE(writer.push(eight));   // 10 bytes
  ASSERT_TRUE(writer.push(eight));   // 20 bytes: full
  EXPECT_FALSE(writer.push(eight));  // dropped, the queue unchanged
  EXPECT_FALSE(writer.push({}));     // an empty packet is never framed
  EXPECT_EQ(writer.size(), 20u);
  // A partial write of 13 bytes, then a frame that wraps around the end of the ring.
  auto first = drain(writer, 13);
  EXPECT_EQ(first.size(), 13u);
  const std::vector<std::uint8_t> nine{1, 2, 3, 4, 5, 6, 7, 8, 9};
  ASSERT_TRUE(writer.push(nine));  // 7 left + 11 = 18
  iovec iov[2];
  EXPECT_EQ(writer.pending(iov), 2) << "the queued bytes wrap";
  auto rest = drain(writer);
  // The 7 bytes left of frame 2, then frame 3.
  const std::vector<std::uint8_t> expected{0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0, 9,
                                           1,    2,    3,    4,    5,    6,    7,    8, 9};
  EXPECT_EQ(rest, expected);
  EXPECT_TRUE(writer.empty());
}

TEST(Rfc4571Writer, RefusesFramesOverTheLengthField) {
  FrameWriter writer(70000);
  const std::vector<std::uint8_t> big(65536, 0);
  EXPECT_FALSE(writer.push(big));
  EXPECT_TRUE(writer.push(std::span(big).first(65535)));
}

TEST(Rfc4571, WriterOutputReadsBack) {
  FrameWriter writer(4096);
  FrameReader reader(1500);
  const std::vector<std::string> packets{"stun", std::string(1500, 'r'), "dtls"};
  for (const auto& p : packets) {
    ASSERT_TRUE(writer.push({reinterpret_cast<const std::uint8_t*>(p.data()), p.size()}));
  }
  auto bytes = drain(writer);
  std::vector<std::string> got;
  for (std::size_t at = 0; at < bytes.size();) {
    at += feed(reader, std::span(bytes).subspan(at, std::min<std::size_t>(7, bytes.size() - at)));
    for (auto next = reader.next(); next.status == Status::frame; next = reader.next()) {
      got.push_back(text(next.frame));
    }
    reader.compact();
  }
  EXPECT_EQ(got, packets);
}

}  // namespace
}  // namespace podium::sfu::rfc4571
