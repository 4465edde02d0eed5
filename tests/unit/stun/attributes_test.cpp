// Round trips of every attribute kind through MessageBuilder and the typed decoders, and
// rejection of malformed values.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

#include "podium/stun/address.hpp"
#include "podium/stun/attributes.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/xor_address.hpp"

namespace podium::stun {
namespace {

using boost::asio::ip::make_address;

constexpr TransactionId kTid = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};

// Builds a message with `add`, parses it, and returns the view (buffer kept alive by caller).
template <typename F>
MessageView build(std::array<uint8_t, 2048>& buffer, F&& add) {
  MessageBuilder b(buffer);
  b.start(Method::kAllocate, Class::kRequest, kTid);
  add(b);
  auto out = b.finish();
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().text);
  auto parsed = MessageView::parse(*out);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().text);
  return *parsed;
}

// An attribute with the given raw value, for decoder-only tests.
AttributeView raw_attribute(AttributeType type, const std::vector<uint8_t>& value) {
  return AttributeView{type, value, 20};
}

TEST(Attributes, XorAddressesRoundTrip) {
  const std::array<Address, 6> addresses = {
      Address{make_address("192.0.2.1"), 32853},
      Address{make_address("0.0.0.0"), 0},
      Address{make_address("255.255.255.255"), 65535},
      Address{make_address("2001:db8:1234:5678:11:2233:4455:6677"), 32853},
      Address{make_address("::1"), 3478},
      Address{make_address("fe80::1"), 1}};
  for (auto type : {AttributeType::kXorMappedAddress, AttributeType::kXorPeerAddress,
                    AttributeType::kXorRelayedAddress}) {
    for (const auto& address : addresses) {
      std::array<uint8_t, 2048> buffer{};
      auto view = build(buffer, [&](MessageBuilder& b) { b.add_xor_address(type, address); });
      auto decoded = view.xor_address(type);
      ASSERT_TRUE(decoded.ok()) << decoded.error().text;
      EXPECT_EQ(*decoded, address);
      // The wire form really is XORed: plain decoding gives something else (except by chance).
      auto plain = decode_address(*view.find(type));
      ASSERT_TRUE(plain.ok());
      EXPECT_NE(*plain, address);
    }
  }
}

TEST(Attributes, PlainAddressesRoundTrip) {
  for (auto type : {AttributeType::kMappedAddress, AttributeType::kAlternateServer,
                    AttributeType::kResponseOrigin, AttributeType::kOtherAddress}) {
    for (const auto& address :
         {Address{make_address("203.0.113.9"), 3478}, Address{make_address("2001:db8::9"), 5349}}) {
      std::array<uint8_t, 2048> buffer{};
      auto view = build(buffer, [&](MessageBuilder& b) { b.add_address(type, address); });
      EXPECT_EQ(*view.address(type), address);
    }
  }
}

TEST(Attributes, AddressRejectsBadFamilyAndLength) {
  EXPECT_STREQ(
      decode_address(raw_attribute(AttributeType::kMappedAddress, {0, 3, 0, 1, 1, 2, 3, 4}))
          .error()
          .text,
      "bad address family");
  EXPECT_STREQ(decode_xor_address(
                   raw_attribute(AttributeType::kXorMappedAddress, {0, 0, 0, 1, 1, 2, 3, 4}), kTid)
                   .error()
                   .text,
               "bad address family");
  EXPECT_STREQ(decode_address(raw_attribute(AttributeType::kMappedAddress, {0, 1, 0, 1, 1, 2, 3}))
                   .error()
                   .text,
               "bad IPv4 address length");
  EXPECT_STREQ(decode_xor_address(
                   raw_attribute(AttributeType::kXorPeerAddress, {0, 2, 0, 1, 1, 2, 3, 4}), kTid)
                   .error()
                   .text,
               "bad IPv6 address length");
  EXPECT_FALSE(decode_address(raw_attribute(AttributeType::kMappedAddress, {0, 1})).ok());
}

