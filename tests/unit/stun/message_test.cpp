// MessageView::parse: header checks, attribute walking, indexing rules, malformed input.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/xor_address.hpp"
#include "test_vectors.hpp"

namespace podium::stun {
namespace {

using test::bytes_of;

constexpr TransactionId kTid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

// Header with the given body appended and the length field set to match.
std::vector<uint8_t> message_with_body(const std::vector<uint8_t>& body, uint16_t type = 0x0001) {
  std::vector<uint8_t> m = {static_cast<uint8_t>(type >> 8),
                            static_cast<uint8_t>(type),
                            static_cast<uint8_t>(body.size() >> 8),
                            static_cast<uint8_t>(body.size()),
                            0x21,
                            0x12,
                            0xa4,
                            0x42};
  m.insert(m.end(), kTid.begin(), kTid.end());
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
  auto parsed = MessageView::parse(bytes);
  return parsed.ok() ? "ok" : parsed.error().text;
}

TEST(MessageType, InterleavesMethodAndClass) {
  // RFC 8489 §5 examples: Binding request 0x0001, success 0x0101, error 0x0111, indication 0x0011.
  EXPECT_EQ(message_type(Method::kBinding, Class::kRequest), 0x0001);
  EXPECT_EQ(message_type(Method::kBinding, Class::kSuccessResponse), 0x0101);
  EXPECT_EQ(message_type(Method::kBinding, Class::kErrorResponse), 0x0111);
  EXPECT_EQ(message_type(Method::kBinding, Class::kIndication), 0x0011);
  // TURN: Allocate request 0x0003, error 0x0113; Send indication 0x0016; Data indication 0x0017.
  EXPECT_EQ(message_type(Method::kAllocate, Class::kRequest), 0x0003);
  EXPECT_EQ(message_type(Method::kAllocate, Class::kErrorResponse), 0x0113);
  EXPECT_EQ(message_type(Method::kSend, Class::kIndication), 0x0016);
  EXPECT_EQ(message_type(Method::kData, Class::kIndication), 0x0017);
  EXPECT_EQ(message_type(Method::kChannelBind, Class::kSuccessResponse), 0x0109);
  EXPECT_EQ(message_type(Method::kConnectionAttempt, Class::kIndication), 0x001C);
  for (uint16_t m = 0; m < 0x1000; ++m) {
    for (uint8_t c = 0; c < 4; ++c) {
      const uint16_t type = message_type(static_cast<Method>(m), static_cast<Class>(c));
      ASSERT_EQ(type & 0xC000, 0);
      ASSERT_EQ(method_of(type), static_cast<Method>(m));
      ASSERT_EQ(class_of(type), static_cast<Class>(c));
    }
  }
}

TEST(Constants, ComprehensionRequiredAndNames) {
  EXPECT_TRUE(is_comprehension_required(AttributeType::kXorPeerAddress));
  EXPECT_TRUE(is_comprehension_required(static_cast<AttributeType>(0x7FFF)));
  EXPECT_FALSE(is_comprehension_required(AttributeType::kSoftware));
  EXPECT_FALSE(is_comprehension_required(AttributeType::kFingerprint));
  EXPECT_EQ(attribute_name(AttributeType::kXorRelayedAddress), "XOR-RELAYED-ADDRESS");
  EXPECT_EQ(attribute_name(static_cast<AttributeType>(0x7777)), "UNKNOWN");
  EXPECT_TRUE(is_known_attribute(AttributeType::kMobilityTicket));
  EXPECT_FALSE(is_known_attribute(static_cast<AttributeType>(0x0002)));
  EXPECT_EQ(method_name(Method::kCreatePermission), "CreatePermission");
  EXPECT_EQ(default_reason_phrase(errc::kStaleNonce), "Stale Nonce");
  EXPECT_EQ(default_reason_phrase(errc::kAllocationQuotaReached), "Allocation Quota Reached");
  EXPECT_EQ(default_reason_phrase(499), "");
}

TEST(MessageParse, EmptyBodyIsValid) {
  const auto m = message_with_body({});
  auto parsed = MessageView::parse(m);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->attribute_count(), 0u);
  EXPECT_EQ(parsed->transaction_id(), kTid);
  EXPECT_EQ(parsed->size(), 20u);
  EXPECT_FALSE(parsed->find(AttributeType::kUsername).has_value());
  auto missing = parsed->string(AttributeType::kUsername);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(is_missing_attribute(missing.error()));
}

TEST(MessageParse, TruncatedHeader) {
  auto m = message_with_body({});
  for (size_t n = 0; n < 20; ++n) {
    EXPECT_EQ(parse_error({m.begin(), m.begin() + static_cast<long>(n)}), "truncated header");
  }
}

TEST(MessageParse, TopBitsMustBeZero) {
  auto m = message_with_body({});
  m[0] = 0x40;
  EXPECT_EQ(parse_error(m), "not a STUN message");
  m[0] = 0x80;
  EXPECT_EQ(parse_error(m), "not a STUN message");
}

TEST(MessageParse, BadCookie) {
  auto m = message_with_body({});
  m[7] = 0x43;
  EXPECT_EQ(parse_error(m), "bad magic cookie");
}

TEST(MessageParse, LengthNotMultipleOfFour) {
  auto m = message_with_body({0x80, 0x22, 0x00, 0x01, 'a', 0, 0, 0});
  m[3] = 7;
  EXPECT_EQ(parse_error(m), "length not a multiple of 4");
}

TEST(MessageParse, LengthMustMatchBuffer) {
  auto m = message_with_body({0x80, 0x22, 0x00, 0x01, 'a', 0, 0, 0});
  auto shorter = m;
  shorter.pop_back();
  EXPECT_EQ(parse_error(shorter), "truncated message");
  auto longer = m;
  longer.push_back(0);
  EXPECT_EQ(parse_error(longer), "bytes after the message");
}

TEST(MessageParse, AttributeOverrunningMessage) {
  // Declares 8 value bytes but only 4 follow.
  EXPECT_EQ(parse_error(message_with_body({0x80, 0x22, 0x00, 0x08, 'a', 'b', 'c', 'd'})),
            "attribute overruns message");
  // Value fits but its padding does not.
  EXPECT_EQ(parse_error(message_with_body({0x80, 0x22, 0x00, 0x05, 'a', 'b', 'c', 'd'})),
            "attribute overruns message");
  // Largest declared length.
  EXPECT_EQ(parse_error(message_with_body({0x80, 0x22, 0xff, 0xff, 'a', 'b', 'c', 'd'})),
            "attribute overruns message");
}

TEST(MessageParse, PaddingIsSkippedAndOffsetsRemembered) {
  auto m = message_with_body({0x80, 0x22, 0x00, 0x01, 'a', 0xff, 0xff, 0xff,  //
                              0x00, 0x0d, 0x00, 0x04, 0, 0, 0x02, 0x58});
  auto parsed = MessageView::parse(m);
  ASSERT_TRUE(parsed.ok()) << parsed.error().text;
  ASSERT_EQ(parsed->attribute_count(), 2u);
  EXPECT_EQ(parsed->attribute(0).offset, 20u);
  EXPECT_EQ(parsed->attribute(0).value.size(), 1u);
  EXPECT_EQ(parsed->attribute(1).offset, 28u);
  EXPECT_EQ(*parsed->u32(AttributeType::kLifetime), 600u);
}

TEST(MessageParse, TooManyAttributes) {
  std::vector<uint8_t> body;
  for (int i = 0; i < 33; ++i) body.insert(body.end(), {0x80, 0x22, 0x00, 0x00});
  EXPECT_EQ(parse_error(message_with_body(body)), "too many attributes");
  body.resize(32 * 4);
  const auto m = message_with_body(body);
  auto parsed = MessageView::parse(m);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->attribute_count(), 32u);
}

