// RTP parsing and one-byte header extensions (RFC 3550 section 5.1, RFC 8285 section 4.2,
// RFC 6464), RTCP walking and writing (RFC 3550 section 6.4), and reception statistics
// (RFC 3550 appendix A.1, A.3, A.8) as the forwarding path uses them.
#include "rtp/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podium::sfu::rtp {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::string_view text(const Reason& reason) {
  return reason.text;
}

// A builder for RTP packets, byte by byte as RFC 3550 section 5.1 lays them out.
struct Packet {
  bool marker = false;
  std::uint8_t payload_type = 111;
  std::uint16_t sequence = 0x1234;
  std::uint32_t timestamp = 0xA0B0C0D0;
  std::uint32_t ssrc = 0x11223344;
  std::vector<std::uint32_t> csrcs;
  std::optional<std::uint16_t> extension_profile;
  Bytes extension;  // the elements, padded by the builder to 32 bits
  Bytes payload = {1, 2, 3, 4, 5, 6, 7, 8};
  std::uint8_t padding = 0;  // padding octets, the last one counting them

  Bytes build() const {
    Bytes p(12);
    p[0] = static_cast<std::uint8_t>(0x80 | (padding ? 0x20 : 0) | (extension_profile ? 0x10 : 0) |
                                     csrcs.size());
    p[1] = static_cast<std::uint8_t>((marker ? 0x80 : 0) | payload_type);
    store16(&p[2], sequence);
    store32(&p[4], timestamp);
    store32(&p[8], ssrc);
    for (std::uint32_t csrc : csrcs) {
      p.resize(p.size() + 4);
      store32(&p[p.size() - 4], csrc);
    }
    if (extension_profile) {
      Bytes elements = extension;
      while (elements.size() % 4) elements.push_back(0);
      p.resize(p.size() + 4);
      store16(&p[p.size() - 4], *extension_profile);
      store16(&p[p.size() - 2], static_cast<std::uint16_t>(elements.size() / 4));
      p.insert(p.end(), elements.begin(), elements.end());
    }
    p.insert(p.end(), payload.begin(), payload.end());
    if (padding) {
      for (int i = 0; i + 1 < padding; ++i) p.push_back(0);
      p.push_back(padding);
    }
    return p;
  }
};

// ---------------------------------------------------------------------------------------------
// parse_rtp

TEST(ParseRtp, MinimalPacket) {
  Packet packet;
  packet.marker = true;
  const Bytes bytes = packet.build();
  auto header = parse_rtp(bytes);
  ASSERT_TRUE(header.ok()) << text(header.error());
  EXPECT_TRUE(header->marker);
  EXPECT_EQ(header->payload_type, 111);
  EXPECT_EQ(header->sequence, 0x1234);
  EXPECT_EQ(header->timestamp, 0xA0B0C0D0u);
  EXPECT_EQ(header->ssrc, 0x11223344u);
  EXPECT_EQ(header->header_size, 12u);
  EXPECT_EQ(header->payload_size, 8u);
  EXPECT_EQ(header->extension_profile, 0);
  EXPECT_TRUE(header->extensions.empty());
}

TEST(ParseRtp, HeaderOnlyPacketHasAnEmptyPayload) {
  Packet packet;
  packet.payload.clear();
  auto header = parse_rtp(packet.build());
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->header_size, 12u);
  EXPECT_EQ(header->payload_size, 0u);
}

TEST(ParseRtp, CsrcsExtensionAndPadding) {
  Packet packet;
  packet.csrcs = {0xCAFE0001, 0xCAFE0002, 0xCAFE0003};
  packet.extension_profile = kOneByteProfile;
  packet.extension = {0x10, 0x85, 0x31, 0xAA, 0xBB};  // id 1 (1 byte), id 3 (2 bytes) + 3 pad
  packet.payload = Bytes(40, 0x5A);
  packet.padding = 4;
  const Bytes bytes = packet.build();
  auto header = parse_rtp(bytes);
  ASSERT_TRUE(header.ok()) << text(header.error());
  EXPECT_EQ(header->header_size, 12u + 12u + 4u + 8u);
  EXPECT_EQ(header->payload_size, 40u) << "padding is not payload";
  EXPECT_EQ(header->header_size + header->payload_size + 4, bytes.size());
  EXPECT_EQ(header->extension_profile, kOneByteProfile);
  ASSERT_EQ(header->extensions.size(), 8u);
  EXPECT_EQ(header->extensions.data(), bytes.data() + 28) << "a view into the packet";
  EXPECT_EQ(header->extensions[0], 0x10);
  // The payload starts where the header ends.
  EXPECT_EQ(bytes[header->header_size], 0x5A);
}

