// Stream framing (RFC 8489 §6.2.2, RFC 8656 §12.5) and RFC 7983 demultiplexing.
#include <gtest/gtest.h>

#include <vector>

#include "podium/stun/channel_data.hpp"
#include "podium/stun/demux.hpp"
#include "podium/stun/framing.hpp"
#include "podium/stun/message.hpp"
#include "test_vectors.hpp"

namespace podium::stun {
namespace {

using test::bytes_of;

TEST(Framing, NeedsFourBytes) {
  const auto stun = bytes_of(test::kRfc5769Request);
  for (size_t n = 0; n < 4; ++n) {
    auto length = next_frame_length(std::span(stun).first(n));
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(*length, 0u);
  }
  auto length = next_frame_length(std::span(stun).first(4));
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(*length, stun.size());
}

TEST(Framing, StunMessage) {
  auto stun = bytes_of(test::kRfc5769Ipv4Response);
  stun.insert(stun.end(), {0x40, 0x00});  // following bytes do not matter
  auto length = next_frame_length(stun);
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(*length, sizeof(test::kRfc5769Ipv4Response));
}

TEST(Framing, ChannelDataIsPadded) {
  EXPECT_EQ(*next_frame_length(std::vector<uint8_t>{0x40, 0x00, 0x00, 0x00}), 4u);
  EXPECT_EQ(*next_frame_length(std::vector<uint8_t>{0x40, 0x00, 0x00, 0x01}), 8u);
  EXPECT_EQ(*next_frame_length(std::vector<uint8_t>{0x4f, 0xff, 0x00, 0x04}), 8u);
  EXPECT_EQ(*next_frame_length(std::vector<uint8_t>{0x40, 0x00, 0xff, 0xff}), 4u + 65536u);
}

TEST(Framing, Rejections) {
  EXPECT_STREQ(next_frame_length(std::vector<uint8_t>{0x80, 0x00, 0x00, 0x00}).error().text,
               "neither STUN nor ChannelData");
  EXPECT_STREQ(next_frame_length(std::vector<uint8_t>{0xc0, 0x00, 0x00, 0x00}).error().text,
               "neither STUN nor ChannelData");
  EXPECT_EQ(*next_frame_length(std::vector<uint8_t>{0x50, 0x00, 0x00, 0x00}), 4u);
  EXPECT_STREQ(next_frame_length(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x05}).error().text,
               "length not a multiple of 4");
  EXPECT_STREQ(
      next_frame_length(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x43})
          .error()
          .text,
      "bad magic cookie");
  // Oversize against a configured maximum.
  const std::vector<uint8_t> big = {0x00, 0x01, 0x08, 0x00, 0x21, 0x12, 0xa4, 0x42};
  EXPECT_EQ(*next_frame_length(big), 20u + 0x800u);
  EXPECT_STREQ(next_frame_length(big, 1500).error().text, "STUN message too large");
  EXPECT_TRUE(next_frame_length(big, 20 + 0x800).ok());
}

TEST(Framing, SplitsAMixedStream) {
  std::vector<uint8_t> stream = bytes_of(test::kRfc5769Request);
  const std::vector<uint8_t> channel = {0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c', 0x00};
  stream.insert(stream.end(), channel.begin(), channel.end());
  const auto response = bytes_of(test::kRfc5769Ipv6Response);
  stream.insert(stream.end(), response.begin(), response.end());

  // Feed one byte at a time, as a slow TCP peer would.
  std::vector<uint8_t> buffered;
  std::vector<size_t> frames;
  for (uint8_t byte : stream) {
    buffered.push_back(byte);
    auto needed = next_frame_length(buffered);
    ASSERT_TRUE(needed.ok()) << needed.error().text;
    if (*needed != 0 && buffered.size() >= *needed) {
      const auto frame = std::span(buffered).first(*needed);
      if (classify_packet(frame) == PacketKind::kStun) {
        EXPECT_TRUE(MessageView::parse(frame).ok());
      } else {
        EXPECT_TRUE(parse_channel_data(frame, Framing::kStream).ok());
      }
      frames.push_back(*needed);
      buffered.erase(buffered.begin(), buffered.begin() + static_cast<long>(*needed));
    }
  }
  EXPECT_TRUE(buffered.empty());
  EXPECT_EQ(frames, (std::vector<size_t>{108, 8, 92}));
}

TEST(Demux, FirstByteRanges) {
  EXPECT_EQ(classify_first_byte(0), PacketKind::kStun);
  EXPECT_EQ(classify_first_byte(3), PacketKind::kStun);
  EXPECT_EQ(classify_first_byte(4), PacketKind::kUnknown);
  EXPECT_EQ(classify_first_byte(16), PacketKind::kZrtp);
  EXPECT_EQ(classify_first_byte(20), PacketKind::kDtls);
  EXPECT_EQ(classify_first_byte(63), PacketKind::kDtls);
  EXPECT_EQ(classify_first_byte(64), PacketKind::kTurnChannel);
  EXPECT_EQ(classify_first_byte(79), PacketKind::kTurnChannel);
  EXPECT_EQ(classify_first_byte(80), PacketKind::kUnknown);
  EXPECT_EQ(classify_first_byte(127), PacketKind::kUnknown);
  EXPECT_EQ(classify_first_byte(128), PacketKind::kRtp);
  EXPECT_EQ(classify_first_byte(191), PacketKind::kRtp);
  EXPECT_EQ(classify_first_byte(192), PacketKind::kUnknown);
  EXPECT_EQ(classify_packet({}), PacketKind::kUnknown);
  static_assert(classify_first_byte(22) == PacketKind::kDtls);
}

TEST(Demux, RtcpAndStunChecks) {
  EXPECT_TRUE(is_rtcp(std::vector<uint8_t>{0x80, 200}));   // sender report
  EXPECT_FALSE(is_rtcp(std::vector<uint8_t>{0x80, 111}));  // RTP, payload type 111
  EXPECT_FALSE(is_rtcp(std::vector<uint8_t>{0x80}));
  EXPECT_TRUE(looks_like_stun(test::kRfc5769Request));
  auto bad = bytes_of(test::kRfc5769Request);
  bad[4] ^= 1;
  EXPECT_FALSE(looks_like_stun(bad));
  bad = bytes_of(test::kRfc5769Request);
  bad.push_back(0);
  EXPECT_FALSE(looks_like_stun(bad));
}

}  // namespace
}  // namespace podium::stun
