// MessageBuilder: overflow handling (never writes past the buffer), attribute ordering,
// integrity attributes, responses.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "podium/stun/fingerprint.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"

namespace podium::stun {
namespace {

using boost::asio::ip::make_address;

constexpr TransactionId kTid = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
constexpr std::string_view kKey = "secret";

// Builds a typical Allocate success response into the first `capacity` bytes of a larger
// guarded buffer.
void build_response(MessageBuilder& b) {
  b.start(Method::kAllocate, Class::kSuccessResponse, kTid)
      .add_xor_address(AttributeType::kXorRelayedAddress, {make_address("2001:db8::1"), 50000})
      .add_xor_address(AttributeType::kXorMappedAddress, {make_address("192.0.2.1"), 40000})
      .add_lifetime(600)
      .add_software("podium")
      .add_message_integrity(as_bytes(kKey))
      .add_message_integrity_sha256(as_bytes(kKey))
      .add_fingerprint();
}

TEST(MessageBuilder, OverflowNeverWritesPastTheBuffer) {
  std::array<uint8_t, 512> reference{};
  MessageBuilder full(reference);
  build_response(full);
  auto complete = full.finish();
  ASSERT_TRUE(complete.ok()) << complete.error().text;
  const size_t needed = complete->size();

  for (size_t capacity = 0; capacity <= needed + 8; ++capacity) {
    std::vector<uint8_t> storage(capacity + 64, 0xCC);
    MessageBuilder b(std::span<uint8_t>(storage.data(), capacity));
    build_response(b);
    for (size_t i = capacity; i < storage.size(); ++i) {
      ASSERT_EQ(storage[i], 0xCC) << "wrote past a " << capacity << "-byte buffer";
    }
    auto out = b.finish();
    if (capacity < needed) {
      ASSERT_FALSE(out.ok()) << capacity;
      EXPECT_STREQ(out.error().text, "buffer too small");
      EXPECT_LE(b.size(), capacity);
    } else {
      ASSERT_TRUE(out.ok()) << capacity;
      EXPECT_EQ(std::vector<uint8_t>(out->begin(), out->end()),
                std::vector<uint8_t>(complete->begin(), complete->end()));
    }
  }
}

TEST(MessageBuilder, ProducesVerifiableIntegrity) {
  std::array<uint8_t, 512> buffer{};
  MessageBuilder b(buffer);
  build_response(b);
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  auto view = MessageView::parse(*out);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(verify_message_integrity(*view, as_bytes(kKey)).ok());
  EXPECT_TRUE(verify_message_integrity_sha256(*view, as_bytes(kKey)).ok());
  EXPECT_TRUE(verify_fingerprint(*view).ok());
  EXPECT_FALSE(verify_message_integrity(*view, as_bytes("Secret")).ok());
  EXPECT_FALSE(verify_message_integrity_sha256(*view, as_bytes("Secret")).ok());
}

TEST(MessageBuilder, IntegrityAttributeOrderEnforced) {
  std::array<uint8_t, 512> buffer{};
  MessageBuilder b(buffer);
  b.start(Method::kBinding, Class::kRequest, kTid)
      .add_message_integrity(as_bytes(kKey))
      .add_software("x");
  EXPECT_STREQ(b.error().text, "attribute after MESSAGE-INTEGRITY");
  b.start(Method::kBinding, Class::kRequest, kTid)
      .add_message_integrity_sha256(as_bytes(kKey))
      .add_message_integrity(as_bytes(kKey));
  EXPECT_STREQ(b.error().text, "attribute after MESSAGE-INTEGRITY-SHA256");
  b.start(Method::kBinding, Class::kRequest, kTid).add_fingerprint().add_fingerprint();
  EXPECT_STREQ(b.error().text, "attribute after FINGERPRINT");
  // The first error sticks; later calls do nothing.
  const size_t size = b.size();
  b.add_software("more");
  EXPECT_EQ(b.size(), size);
  EXPECT_FALSE(b.finish().ok());
  // start() begins afresh.
  b.start(Method::kBinding, Class::kRequest, kTid).add_fingerprint();
  EXPECT_TRUE(b.finish().ok());
}

TEST(MessageBuilder, NotStarted) {
  std::array<uint8_t, 64> buffer{};
  MessageBuilder b(buffer);
  b.add_software("x");
  EXPECT_FALSE(b.finish().ok());
  MessageBuilder tiny(std::span<uint8_t>(buffer.data(), 19));
  tiny.start(Method::kBinding, Class::kRequest, kTid);
  EXPECT_STREQ(tiny.finish().error().text, "buffer too small");
}

TEST(MessageBuilder, HeaderLengthTracksAttributes) {
  std::array<uint8_t, 128> buffer{};
  MessageBuilder b(buffer);
  b.start(Method::kRefresh, Class::kRequest, kTid);
  EXPECT_EQ(b.size(), 20u);
  b.add_software("abcde");  // 4 + 8
  EXPECT_EQ(b.size(), 32u);
  EXPECT_EQ(buffer[3], 12);
  EXPECT_EQ(buffer[25 + 4], 0);  // padding is zero by default
}

TEST(MessageBuilder, MessageSizeLimit) {
  std::vector<uint8_t> storage(70000);
  MessageBuilder b(storage);
  std::vector<uint8_t> chunk(40000, 1);
  b.start(Method::kSend, Class::kIndication, kTid).add_data(chunk);
  EXPECT_TRUE(b.ok());
  b.add_data(chunk);
  EXPECT_STREQ(b.error().text, "message too long");
  std::vector<uint8_t> max(65532 - 4, 2);
  b.start(Method::kSend, Class::kIndication, kTid).add_data(max);
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->size(), 20u + 65532u);
  EXPECT_TRUE(MessageView::parse(*out).ok());
}

TEST(MessageBuilder, ResponseCopiesMethodAndTransaction) {
  std::array<uint8_t, 128> request_buffer{};
  MessageBuilder request(request_buffer);
  request.start(Method::kChannelBind, Class::kRequest, kTid).add_channel_number(0x4001);
  auto request_view = MessageView::parse(*request.finish());
  ASSERT_TRUE(request_view.ok());
  std::array<uint8_t, 128> buffer{};
  MessageBuilder b(buffer);
  b.start_response(*request_view, Class::kErrorResponse).add_error_code(errc::kBadRequest);
  auto view = MessageView::parse(*b.finish());
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->method(), Method::kChannelBind);
  EXPECT_EQ(view->cls(), Class::kErrorResponse);
  EXPECT_EQ(view->message_type(), 0x0119);
  EXPECT_EQ(view->transaction_id(), kTid);
}

