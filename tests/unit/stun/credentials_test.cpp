// Long-term and short-term keys, USERHASH, SASLprep and the NONCE security-feature cookie.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "podium/stun/attribute.hpp"
#include "podium/stun/credentials.hpp"
#include "podium/stun/nonce_cookie.hpp"
#include "test_vectors.hpp"

namespace podium::stun {
namespace {

using test::bytes_of;
using test::from_hex;

TEST(Credentials, LongTermKeyMd5) {
  // MD5("user:realm:pass").
  EXPECT_EQ(bytes_of(long_term_key_md5("user", "realm", "pass")),
            from_hex("8493fbc53ba582fb4c044c456bdc40eb"));
}

TEST(Credentials, LongTermKeySha256) {
  // SHA-256("user:realm:pass").
  EXPECT_EQ(bytes_of(long_term_key_sha256("user", "realm", "pass")),
            from_hex("07e934117abd40836e7c6329b54731b2b2d2a5f9a71f544922d75e0730d8251b"));
}

TEST(Credentials, SaslPrep) {
  EXPECT_EQ(sasl_prep(test::kLongTermPassword), "TheMatrIX");
  EXPECT_EQ(sasl_prep("plain ascii"), "plain ascii");
  EXPECT_EQ(sasl_prep("I\xc2\xadX"), "IX");  // soft hyphen mapped to nothing
  EXPECT_EQ(sasl_prep("a\xc2\xa0"
                      "b"),
            "a b");                            // non-ASCII space mapped to space
  EXPECT_EQ(sasl_prep("\xe2\x85\xa8"), "IX");  // NFKC
  // Prohibited input (a control character) is used unchanged.
  EXPECT_EQ(sasl_prep("a\x07"
                      "b"),
            "a\x07"
            "b");
  EXPECT_EQ(sasl_prep(std::string_view("a\0b", 3)), std::string("a\0b", 3));
}

TEST(Credentials, ShortTermKey) {
  const auto key = short_term_key("VOkJxbRl1RmTxUk/WvJxBt");
  EXPECT_EQ(as_text(key.span()), "VOkJxbRl1RmTxUk/WvJxBt");
  EXPECT_EQ(as_text(short_term_key(test::kLongTermPassword).span()), "TheMatrIX");
  EXPECT_TRUE(short_term_key("").span().empty());
}

TEST(Credentials, UserhashPreparesInputs) {
  EXPECT_EQ(userhash("user", "realm"), userhash("user",
                                                "re\xc2\xad"
                                                "alm"));
  EXPECT_NE(userhash("user", "realm"), userhash("User", "realm"));
}

TEST(NonceCookie, RoundTrip) {
  for (uint32_t features : {0u, 1u, 2u, 3u, 0xFFFFFFu, 0x123456u}) {
    std::array<char, 64> buffer{};
    auto nonce = write_nonce(buffer, features, "opaque-tail");
    ASSERT_TRUE(nonce.ok());
    EXPECT_EQ(nonce->substr(0, 9), "obMatJos2");
    EXPECT_EQ(nonce->size(), 13u + 11u);
    EXPECT_EQ(make_nonce(features, "opaque-tail"), *nonce);
    auto parsed = parse_nonce(*nonce);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->features, features);
    EXPECT_EQ(parsed->tail, "opaque-tail");
  }
}

TEST(NonceCookie, FeatureBitOrderFollowsErrata6290) {
  // Bit 0 is the least significant bit: password algorithms alone encode as "AAAB".
  EXPECT_EQ(make_nonce(security_feature::kPasswordAlgorithms, ""), "obMatJos2AAAB");
  EXPECT_EQ(make_nonce(security_feature::kUsernameAnonymity, ""), "obMatJos2AAAC");
  EXPECT_EQ(
      make_nonce(security_feature::kPasswordAlgorithms | security_feature::kUsernameAnonymity, "x"),
      "obMatJos2AAADx");
}

TEST(NonceCookie, Rejections) {
  EXPECT_STREQ(parse_nonce("f//499k954d6OL34oL9FSTvy64sA").error().text, "no nonce cookie");
  EXPECT_STREQ(parse_nonce("obMatJos2AA").error().text, "no nonce cookie");
  EXPECT_STREQ(parse_nonce("obMatJos2AA=A").error().text, "bad nonce cookie");
  EXPECT_STREQ(parse_nonce("obMatJos2AA\xffZ").error().text, "bad nonce cookie");
  std::array<char, 12> small{};
  EXPECT_FALSE(write_nonce(small, 1, "").ok());
  std::array<char, 64> buffer{};
  EXPECT_FALSE(write_nonce(buffer, 0x1000000, "").ok());
}

}  // namespace
}  // namespace podium::stun