TEST(ParseRtp, PaddingMayCoverTheWholePayload) {
  Packet packet;
  packet.payload = {9, 9, 9};
  packet.padding = 1;  // just the count octet
  auto one = parse_rtp(packet.build());
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->payload_size, 3u);

  packet.payload.clear();
  packet.padding = 8;
  auto all = parse_rtp(packet.build());
  ASSERT_TRUE(all.ok()) << text(all.error());
  EXPECT_EQ(all->payload_size, 0u);
}

TEST(ParseRtp, EmptyExtensionBlock) {
  Packet packet;
  packet.extension_profile = kOneByteProfile;  // zero words of elements
  auto header = parse_rtp(packet.build());
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->header_size, 16u);
  EXPECT_TRUE(header->extensions.empty());
  EXPECT_EQ(header->payload_size, 8u);
}

TEST(ParseRtp, ShorterThanTheFixedHeader) {
  Bytes bytes = Packet{}.build();
  for (std::size_t size : {0u, 1u, 11u}) {
    auto header = parse_rtp(std::span(bytes).first(size));
    ASSERT_FALSE(header.ok()) << size;
    EXPECT_EQ(text(header.error()), "shorter than an RTP header");
  }
}

TEST(ParseRtp, VersionMustBeTwo) {
  for (std::uint8_t version : {0, 1, 3}) {
    Bytes bytes = Packet{}.build();
    bytes[0] = static_cast<std::uint8_t>((bytes[0] & 0x3F) | version << 6);
    auto header = parse_rtp(bytes);
    ASSERT_FALSE(header.ok());
    EXPECT_EQ(text(header.error()), "RTP version is not 2");
  }
}

TEST(ParseRtp, CsrcListBeyondThePacket) {
  Packet packet;
  packet.csrcs = {1, 2};
  packet.payload.clear();
  Bytes bytes = packet.build();  // exactly 20 bytes: fine
  ASSERT_TRUE(parse_rtp(bytes).ok());
  bytes[0] = static_cast<std::uint8_t>((bytes[0] & 0xF0) | 3);  // claims 3 CSRCs
  auto header = parse_rtp(bytes);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(text(header.error()), "CSRC list beyond the packet");
  bytes[0] = 0x8F;  // 15 CSRCs
  EXPECT_EQ(text(parse_rtp(bytes).error()), "CSRC list beyond the packet");
}

TEST(ParseRtp, ExtensionHeaderBeyondThePacket) {
  Packet packet;
  packet.payload = {0xBE, 0xDE};  // only half of the profile/length word
  Bytes bytes = packet.build();
  bytes[0] |= 0x10;
  auto header = parse_rtp(bytes);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(text(header.error()), "extension header beyond the packet");
}

TEST(ParseRtp, ExtensionBeyondThePacket) {
  Packet packet;
  packet.extension_profile = kOneByteProfile;
  packet.extension = {0x10, 0x01, 0, 0};
  packet.payload.clear();
  Bytes bytes = packet.build();
  ASSERT_TRUE(parse_rtp(bytes).ok());
  store16(&bytes[14], 2);  // two words claimed, one present
  auto header = parse_rtp(bytes);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(text(header.error()), "extension beyond the packet");
  store16(&bytes[14], 0xFFFF);
  EXPECT_EQ(text(parse_rtp(bytes).error()), "extension beyond the packet");
}

TEST(ParseRtp, PaddingCountOfZero) {
  Packet packet;
  Bytes bytes = packet.build();
  bytes[0] |= 0x20;
  bytes.back() = 0;
  auto header = parse_rtp(bytes);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(text(header.error()), "bad RTP padding");
}