TEST(MessageParse, RepeatedAttributesIterateWithoutAllocation) {
  std::array<uint8_t, 512> buffer{};
  MessageBuilder b(buffer);
  b.start(Method::kCreatePermission, Class::kRequest, kTid);
  const std::array<Address, 3> peers = {Address{boost::asio::ip::make_address("198.51.100.1"), 1},
                                        Address{boost::asio::ip::make_address("198.51.100.2"), 2},
                                        Address{boost::asio::ip::make_address("2001:db8::3"), 3}};
  b.add_xor_address(AttributeType::kXorPeerAddress, peers[0]);
  b.add_software("x");
  b.add_xor_address(AttributeType::kXorPeerAddress, peers[1]);
  b.add_xor_address(AttributeType::kXorPeerAddress, peers[2]);
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  auto parsed = MessageView::parse(*out);
  ASSERT_TRUE(parsed.ok());
  size_t i = 0;
  for (const AttributeView& a : parsed->find_all(AttributeType::kXorPeerAddress)) {
    auto peer = decode_xor_address(a, parsed->transaction_id());
    ASSERT_TRUE(peer.ok());
    EXPECT_EQ(*peer, peers[i++]);
  }
  EXPECT_EQ(i, 3u);
  EXPECT_EQ(parsed->find_all(AttributeType::kXorPeerAddress).count(), 3u);
  EXPECT_TRUE(parsed->find_all(AttributeType::kData).empty());
  EXPECT_EQ(parsed->attributes().count(), 4u);
  // find() returns the first occurrence.
  EXPECT_EQ(*parsed->xor_address(AttributeType::kXorPeerAddress), peers[0]);
}