TEST(Attributes, AddressHelpers) {
  const Address mapped{make_address("::ffff:192.0.2.7"), 9};
  EXPECT_EQ(mapped.family(), AddressFamily::kIPv6);
  EXPECT_EQ(mapped.normalized(), (Address{make_address("192.0.2.7"), 9}));
  const auto endpoint =
      Address{make_address("192.0.2.7"), 9}.to_endpoint<boost::asio::ip::udp::endpoint>();
  EXPECT_EQ(endpoint.port(), 9);
  EXPECT_EQ(Address::from_endpoint(endpoint), (Address{make_address("192.0.2.7"), 9}));
}

TEST(Attributes, StringsRoundTripWithinLimits) {
  const std::string username(513, 'u');
  std::string realm;  // 127 characters, 381 bytes
  for (int i = 0; i < 127; ++i) realm += "\xe3\x83\x9e";
  const std::string nonce(127, 'n');
  std::array<uint8_t, 2048> buffer{};
  auto view = build(buffer, [&](MessageBuilder& b) {
    b.add_username(username)
        .add_realm(realm)
        .add_nonce(nonce)
        .add_software("podium 0.1")
        .add_string(AttributeType::kAlternateDomain, "turn.example.org");
  });
  EXPECT_EQ(*view.string(AttributeType::kUsername), username);
  EXPECT_EQ(*view.string(AttributeType::kRealm), realm);
  EXPECT_EQ(*view.string(AttributeType::kNonce), nonce);
  EXPECT_EQ(*view.string(AttributeType::kSoftware), "podium 0.1");
  EXPECT_EQ(*view.string(AttributeType::kAlternateDomain), "turn.example.org");
}

TEST(Attributes, OversizedStringsRejected) {
  const std::vector<uint8_t> long_username(514, 'u');
  EXPECT_STREQ(decode_string(raw_attribute(AttributeType::kUsername, long_username)).error().text,
               "text attribute too long");
  const std::vector<uint8_t> long_realm(764, 'r');
  EXPECT_FALSE(decode_string(raw_attribute(AttributeType::kRealm, long_realm)).ok());
  // 128 ASCII characters is one too many for REALM/NONCE/SOFTWARE even though < 763 bytes.
  const std::vector<uint8_t> many_chars(128, 'n');
  EXPECT_STREQ(decode_string(raw_attribute(AttributeType::kNonce, many_chars)).error().text,
               "text attribute has too many characters");
  // 127 three-byte characters (381 bytes) are fine.
  std::vector<uint8_t> kana;
  for (int i = 0; i < 127; ++i) kana.insert(kana.end(), {0xe3, 0x83, 0x9e});
  EXPECT_TRUE(decode_string(raw_attribute(AttributeType::kRealm, kana)).ok());

  std::array<uint8_t, 2048> buffer{};
  MessageBuilder b(buffer);
  b.start(Method::kAllocate, Class::kRequest, kTid).add_username(std::string(514, 'u'));
  EXPECT_FALSE(b.ok());
  EXPECT_STREQ(b.error().text, "text attribute too long");
  b.start(Method::kAllocate, Class::kRequest, kTid).add_software(std::string(128, 's'));
  EXPECT_FALSE(b.ok());
}

TEST(Attributes, NumbersRoundTrip) {
  std::array<uint8_t, 2048> buffer{};
  auto view = build(buffer, [](MessageBuilder& b) {
    b.add_lifetime(600)
        .add_u32(AttributeType::kPriority, 0x6e0001ff)
        .add_connection_id(0xCAFEBABE)
        .add_u64(AttributeType::kIceControlling, 0x0123456789abcdefull)
        .add_u64(AttributeType::kIceControlled, 0xfedcba9876543210ull)
        .add_u64(AttributeType::kReservationToken, 42);
  });
  EXPECT_EQ(*view.u32(AttributeType::kLifetime), 600u);
  EXPECT_EQ(*view.u32(AttributeType::kPriority), 0x6e0001ffu);
  EXPECT_EQ(*decode_connection_id(*view.find(AttributeType::kConnectionId)), 0xCAFEBABEu);
  EXPECT_EQ(*view.u64(AttributeType::kIceControlling), 0x0123456789abcdefull);
  EXPECT_EQ(*view.u64(AttributeType::kIceControlled), 0xfedcba9876543210ull);
  EXPECT_EQ(*view.u64(AttributeType::kReservationToken), 42u);
  EXPECT_FALSE(decode_u32(raw_attribute(AttributeType::kLifetime, {0, 0, 1})).ok());
  EXPECT_FALSE(decode_u64(raw_attribute(AttributeType::kIceControlled, {0, 0, 0, 1})).ok());
}