TEST(ParseRtp, PaddingLargerThanThePayload) {
  Packet packet;
  packet.payload = {1, 2, 3, 4};
  Bytes bytes = packet.build();
  bytes[0] |= 0x20;
  bytes.back() = 5;  // 4 payload bytes after the header
  auto header = parse_rtp(bytes);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(text(header.error()), "bad RTP padding");
  // Padding may not eat into the extension block either.
  Packet with_extension;
  with_extension.extension_profile = kOneByteProfile;
  with_extension.extension = {0x10, 0x7F, 0, 0};
  with_extension.payload = {0, 0, 0, 2};
  bytes = with_extension.build();
  bytes[0] |= 0x20;
  bytes.back() = 6;
  EXPECT_EQ(text(parse_rtp(bytes).error()), "bad RTP padding");
  bytes.back() = 4;
  EXPECT_TRUE(parse_rtp(bytes).ok());
}

TEST(ParseRtp, HeaderOnlyPacketWithPaddingBitIsRefused) {
  // P set but no octet after the header to count the padding.
  Bytes bytes = Packet{}.build();
  bytes.resize(12);
  bytes[0] |= 0x20;
  bytes[11] = 1;  // the SSRC's last byte must not be read as a padding count
  auto header = parse_rtp(bytes);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(text(header.error()), "bad RTP padding");
}

// ---------------------------------------------------------------------------------------------
// One-byte header extensions and the audio level

RtpHeader with_elements(const Bytes& elements, Bytes& storage,
                        std::uint16_t profile = kOneByteProfile) {
  Packet packet;
  packet.extension_profile = profile;
  packet.extension = elements;
  storage = packet.build();
  auto header = parse_rtp(storage);
  EXPECT_TRUE(header.ok());
  return *header;
}

TEST(OneByteExtension, FindsElementsAcrossPaddingBytes) {
  Bytes storage;
  // id 1 L=0 (1 byte), two padding bytes, id 3 L=2 (3 bytes), id 14 L=15 (16 bytes).
  Bytes elements = {0x10, 0xAA, 0x00, 0x00, 0x32, 0x01, 0x02, 0x03, 0xEF};
  for (int i = 0; i < 16; ++i) elements.push_back(static_cast<std::uint8_t>(0x40 + i));
  const RtpHeader header = with_elements(elements, storage);

  auto one = find_one_byte_extension(header, 1);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(Bytes(one->begin(), one->end()), Bytes{0xAA});
  auto three = find_one_byte_extension(header, 3);
  ASSERT_TRUE(three.has_value());
  EXPECT_EQ(Bytes(three->begin(), three->end()), (Bytes{0x01, 0x02, 0x03}));
  auto fourteen = find_one_byte_extension(header, 14);
  ASSERT_TRUE(fourteen.has_value());
  ASSERT_EQ(fourteen->size(), 16u);
  EXPECT_EQ((*fourteen)[0], 0x40);
  EXPECT_EQ((*fourteen)[15], 0x4F);
  EXPECT_FALSE(find_one_byte_extension(header, 2).has_value());
}

TEST(OneByteExtension, IdFifteenStopsTheWalk) {
  Bytes storage;
  // id 2, then the reserved id 15, then what would be id 3: never reached.
  const RtpHeader header = with_elements({0x20, 0x77, 0xF0, 0x30, 0x66}, storage);
  EXPECT_TRUE(find_one_byte_extension(header, 2).has_value());
  EXPECT_FALSE(find_one_byte_extension(header, 3).has_value());
}

TEST(OneByteExtension, InvalidIdsAndOtherProfiles) {
  Bytes storage;
  const RtpHeader header = with_elements({0x10, 0x01}, storage);
  EXPECT_FALSE(find_one_byte_extension(header, 0).has_value());
  EXPECT_FALSE(find_one_byte_extension(header, 15).has_value());
  // The two-byte form (0x1000, RFC 8285 section 4.3) and any other profile are not read.
  Bytes other;
  const RtpHeader two_byte = with_elements({0x10, 0x01}, other, 0x1000);
  EXPECT_FALSE(find_one_byte_extension(two_byte, 1).has_value());
  // No extension block at all.
  Bytes plain = Packet{}.build();
  auto none = parse_rtp(plain);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(find_one_byte_extension(*none, 1).has_value());
}

TEST(OneByteExtension, TruncatedElementIsNotReturned) {
  Bytes storage;
  // id 4 claims 4 bytes (L=3) but the block (one word) has 3 after it.
  const RtpHeader header = with_elements({0x43, 0x01, 0x02, 0x03}, storage);
  EXPECT_FALSE(find_one_byte_extension(header, 4).has_value());
}