TEST(MessageParse, AttributesAfterIntegrityAreIgnored) {
  // SOFTWARE after MESSAGE-INTEGRITY is ignored; MI-SHA256 and FINGERPRINT still count.
  std::vector<uint8_t> body = {0x00, 0x06, 0x00, 0x04, 'u', 's', 'e', 'r'};
  body.insert(body.end(), {0x00, 0x08, 0x00, 0x14});
  body.insert(body.end(), 20, 0xAA);
  body.insert(body.end(), {0x80, 0x22, 0x00, 0x04, 'i', 'g', 'n', 'o'});
  body.insert(body.end(), {0x77, 0x77, 0x00, 0x00});  // unknown comprehension-required, ignored
  body.insert(body.end(), {0x00, 0x1c, 0x00, 0x20});
  body.insert(body.end(), 32, 0xBB);
  body.insert(body.end(), {0x00, 0x06, 0x00, 0x04, 'l', 'a', 't', 'e'});  // ignored
  body.insert(body.end(), {0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0});
  const auto m = message_with_body(body);
  auto parsed = MessageView::parse(m);
  ASSERT_TRUE(parsed.ok()) << parsed.error().text;
  ASSERT_EQ(parsed->attribute_count(), 4u);
  EXPECT_EQ(parsed->attribute(0).type, AttributeType::kUsername);
  EXPECT_EQ(parsed->attribute(1).type, AttributeType::kMessageIntegrity);
  EXPECT_EQ(parsed->attribute(2).type, AttributeType::kMessageIntegritySha256);
  EXPECT_EQ(parsed->attribute(3).type, AttributeType::kFingerprint);
  EXPECT_FALSE(parsed->has(AttributeType::kSoftware));
  EXPECT_EQ(*parsed->string(AttributeType::kUsername), "user");
  EXPECT_TRUE(parsed->unknown_comprehension_required().empty());
}

TEST(MessageParse, NothingMayFollowFingerprint) {
  EXPECT_EQ(parse_error(message_with_body({0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0,  //
                                           0x80, 0x22, 0x00, 0x00})),
            "attribute after FINGERPRINT");
}

TEST(MessageParse, UnknownComprehensionRequired) {
  const auto m = message_with_body({
      0x7f, 0x01, 0x00, 0x00,                // unknown, comprehension-required
      0xc0, 0x01, 0x00, 0x00,                // unknown, optional: not reported
      0x00, 0x06, 0x00, 0x01, 'u', 0, 0, 0,  // USERNAME: known
      0x7f, 0x01, 0x00, 0x00,                // duplicate: reported once
      0x00, 0x02, 0x00, 0x00,                // RESPONSE-ADDRESS (RFC 3489), unknown here
  });
  auto parsed = MessageView::parse(m);
  ASSERT_TRUE(parsed.ok());
  const auto unknown = parsed->unknown_comprehension_required();
  ASSERT_EQ(unknown.size(), 2u);
  EXPECT_EQ(unknown[0], static_cast<AttributeType>(0x7f01));
  EXPECT_EQ(unknown[1], static_cast<AttributeType>(0x0002));
}

TEST(MessageParse, ParsesEveryPrefixSafely) {
  // Every prefix and every length-field value of a valid message either parses or fails cleanly.
  const auto full = bytes_of(test::kRfc5769Request);
  for (size_t n = 0; n <= full.size(); ++n) {
    auto prefix = std::vector<uint8_t>(full.begin(), full.begin() + static_cast<long>(n));
    (void)MessageView::parse(prefix);
    if (n >= 20) {
      for (int len = 0; len < 0x100; len += 4) {
        prefix[2] = 0;
        prefix[3] = static_cast<uint8_t>(len);
        auto parsed = MessageView::parse(prefix);
        if (parsed.ok()) {
          EXPECT_EQ(parsed->size(), 20u + len);
        }
      }
    }
  }
}

}  // namespace
}  // namespace podium::stun