TEST(Attributes, ChannelNumber) {
  for (uint16_t channel : {uint16_t{0x4000}, uint16_t{0x4abc}, uint16_t{0x4fff}}) {
    std::array<uint8_t, 2048> buffer{};
    auto view = build(buffer, [&](MessageBuilder& b) { b.add_channel_number(channel); });
    EXPECT_EQ(*decode_channel_number(*view.find(AttributeType::kChannelNumber)), channel);
  }
  // RFC 5766's wider range is accepted from clients but never encoded.
  for (uint16_t channel : {uint16_t{0x5000}, uint16_t{0x7fff}}) {
    const std::vector<uint8_t> value = {static_cast<uint8_t>(channel >> 8),
                                        static_cast<uint8_t>(channel), 0, 0};
    EXPECT_EQ(*decode_channel_number(raw_attribute(AttributeType::kChannelNumber, value)), channel);
    std::array<uint8_t, 64> buffer{};
    MessageBuilder b(buffer);
    b.start(Method::kChannelBind, Class::kRequest, kTid).add_channel_number(channel);
    EXPECT_FALSE(b.ok());
  }
  for (uint16_t channel : {uint16_t{0x3fff}, uint16_t{0x8000}, uint16_t{0}, uint16_t{0xffff}}) {
    const std::vector<uint8_t> value = {static_cast<uint8_t>(channel >> 8),
                                        static_cast<uint8_t>(channel), 0, 0};
    EXPECT_STREQ(
        decode_channel_number(raw_attribute(AttributeType::kChannelNumber, value)).error().text,
        "channel number out of range");
    std::array<uint8_t, 64> buffer{};
    MessageBuilder b(buffer);
    b.start(Method::kChannelBind, Class::kRequest, kTid).add_channel_number(channel);
    EXPECT_FALSE(b.ok());
  }
  EXPECT_FALSE(decode_channel_number(raw_attribute(AttributeType::kChannelNumber, {0x40, 0})).ok());
}

TEST(Attributes, RequestedTransportAndFamilies) {
  std::array<uint8_t, 2048> buffer{};
  auto view = build(buffer, [](MessageBuilder& b) {
    b.add_requested_transport(kProtocolUdp)
        .add_address_family(AttributeType::kRequestedAddressFamily, AddressFamily::kIPv6)
        .add_address_family(AttributeType::kAdditionalAddressFamily, AddressFamily::kIPv6);
  });
  EXPECT_EQ(*decode_requested_transport(*view.find(AttributeType::kRequestedTransport)), 17);
  EXPECT_EQ(view.find(AttributeType::kRequestedTransport)->value[1], 0);
  EXPECT_EQ(*decode_address_family(*view.find(AttributeType::kRequestedAddressFamily)),
            AddressFamily::kIPv6);
  EXPECT_EQ(*decode_address_family(*view.find(AttributeType::kAdditionalAddressFamily)),
            AddressFamily::kIPv6);
  EXPECT_STREQ(
      decode_address_family(raw_attribute(AttributeType::kRequestedAddressFamily, {0x03, 0, 0, 0}))
          .error()
          .text,
      "unknown address family");
  EXPECT_FALSE(
      decode_requested_transport(raw_attribute(AttributeType::kRequestedTransport, {17})).ok());
}