TEST(AudioLevel, ReadsLevelAndVoiceFlag) {
  Bytes storage;
  const RtpHeader header = with_elements({0x30, 0x80 | 0x25, 0x50, 0x1F}, storage);
  auto loud = audio_level(header, 3);
  ASSERT_TRUE(loud.has_value());
  EXPECT_EQ(loud->level, 0x25);
  EXPECT_TRUE(loud->voice);
  auto quiet = audio_level(header, 5);
  ASSERT_TRUE(quiet.has_value());
  EXPECT_EQ(quiet->level, 0x1F);
  EXPECT_FALSE(quiet->voice);
  EXPECT_FALSE(audio_level(header, 1).has_value());
}

// ---------------------------------------------------------------------------------------------
// RTCP

TEST(Rtcp, SenderReportRoundTrip) {
  SenderInfo info{0xDEADBEEF, 0xE1E2E3E4F1F2F3F4ull, 123456789, 4242, 987654};
  std::array<std::uint8_t, 64> out{};
  ASSERT_EQ(write_sender_report(out, info), 28u);
  EXPECT_EQ(out[0], 0x80) << "V=2, no padding, no report blocks";
  EXPECT_EQ(out[1], kSenderReport);
  EXPECT_EQ(load16(&out[2]), 6) << "length in words minus one";
  auto parsed = parse_sender_report(std::span(out).first(28));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->ssrc, info.ssrc);
  EXPECT_EQ(parsed->ntp, info.ntp);
  EXPECT_EQ(parsed->rtp_timestamp, info.rtp_timestamp);
  EXPECT_EQ(parsed->packet_count, info.packet_count);
  EXPECT_EQ(parsed->octet_count, info.octet_count);
}

TEST(Rtcp, SenderReportWriterAndParserRefuse) {
  std::array<std::uint8_t, 27> small{};
  EXPECT_EQ(write_sender_report(small, SenderInfo{}), 0u);
  std::array<std::uint8_t, 28> sr{};
  ASSERT_EQ(write_sender_report(sr, SenderInfo{1, 2, 3, 4, 5}), 28u);
  EXPECT_FALSE(parse_sender_report(std::span(sr).first(27)).ok());
  sr[1] = kReceiverReport;
  EXPECT_FALSE(parse_sender_report(sr).ok());
}

TEST(Rtcp, ReceiverReportWithoutBlock) {
  std::array<std::uint8_t, 8> out{};
  ASSERT_EQ(write_receiver_report(out, 0x01020304, nullptr), 8u);
  EXPECT_EQ(out[0], 0x80);
  EXPECT_EQ(out[1], kReceiverReport);
  EXPECT_EQ(load16(&out[2]), 1);
  EXPECT_EQ(load32(&out[4]), 0x01020304u);
}

TEST(Rtcp, ReceiverReportBlockFields) {
  ReportBlock block;
  block.ssrc = 0xAABBCCDD;
  block.fraction_lost = 64;
  block.cumulative_lost = 1000;
  block.extended_highest_sequence = 0x0001FFFF;
  block.jitter = 321;
  block.last_sr = 0x12345678;
  block.delay_since_sr = 0x00018000;
  std::array<std::uint8_t, 32> out{};
  EXPECT_EQ(write_receiver_report(std::span(out).first(31), 7, &block), 0u) << "too small";
  ASSERT_EQ(write_receiver_report(out, 7, &block), 32u);
  EXPECT_EQ(out[0], 0x81) << "RC = 1";
  EXPECT_EQ(out[1], kReceiverReport);
  EXPECT_EQ(load16(&out[2]), 7);
  EXPECT_EQ(load32(&out[4]), 7u);
  EXPECT_EQ(load32(&out[8]), 0xAABBCCDDu);
  EXPECT_EQ(out[12], 64);
  EXPECT_EQ(load32(&out[12]) & 0xFFFFFF, 1000u);
  EXPECT_EQ(load32(&out[16]), 0x0001FFFFu);
  EXPECT_EQ(load32(&out[20]), 321u);
  EXPECT_EQ(load32(&out[24]), 0x12345678u);
  EXPECT_EQ(load32(&out[28]), 0x00018000u);
}

