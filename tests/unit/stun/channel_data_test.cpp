// ChannelData parsing and building (RFC 8656 §12.4, §12.5).
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "podium/stun/channel_data.hpp"

namespace podium::stun {
namespace {

TEST(ChannelData, ParsesDatagram) {
  const std::vector<uint8_t> frame = {0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c'};
  auto parsed = parse_channel_data(frame);
  ASSERT_TRUE(parsed.ok()) << parsed.error().text;
  EXPECT_EQ(parsed->channel, 0x4001);
  EXPECT_EQ(parsed->payload.size(), 3u);
  EXPECT_EQ(parsed->payload[2], 'c');
  EXPECT_EQ(parsed->frame_size, 7u);
}

TEST(ChannelData, DatagramMayCarryPadding) {
  const std::vector<uint8_t> frame = {0x4f, 0xff, 0x00, 0x03, 'a', 'b', 'c', 0};
  auto parsed = parse_channel_data(frame);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->channel, 0x4fff);
  EXPECT_EQ(parsed->payload.size(), 3u);
}

TEST(ChannelData, StreamNeedsPadding) {
  const std::vector<uint8_t> unpadded = {0x40, 0x00, 0x00, 0x03, 'a', 'b', 'c'};
  EXPECT_STREQ(parse_channel_data(unpadded, Framing::kStream).error().text,
               "ChannelData padding truncated");
  std::vector<uint8_t> padded = unpadded;
  padded.push_back(0);
  padded.insert(padded.end(), {0x40, 0x00});  // start of the next frame
  auto parsed = parse_channel_data(padded, Framing::kStream);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->frame_size, 8u);
  EXPECT_EQ(parsed->payload.size(), 3u);
}

TEST(ChannelData, EmptyPayload) {
  const std::vector<uint8_t> frame = {0x40, 0x00, 0x00, 0x00};
  auto parsed = parse_channel_data(frame, Framing::kStream);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->payload.empty());
  EXPECT_EQ(parsed->frame_size, 4u);
}

std::string error_of(const std::vector<uint8_t>& bytes) {
  auto parsed = parse_channel_data(bytes);
  return parsed.ok() ? "ok" : parsed.error().text;
}

TEST(ChannelData, Rejections) {
  EXPECT_EQ(error_of(std::vector<uint8_t>{0x40, 0x00, 0x00}), "ChannelData header truncated");
  // 0x5000-0x7FFF (RFC 5766's range) parse; encoding them is refused below.
  const std::vector<uint8_t> legacy_low{0x50, 0x00, 0x00, 0x00};
  const std::vector<uint8_t> legacy_high{0x7f, 0xff, 0x00, 0x00};
  EXPECT_TRUE(parse_channel_data(legacy_low).ok());
  EXPECT_TRUE(parse_channel_data(legacy_high).ok());
  EXPECT_EQ(error_of(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x00}), "not a ChannelData message");
  EXPECT_EQ(error_of(std::vector<uint8_t>{0x80, 0x01, 0x00, 0x00}), "not a ChannelData message");
  EXPECT_EQ(error_of(std::vector<uint8_t>{0x40, 0x01, 0x00, 0x05, 1, 2, 3, 4}),
            "ChannelData payload truncated");
  EXPECT_EQ(error_of({0x40, 0x01, 0xff, 0xff, 1, 2}), "ChannelData payload truncated");
}

TEST(ChannelData, BuildsHeaderInPlace) {
  std::array<uint8_t, 16> buffer{};
  buffer.fill(0xEE);
  buffer[4] = 'h';
  buffer[5] = 'i';
  auto frame = finish_channel_data(buffer, 0x4123, 2, Framing::kStream);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(std::vector<uint8_t>(frame->begin(), frame->end()),
            (std::vector<uint8_t>{0x41, 0x23, 0x00, 0x02, 'h', 'i', 0, 0}));
  EXPECT_EQ(buffer[8], 0xEE);  // nothing written past the frame
  auto datagram = finish_channel_data(buffer, 0x4123, 2);
  ASSERT_TRUE(datagram.ok());
  EXPECT_EQ(datagram->size(), 6u);
}

TEST(ChannelData, EncodeRoundTripAndLimits) {
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  std::array<uint8_t, 12> buffer{};
  for (auto framing : {Framing::kDatagram, Framing::kStream}) {
    auto frame = encode_channel_data(buffer, 0x4000, payload, framing);
    ASSERT_TRUE(frame.ok());
    auto parsed = parse_channel_data(*frame, framing);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(std::vector<uint8_t>(parsed->payload.begin(), parsed->payload.end()), payload);
    EXPECT_EQ(parsed->frame_size, frame->size());
  }
  std::array<uint8_t, 9> exact{};
  EXPECT_TRUE(encode_channel_data(exact, 0x4000, payload).ok());
  EXPECT_STREQ(encode_channel_data(exact, 0x4000, payload, Framing::kStream).error().text,
               "buffer too small for ChannelData");
  std::array<uint8_t, 8> small{};
  EXPECT_FALSE(encode_channel_data(small, 0x4000, payload).ok());
  EXPECT_STREQ(encode_channel_data(buffer, 0x5000, payload).error().text,
               "channel number out of range");
  EXPECT_FALSE(encode_channel_data(buffer, 0x3fff, payload).ok());
  std::vector<uint8_t> big(70000);
  EXPECT_STREQ(finish_channel_data(big, 0x4000, 65536).error().text,
               "ChannelData payload too large");
}

}  // namespace
}  // namespace podium::stun