TEST(MessageIntegrity, EmptyKeyIsNotThePreviousKey) {
  // OpenSSL reuses the previous key when given a null key; an empty key must not do that.
  std::array<uint8_t, 128> buffer{};
  MessageBuilder b(buffer);
  b.start(Method::kBinding, Class::kRequest, kTid).add_message_integrity({});
  auto view = MessageView::parse(*b.finish());
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(verify_message_integrity(*view, as_bytes(kKey)).ok());
  EXPECT_TRUE(verify_message_integrity(*view, {}).ok());
  EXPECT_FALSE(verify_message_integrity(*view, as_bytes(kKey)).ok());
  EXPECT_TRUE(verify_message_integrity(*view, {}).ok());
}

TEST(MessageIntegrity, MalformedIntegrityAttributes) {
  std::array<uint8_t, 128> buffer{};
  MessageBuilder b(buffer);
  std::array<uint8_t, 16> short_mac{};
  b.start(Method::kBinding, Class::kRequest, kTid)
      .add_raw(AttributeType::kMessageIntegrity, short_mac);
  auto view = MessageView::parse(*b.finish());
  ASSERT_TRUE(view.ok());
  EXPECT_STREQ(verify_message_integrity(*view, as_bytes(kKey)).error().text,
               "bad MESSAGE-INTEGRITY length");
  b.start(Method::kBinding, Class::kRequest, kTid)
      .add_raw(AttributeType::kMessageIntegritySha256, short_mac);
  view = MessageView::parse(*b.finish());
  ASSERT_TRUE(view.ok());
  EXPECT_STREQ(verify_message_integrity_sha256(*view, as_bytes(kKey)).error().text,
               "MESSAGE-INTEGRITY-SHA256 mismatch");
  std::array<uint8_t, 12> too_short{};
  b.start(Method::kBinding, Class::kRequest, kTid)
      .add_raw(AttributeType::kMessageIntegritySha256, too_short);
  view = MessageView::parse(*b.finish());
  ASSERT_TRUE(view.ok());
  EXPECT_STREQ(verify_message_integrity_sha256(*view, as_bytes(kKey)).error().text,
               "bad MESSAGE-INTEGRITY-SHA256 length");
  std::array<uint8_t, 2> fp{};
  b.start(Method::kBinding, Class::kRequest, kTid).add_raw(AttributeType::kFingerprint, fp);
  view = MessageView::parse(*b.finish());
  ASSERT_TRUE(view.ok());
  EXPECT_STREQ(verify_fingerprint(*view).error().text, "bad FINGERPRINT length");
}

TEST(Fingerprint, Crc32KnownValues) {
  EXPECT_EQ(crc32(as_bytes("")), 0u);
  EXPECT_EQ(crc32(as_bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32(as_bytes("The quick brown fox jumps over the lazy dog")), 0x414FA339u);
}

}  // namespace
}  // namespace podium::stun
