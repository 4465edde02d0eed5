// RFC 8489 Appendix B.1 (errata 6268): SHA-256 long-term credentials and USERHASH.
#include <gtest/gtest.h>

#include <array>

#include "podium/stun/attributes.hpp"
#include "podium/stun/credentials.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"
#include "podium/stun/nonce_cookie.hpp"
#include "test_vectors.hpp"

namespace podium::stun {
namespace {

using test::bytes_of;

constexpr std::string_view kNonce = "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA";
constexpr TransactionId kTid = {0x78, 0xad, 0x34, 0x33, 0xc6, 0xad,
                                0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e};

TEST(Rfc8489B1, UserhashMatchesVector) {
  const auto hash = userhash(test::kLongTermUsername, "example.org");
  EXPECT_EQ(bytes_of(hash),
            test::from_hex("4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704"));
}

TEST(Rfc8489B1, ParsesAndVerifies) {
  auto parsed = MessageView::parse(test::kRfc8489B1Request);
  ASSERT_TRUE(parsed.ok()) << parsed.error().text;
  const auto& view = *parsed;
  EXPECT_EQ(view.method(), Method::kBinding);
  ASSERT_EQ(view.attribute_count(), 5u);

  auto hash = decode_userhash(*view.find(AttributeType::kUserhash));
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(bytes_of(*hash), bytes_of(userhash(test::kLongTermUsername, "example.org")));
  EXPECT_EQ(*view.string(AttributeType::kNonce), kNonce);
  EXPECT_EQ(*view.string(AttributeType::kRealm), "example.org");
  auto algorithm = decode_password_algorithm(*view.find(AttributeType::kPasswordAlgorithm));
  ASSERT_TRUE(algorithm.ok());
  EXPECT_EQ(algorithm->algorithm, PasswordAlgorithm::kSha256);
  EXPECT_TRUE(algorithm->parameters.empty());

  // The nonce cookie announces username anonymity (bit 1, errata 6290's bit order).
  auto cookie = parse_nonce(*view.string(AttributeType::kNonce));
  ASSERT_TRUE(cookie.ok());
  EXPECT_EQ(cookie->features, security_feature::kUsernameAnonymity);
  EXPECT_EQ(cookie->tail, "f//499k954d6OL34oL9FSTvy64sA");

  const auto key =
      long_term_key_sha256(test::kLongTermUsername, "example.org", test::kLongTermPassword);
  EXPECT_TRUE(verify_message_integrity_sha256(view, key).ok());
  auto md5 = verify_message_integrity(view, key);
  ASSERT_FALSE(md5.ok());
  EXPECT_STREQ(md5.error().text, "no MESSAGE-INTEGRITY");
}

TEST(Rfc8489B1, Reencodes) {
  std::array<uint8_t, 256> buffer{};
  MessageBuilder b(buffer);
  const auto hash = userhash(test::kLongTermUsername, "example.org");
  b.start(Method::kBinding, Class::kRequest, kTid)
      .add_raw(AttributeType::kUserhash, hash)
      .add_nonce(kNonce)
      .add_realm("example.org")
      .add_password_algorithm({PasswordAlgorithm::kSha256, {}})
      .add_message_integrity_sha256(
          long_term_key_sha256(test::kLongTermUsername, "example.org", test::kLongTermPassword));
  auto out = b.finish();
  ASSERT_TRUE(out.ok()) << out.error().text;
  EXPECT_EQ(bytes_of(*out), bytes_of(test::kRfc8489B1Request));
}

TEST(Rfc8489B1, TruncatedSha256IntegrityVerifies) {
  const auto key =
      long_term_key_sha256(test::kLongTermUsername, "example.org", test::kLongTermPassword);
  for (size_t size : {16u, 20u, 24u, 28u, 32u}) {
    std::array<uint8_t, 256> buffer{};
    MessageBuilder b(buffer);
    b.start(Method::kBinding, Class::kRequest, kTid)
        .add_realm("example.org")
        .add_message_integrity_sha256(key, size)
        .add_fingerprint();
    auto out = b.finish();
    ASSERT_TRUE(out.ok());
    auto view = MessageView::parse(*out);
    ASSERT_TRUE(view.ok());
    EXPECT_EQ(view->find(AttributeType::kMessageIntegritySha256)->value.size(), size);
    EXPECT_TRUE(verify_message_integrity_sha256(*view, key).ok()) << size;
  }
  std::array<uint8_t, 256> buffer{};
  MessageBuilder b(buffer);
  for (size_t bad : {0u, 12u, 18u, 36u}) {
    b.start(Method::kBinding, Class::kRequest, kTid).add_message_integrity_sha256(key, bad);
    EXPECT_FALSE(b.ok()) << bad;
  }
}

}  // namespace
}  // namespace podium::stun