TEST(Rtcp, CumulativeLostIsA24BitSignedClamp) {
  auto encoded = [](std::int32_t lost) {
    ReportBlock block;
    block.fraction_lost = 0xFF;
    block.cumulative_lost = lost;
    std::array<std::uint8_t, 32> out{};
    EXPECT_EQ(write_receiver_report(out, 1, &block), 32u);
    EXPECT_EQ(out[12], 0xFF) << "the clamp must not touch fraction lost";
    return load32(&out[12]) & 0xFFFFFF;
  };
  EXPECT_EQ(encoded(0), 0u);
  EXPECT_EQ(encoded(-1), 0xFFFFFFu) << "duplicates make loss negative";
  EXPECT_EQ(encoded(-5), 0xFFFFFBu);
  EXPECT_EQ(encoded(0x7FFFFF), 0x7FFFFFu);
  EXPECT_EQ(encoded(0x800000), 0x7FFFFFu);
  EXPECT_EQ(encoded(100000000), 0x7FFFFFu);
  EXPECT_EQ(encoded(-0x800000), 0x800000u);
  EXPECT_EQ(encoded(-0x900000), 0x800000u);
  EXPECT_EQ(encoded(INT32_MIN), 0x800000u);
}

TEST(Rtcp, SdesCnamePadsToA32BitBoundary) {
  // Header (4) + SSRC (4) + type and length (2) + name + at least one null octet, rounded up.
  struct Case {
    std::size_t name;
    std::size_t size;
  };
  for (Case c : {Case{0, 12}, Case{1, 12}, Case{2, 16}, Case{5, 16}, Case{6, 20}, Case{16, 28},
                 Case{255, 268}}) {
    const std::string cname(c.name, 'c');
    std::array<std::uint8_t, 300> out;
    out.fill(0xEE);
    const std::size_t size = write_sdes_cname(
        out, 0x0A0B0C0D, {reinterpret_cast<const std::uint8_t*>(cname.data()), cname.size()});
    ASSERT_EQ(size, c.size) << "name of " << c.name;
    EXPECT_EQ(size % 4, 0u);
    EXPECT_EQ(out[0], 0x81) << "SC = 1";
    EXPECT_EQ(out[1], kSourceDescription);
    EXPECT_EQ((load16(&out[2]) + 1u) * 4, size);
    EXPECT_EQ(load32(&out[4]), 0x0A0B0C0Du);
    EXPECT_EQ(out[8], 1) << "CNAME";
    EXPECT_EQ(out[9], c.name);
    EXPECT_EQ(std::string(out.begin() + 10, out.begin() + 10 + static_cast<long>(c.name)), cname);
    ASSERT_GE(size, 11 + c.name);
    for (std::size_t i = 10 + c.name; i < size; ++i) EXPECT_EQ(out[i], 0) << "octet " << i;
    EXPECT_EQ(out[size], 0xEE) << "nothing written past the packet";
  }
}

TEST(Rtcp, SdesCnameLongerThan255IsTruncated) {
  const std::string cname(300, 'x');
  std::array<std::uint8_t, 400> out{};
  const std::size_t size =
      write_sdes_cname(out, 1, {reinterpret_cast<const std::uint8_t*>(cname.data()), cname.size()});
  EXPECT_EQ(size, 268u);
  EXPECT_EQ(out[9], 255);
}

TEST(Rtcp, SdesCnameTooSmallBufferWritesNothing) {
  const std::string cname = "abcdef";  // needs 20 bytes
  std::array<std::uint8_t, 32> out;
  out.fill(0xEE);
  for (std::size_t available : {0u, 4u, 16u, 19u}) {
    EXPECT_EQ(write_sdes_cname(std::span(out).first(available), 1,
                               {reinterpret_cast<const std::uint8_t*>(cname.data()), cname.size()}),
              0u)
        << available;
  }
  for (std::uint8_t b : out) EXPECT_EQ(b, 0xEE);
  EXPECT_EQ(write_sdes_cname(std::span(out).first(20), 1,
                             {reinterpret_cast<const std::uint8_t*>(cname.data()), cname.size()}),
            20u);
}

Bytes compound_sr_sdes() {
  Bytes out(28 + 20);
  EXPECT_EQ(write_sender_report(out, SenderInfo{0x5151, 1, 2, 3, 4}), 28u);
  const std::string cname = "podium";
  EXPECT_EQ(write_sdes_cname(std::span(out).subspan(28), 0x5151,
                             {reinterpret_cast<const std::uint8_t*>(cname.data()), cname.size()}),
            20u);
  return out;
}