TEST(Attributes, ErrorCodeRoundTrip) {
  for (uint16_t code :
       {errc::kTryAlternate, errc::kBadRequest, errc::kUnauthenticated, errc::kUnknownAttribute,
        errc::kStaleNonce, errc::kInsufficientCapacity, uint16_t{699}}) {
    std::array<uint8_t, 2048> buffer{};
    auto view = build(buffer, [&](MessageBuilder& b) { b.add_error_code(code); });
    auto decoded = decode_error_code(*view.find(AttributeType::kErrorCode));
    ASSERT_TRUE(decoded.ok()) << decoded.error().text;
    EXPECT_EQ(decoded->code, code);
    EXPECT_EQ(decoded->reason, default_reason_phrase(code));
  }
  std::array<uint8_t, 2048> buffer{};
  auto view = build(buffer, [](MessageBuilder& b) { b.add_error_code(438, "Stale Nonce!"); });
  auto raw = view.find(AttributeType::kErrorCode)->value;
  EXPECT_EQ(raw[2], 4);
  EXPECT_EQ(raw[3], 38);
  EXPECT_EQ(decode_error_code(*view.find(AttributeType::kErrorCode))->reason, "Stale Nonce!");

  EXPECT_STREQ(
      decode_error_code(raw_attribute(AttributeType::kErrorCode, {0, 0, 2, 0})).error().text,
      "bad error code");
  EXPECT_FALSE(decode_error_code(raw_attribute(AttributeType::kErrorCode, {0, 0, 4, 100})).ok());
  EXPECT_FALSE(decode_error_code(raw_attribute(AttributeType::kErrorCode, {0, 0, 7, 0})).ok());
  EXPECT_FALSE(decode_error_code(raw_attribute(AttributeType::kErrorCode, {0, 0, 4})).ok());

  MessageBuilder b(buffer);
  b.start(Method::kAllocate, Class::kErrorResponse, kTid).add_error_code(299);
  EXPECT_FALSE(b.ok());
  b.start(Method::kAllocate, Class::kErrorResponse, kTid).add_error_code(700);
  EXPECT_FALSE(b.ok());
}

TEST(Attributes, AddressErrorCodeRoundTrip) {
  std::array<uint8_t, 2048> buffer{};
  auto view = build(buffer, [](MessageBuilder& b) {
    b.add_address_error_code(AddressFamily::kIPv6, errc::kInsufficientCapacity,
                             "Insufficient Capacity");
  });
  auto decoded = decode_address_error_code(*view.find(AttributeType::kAddressErrorCode));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->family, AddressFamily::kIPv6);
  EXPECT_EQ(decoded->code, 508);
  EXPECT_EQ(decoded->reason, "Insufficient Capacity");
}

TEST(Attributes, UnknownAttributesRoundTrip) {
  const std::array<AttributeType, 3> types = {static_cast<AttributeType>(0x7f01),
                                              static_cast<AttributeType>(0x0002),
                                              static_cast<AttributeType>(0x1234)};
  std::array<uint8_t, 2048> buffer{};
  auto view = build(buffer, [&](MessageBuilder& b) { b.add_unknown_attributes(types); });
  EXPECT_EQ(view.find(AttributeType::kUnknownAttributes)->value.size(), 6u);
  auto decoded = decode_unknown_attributes(*view.find(AttributeType::kUnknownAttributes));
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*decoded)[i], types[i]);
  EXPECT_FALSE(
      decode_unknown_attributes(raw_attribute(AttributeType::kUnknownAttributes, {0, 1, 0})).ok());
  const std::vector<uint8_t> too_many(66, 0x7f);
  EXPECT_STREQ(decode_unknown_attributes(raw_attribute(AttributeType::kUnknownAttributes, too_many))
                   .error()
                   .text,
               "too many unknown attributes");
}

TEST(Attributes, PasswordAlgorithmsRoundTrip) {
  const std::array<uint8_t, 3> params = {1, 2, 3};
  const std::array<PasswordAlgorithmEntry, 3> algorithms = {
      PasswordAlgorithmEntry{PasswordAlgorithm::kSha256, {}},
      PasswordAlgorithmEntry{PasswordAlgorithm::kMd5, {}},
      PasswordAlgorithmEntry{static_cast<PasswordAlgorithm>(0x99), params}};
  std::array<uint8_t, 2048> buffer{};
  auto view = build(buffer, [&](MessageBuilder& b) {
    b.add_password_algorithms(algorithms).add_password_algorithm(algorithms[0]);
  });
  EXPECT_EQ(view.find(AttributeType::kPasswordAlgorithms)->value.size(), 4u + 4u + 8u);
  auto decoded = decode_password_algorithms(*view.find(AttributeType::kPasswordAlgorithms));
  ASSERT_TRUE(decoded.ok()) << decoded.error().text;
  ASSERT_EQ(decoded->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*decoded)[i], algorithms[i]);
  EXPECT_TRUE(decoded->contains(PasswordAlgorithmEntry{PasswordAlgorithm::kMd5, {}}));
  auto single = decode_password_algorithm(*view.find(AttributeType::kPasswordAlgorithm));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->algorithm, PasswordAlgorithm::kSha256);

  EXPECT_FALSE(decode_password_algorithms(
                   raw_attribute(AttributeType::kPasswordAlgorithms, {0, 1, 0, 8, 1, 2, 3, 4}))
                   .ok());
  EXPECT_FALSE(
      decode_password_algorithms(raw_attribute(AttributeType::kPasswordAlgorithms, {0, 1, 0}))
          .ok());
  EXPECT_FALSE(decode_password_algorithm(
                   raw_attribute(AttributeType::kPasswordAlgorithm, {0, 1, 0, 0, 0, 2, 0, 0}))
                   .ok());
}