TEST(RtcpWalker, WalksACompoundPacket) {
  const Bytes compound = compound_sr_sdes();
  RtcpWalker walker(compound);
  auto sr = walker.next();
  ASSERT_TRUE(sr.has_value());
  EXPECT_EQ(sr->header.type, kSenderReport);
  EXPECT_EQ(sr->header.count, 0);
  EXPECT_EQ(sr->header.size, 28u);
  EXPECT_EQ(sr->packet.data(), compound.data());
  EXPECT_EQ(sr->packet.size(), 28u);
  EXPECT_TRUE(parse_sender_report(sr->packet).ok());
  auto sdes = walker.next();
  ASSERT_TRUE(sdes.has_value());
  EXPECT_EQ(sdes->header.type, kSourceDescription);
  EXPECT_EQ(sdes->header.count, 1);
  EXPECT_EQ(sdes->header.size, 20u);
  EXPECT_EQ(sdes->packet.data(), compound.data() + 28);
  EXPECT_FALSE(walker.next().has_value());
  EXPECT_FALSE(walker.error());
  EXPECT_FALSE(walker.next().has_value()) << "stays at the end";
}

TEST(RtcpWalker, EmptyInputEndsWithoutError) {
  RtcpWalker walker({});
  EXPECT_FALSE(walker.next().has_value());
  EXPECT_FALSE(walker.error());
}

TEST(RtcpWalker, LengthBeyondTheDataIsAnError) {
  Bytes compound = compound_sr_sdes();
  store16(&compound[30], 5);  // SDES claims 24 bytes, 20 remain
  RtcpWalker walker(compound);
  ASSERT_TRUE(walker.next().has_value()) << "the SR before it is fine";
  EXPECT_FALSE(walker.next().has_value());
  EXPECT_TRUE(walker.error());
  EXPECT_FALSE(walker.next().has_value()) << "no resumption after an error";
}

TEST(RtcpWalker, TrailingBytesShorterThanAHeaderAreAnError) {
  Bytes compound = compound_sr_sdes();
  compound.push_back(0x80);
  compound.push_back(0xC8);
  RtcpWalker walker(compound);
  EXPECT_TRUE(walker.next().has_value());
  EXPECT_TRUE(walker.next().has_value());
  EXPECT_FALSE(walker.next().has_value());
  EXPECT_TRUE(walker.error());
}

TEST(RtcpWalker, WrongVersionIsAnError) {
  Bytes compound = compound_sr_sdes();
  compound[28] = 0x41;  // version 1
  RtcpWalker walker(compound);
  EXPECT_TRUE(walker.next().has_value());
  EXPECT_FALSE(walker.next().has_value());
  EXPECT_TRUE(walker.error());

  Bytes first_bad = compound_sr_sdes();
  first_bad[0] = 0x00;
  RtcpWalker at_start(first_bad);
  EXPECT_FALSE(at_start.next().has_value());
  EXPECT_TRUE(at_start.error());
}

// ---------------------------------------------------------------------------------------------
// ReceiveStatistics

constexpr std::uint32_t kFrame = 960;  // 20 ms of Opus at 48 kHz

// Feeds perfectly paced packets: timestamp and arrival both advance one frame per sequence step.
void feed(ReceiveStatistics& stats, std::uint16_t first, int count, std::uint32_t ts0 = 5000,
          std::uint32_t arrival0 = 90000) {
  for (int i = 0; i < count; ++i) {
    const auto seq = static_cast<std::uint16_t>(first + i);
    const std::uint32_t step = static_cast<std::uint16_t>(seq - first) * kFrame;
    stats.on_packet(seq, ts0 + step, arrival0 + step);
  }
}

TEST(ReceiveStatistics, NotStartedBeforeTheFirstPacket) {
  ReceiveStatistics stats;
  EXPECT_FALSE(stats.started());
  stats.on_packet(1, 0, 0);
  EXPECT_TRUE(stats.started());
}

TEST(ReceiveStatistics, NoLossWithoutGaps) {
  ReceiveStatistics stats;
  feed(stats, 100, 50);
  auto block = stats.report(0x42, 1'000'000);
  EXPECT_EQ(block.ssrc, 0x42u);
  EXPECT_EQ(block.extended_highest_sequence, 149u);
  EXPECT_EQ(block.cumulative_lost, 0);
  EXPECT_EQ(block.fraction_lost, 0);
  EXPECT_EQ(block.jitter, 0u);
  EXPECT_EQ(block.last_sr, 0u) << "no SR received yet";
  EXPECT_EQ(block.delay_since_sr, 0u);
}

TEST(ReceiveStatistics, LossCountedOverAGap) {
  ReceiveStatistics stats;
  for (std::uint16_t seq = 100; seq < 120; ++seq) {
    if (seq >= 110 && seq < 115) continue;  // 5 lost
    stats.on_packet(seq, seq * kFrame, seq * kFrame);
  }
  auto block = stats.report(1, 0);
  EXPECT_EQ(block.extended_highest_sequence, 119u);
  EXPECT_EQ(block.cumulative_lost, 5);
  EXPECT_EQ(block.fraction_lost, 5 * 256 / 20);  // 64: a quarter lost
}

TEST(ReceiveStatistics, SequenceWrapExtendsTheHighestSequence) {
  ReceiveStatistics stats;
  feed(stats, 65530, 10);  // 65530 .. 65535, 0 .. 3
  auto block = stats.report(1, 0);
  EXPECT_EQ(block.extended_highest_sequence, 65536u + 3u);
  EXPECT_EQ(block.cumulative_lost, 0);
  EXPECT_EQ(block.fraction_lost, 0);
  // A second wrap adds another cycle.
  feed(stats, 4, 65536, 5000 + 10 * kFrame, 90000 + 10 * kFrame);
  block = stats.report(1, 0);
  EXPECT_EQ(block.extended_highest_sequence, 2u * 65536u + 3u);
  EXPECT_EQ(block.cumulative_lost, 0);
}

TEST(ReceiveStatistics, LossAcrossTheWrap) {
  ReceiveStatistics stats;
  stats.on_packet(65534, 0, 0);
  stats.on_packet(65535, kFrame, kFrame);
  stats.on_packet(2, 4 * kFrame, 4 * kFrame);  // 0 and 1 lost
  auto block = stats.report(1, 0);
  EXPECT_EQ(block.extended_highest_sequence, 65536u + 2u);
  EXPECT_EQ(block.cumulative_lost, 2);
}

TEST(ReceiveStatistics, ReorderedPacketsAreNotLost) {
  ReceiveStatistics stats;
  for (std::uint16_t seq : {10, 11, 13, 12, 14}) stats.on_packet(seq, seq * kFrame, seq * kFrame);
  auto block = stats.report(1, 0);
  EXPECT_EQ(block.extended_highest_sequence, 14u) << "a late packet does not move the highest";
  EXPECT_EQ(block.cumulative_lost, 0);
  // A late packet from before a wrap does not add a cycle.
  ReceiveStatistics wrapped;
  for (std::uint16_t seq : {65534, 65535, 1, 0, 2}) wrapped.on_packet(seq, 0, 0);
  block = wrapped.report(1, 0);
  EXPECT_EQ(block.extended_highest_sequence, 65536u + 2u);
  EXPECT_EQ(block.cumulative_lost, 0);
}

TEST(ReceiveStatistics, DuplicatesMakeCumulativeLossNegative) {
  ReceiveStatistics stats;
  for (std::uint16_t seq : {1, 2, 2, 3, 3, 4}) stats.on_packet(seq, 0, 0);
  auto block = stats.report(1, 0);
  EXPECT_EQ(block.cumulative_lost, -2);
  EXPECT_EQ(block.fraction_lost, 0) << "negative interval loss reports 0 (RFC 3550 A.3)";
}