TEST(Attributes, FlagsEvenPortChangeRequestIcmpUserhashData) {
  const std::array<uint8_t, 32> hash = {7};
  const std::array<uint8_t, 5> data = {1, 2, 3, 4, 5};
  const std::array<uint8_t, 6> ticket = {9, 9, 9, 9, 9, 9};
  std::array<uint8_t, 2048> buffer{};
  auto view = build(buffer, [&](MessageBuilder& b) {
    b.add_flag(AttributeType::kDontFragment)
        .add_flag(AttributeType::kUseCandidate)
        .add_even_port(true)
        .add_change_request({true, false})
        .add_icmp({3, 1, 0xAABBCCDD})
        .add_raw(AttributeType::kUserhash, hash)
        .add_data(data)
        .add_raw(AttributeType::kMobilityTicket, ticket);
  });
  EXPECT_TRUE(view.has(AttributeType::kDontFragment));
  EXPECT_TRUE(is_valid_flag(*view.find(AttributeType::kDontFragment)));
  EXPECT_TRUE(view.has(AttributeType::kUseCandidate));
  EXPECT_EQ(view.find(AttributeType::kEvenPort)->value.size(), 1u);
  EXPECT_TRUE(*decode_even_port(*view.find(AttributeType::kEvenPort)));
  EXPECT_EQ(*decode_change_request(*view.find(AttributeType::kChangeRequest)),
            (ChangeRequest{true, false}));
  EXPECT_EQ(*decode_icmp(*view.find(AttributeType::kIcmp)), (IcmpValue{3, 1, 0xAABBCCDD}));
  EXPECT_EQ(decode_userhash(*view.find(AttributeType::kUserhash))->size(), 32u);
  auto got = view.find(AttributeType::kData)->value;
  EXPECT_EQ(std::vector<uint8_t>(got.begin(), got.end()),
            std::vector<uint8_t>(data.begin(), data.end()));
  EXPECT_EQ(view.find(AttributeType::kMobilityTicket)->value.size(), 6u);

  EXPECT_FALSE(*decode_even_port(raw_attribute(AttributeType::kEvenPort, {0x7f})));
  EXPECT_FALSE(decode_even_port(raw_attribute(AttributeType::kEvenPort, {})).ok());
  EXPECT_FALSE(decode_userhash(raw_attribute(AttributeType::kUserhash, {1, 2, 3, 4})).ok());
  EXPECT_FALSE(decode_icmp(raw_attribute(AttributeType::kIcmp, {1, 2, 3, 4})).ok());
  EXPECT_FALSE(decode_change_request(raw_attribute(AttributeType::kChangeRequest, {1})).ok());
  EXPECT_FALSE(is_valid_flag(raw_attribute(AttributeType::kDontFragment, {1})));
}

TEST(Attributes, ReserveFillsValueInPlace) {
  std::array<uint8_t, 2048> buffer{};
  MessageBuilder b(buffer);
  b.start(Method::kData, Class::kIndication, kTid)
      .add_xor_address(AttributeType::kXorPeerAddress, {make_address("192.0.2.1"), 4000});
  auto value = b.reserve(AttributeType::kData, 3);
  ASSERT_EQ(value.size(), 3u);
  value[0] = 'a';
  value[1] = 'b';
  value[2] = 'c';
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  auto view = MessageView::parse(*out);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(as_text(view->find(AttributeType::kData)->value), "abc");
}

}  // namespace
}  // namespace podium::stun