TEST(ReceiveStatistics, FractionLostIsPerReportingInterval) {
  // RFC 3550 appendix A.3: expected and received since the previous report.
  ReceiveStatistics stats;
  // Interval 1: 1..10 with 3 and 7 lost: 2 of 10.
  for (std::uint16_t seq = 1; seq <= 10; ++seq) {
    if (seq != 3 && seq != 7) stats.on_packet(seq, 0, 0);
  }
  auto first = stats.report(1, 0);
  EXPECT_EQ(first.fraction_lost, 2 * 256 / 10);  // 51
  EXPECT_EQ(first.cumulative_lost, 2);
  // Interval 2: 11..30, nothing lost.
  for (std::uint16_t seq = 11; seq <= 30; ++seq) stats.on_packet(seq, 0, 0);
  auto second = stats.report(1, 0);
  EXPECT_EQ(second.fraction_lost, 0);
  EXPECT_EQ(second.cumulative_lost, 2);
  // Interval 3: 31..40 with every other lost: 5 of 10 = 128/256.
  for (std::uint16_t seq = 32; seq <= 40; seq += 2) stats.on_packet(seq, 0, 0);
  auto third = stats.report(1, 0);
  EXPECT_EQ(third.fraction_lost, 128);
  EXPECT_EQ(third.cumulative_lost, 7);
  // Interval 4: nothing received at all: nothing expected either.
  auto fourth = stats.report(1, 0);
  EXPECT_EQ(fourth.fraction_lost, 0);
  EXPECT_EQ(fourth.cumulative_lost, 7);
  EXPECT_EQ(fourth.extended_highest_sequence, 40u);
}

TEST(ReceiveStatistics, JitterStaysZeroForPerfectPacing) {
  ReceiveStatistics stats;
  // Arrival clock far below the sender's timestamps: the transit is negative and wraps.
  feed(stats, 1000, 500, 0xF0000000u, 1234);
  EXPECT_EQ(stats.report(1, 0).jitter, 0u);
  ReceiveStatistics other;
  feed(other, 0, 500, 7, 0xFFFFF000u);  // the arrival clock wraps during the stream
  EXPECT_EQ(other.report(1, 0).jitter, 0u);
}

TEST(ReceiveStatistics, JitterFollowsRfc3550A8) {
  ReceiveStatistics stats;
  // Every other packet arrives 10 ms (480 ticks) late: |D| = 480 for every packet after the
  // first, so J approaches 480 as J += (|D| - J) / 16.
  double expected = 0;
  std::uint32_t previous_report = 0;
  for (int i = 0; i < 200; ++i) {
    const std::uint32_t ts = 1000 + static_cast<std::uint32_t>(i) * kFrame;
    const std::uint32_t arrival = 777 + static_cast<std::uint32_t>(i) * kFrame + (i % 2 ? 480 : 0);
    stats.on_packet(static_cast<std::uint16_t>(i), ts, arrival);
    if (i > 0) expected += (480.0 - expected) / 16.0;
    if (i % 20 == 19) {
      const std::uint32_t jitter = stats.report(1, 0).jitter;
      EXPECT_EQ(jitter, static_cast<std::uint32_t>(expected)) << "after " << i + 1;
      EXPECT_GE(jitter, previous_report) << "grows towards |D|";
      previous_report = jitter;
    }
  }
  EXPECT_GE(previous_report, 470u);
  EXPECT_LE(previous_report, 480u);
}

TEST(ReceiveStatistics, LastSrAndDelaySinceLastSrIn65536thsOfASecond) {
  ReceiveStatistics stats;
  feed(stats, 1, 10);
  const std::uint64_t ntp = 0x0123456789ABCDEFull;
  stats.on_sender_report(ntp, 5'000'000);
  auto block = stats.report(1, 5'500'000);
  EXPECT_EQ(block.last_sr, 0x456789ABu) << "the middle 32 bits of the NTP timestamp";
  EXPECT_EQ(block.delay_since_sr, 32768u) << "0.5 s";
  block = stats.report(1, 5'000'000 + 1'250'000);
  EXPECT_EQ(block.delay_since_sr, 81920u) << "1.25 s";
  block = stats.report(1, 5'000'000);
  EXPECT_EQ(block.delay_since_sr, 0u);
  block = stats.report(1, 5'000'000 + 15);  // 15 us = 0.98 units
  EXPECT_EQ(block.delay_since_sr, 0u);
  block = stats.report(1, 5'000'000 + 16);  // 16 us = 1.05 units
  EXPECT_EQ(block.delay_since_sr, 1u);
}

TEST(ReceiveStatistics, LargeSequenceJumpResynchronises) {
  ReceiveStatistics stats;
  feed(stats, 100, 5);
  stats.on_packet(40000, 0, 0);  // the sender restarted its sequence
  stats.on_packet(40001, 0, 0);
  auto block = stats.report(1, 0);
  EXPECT_EQ(block.extended_highest_sequence, 40001u);
  EXPECT_EQ(block.cumulative_lost, 0) << "the jump is not 39895 lost packets";
}

}  // namespace
}  // namespace podium::sfu::rtp
