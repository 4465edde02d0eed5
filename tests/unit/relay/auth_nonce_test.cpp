#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <string>

#include "auth/nonce.hpp"

namespace {

using boost::asio::ip::make_address;
using podium::relay::auth::kFeaturePasswordAlgorithms;
using podium::relay::auth::Nonce;
using podium::relay::auth::NonceIssuer;
using podium::relay::auth::NonceStatus;

using Clock = std::chrono::system_clock;
Clock::time_point at(std::int64_t unix_seconds) {
  return Clock::time_point(std::chrono::seconds(unix_seconds));
}

NonceIssuer::Secret test_secret(std::uint8_t fill) {
  NonceIssuer::Secret secret;
  secret.fill(fill);
  return secret;
}

TEST(AuthNonce, FormatHasCookieAndFeatures) {
  NonceIssuer issuer(std::chrono::seconds(600), test_secret(1));
  const Nonce nonce = issuer.issue(make_address("198.51.100.7"), at(1'700'000'000));
  const std::string text(nonce.view());
  EXPECT_EQ(text.size(), Nonce::kSize);
  EXPECT_EQ(text.substr(0, 9), "obMatJos2");
  EXPECT_EQ(text.substr(9, 4), "AAAA");  // no security features
  // Expiry 1700000600 = 0x6553f358, big endian in the first 8 hex digits.
  EXPECT_EQ(text.substr(13, 8), "6553f358");
  for (char c : text.substr(13)) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)));

  NonceIssuer with_features(std::chrono::seconds(600), test_secret(1), kFeaturePasswordAlgorithms);
  const std::string featured(with_features.issue(make_address("198.51.100.7"), at(0)).view());
  EXPECT_EQ(featured.substr(9, 4), "gAAA");  // bit 0 is the most significant bit
}

TEST(AuthNonce, ValidThenStaleAfterLifetime) {
  NonceIssuer issuer(std::chrono::seconds(600), test_secret(2));
  const auto client = make_address("203.0.113.5");
  const Nonce nonce = issuer.issue(client, at(1000));
  EXPECT_EQ(issuer.check(nonce, client, at(1000)), NonceStatus::valid);
  EXPECT_EQ(issuer.check(nonce, client, at(1600)), NonceStatus::valid);
  EXPECT_EQ(issuer.check(nonce, client, at(1601)), NonceStatus::stale);
}

TEST(AuthNonce, BoundToAddressNotPort) {
  NonceIssuer issuer(std::chrono::seconds(600), test_secret(3));
  const auto client = make_address("203.0.113.5");
  const Nonce nonce = issuer.issue(client, at(1000));
  EXPECT_EQ(issuer.check(nonce, make_address("203.0.113.6"), at(1000)), NonceStatus::invalid);
  EXPECT_EQ(issuer.check(nonce, make_address("2001:db8::5"), at(1000)), NonceStatus::invalid);
  // The IPv4-mapped form of the same client is the same client.
  EXPECT_EQ(issuer.check(nonce, make_address("::ffff:203.0.113.5"), at(1000)), NonceStatus::valid);

  const auto v6 = make_address("2001:db8::1");
  const Nonce nonce6 = issuer.issue(v6, at(1000));
  EXPECT_EQ(issuer.check(nonce6, v6, at(1000)), NonceStatus::valid);
  EXPECT_EQ(issuer.check(nonce6, make_address("2001:db8::2"), at(1000)), NonceStatus::invalid);
}

TEST(AuthNonce, TamperedOrForeignIsInvalid) {
  NonceIssuer issuer(std::chrono::seconds(600), test_secret(4));
  const auto client = make_address("203.0.113.5");
  const std::string nonce(issuer.issue(client, at(1000)).view());

  for (std::size_t i = 0; i < nonce.size(); ++i) {
    std::string tampered = nonce;
    tampered[i] = tampered[i] == 'a' ? 'b' : 'a';
    EXPECT_EQ(issuer.check(tampered, client, at(1000)), NonceStatus::invalid) << "index " << i;
  }
  // Pushing the expiry forward breaks the MAC: it is invalid, not merely stale or valid.
  std::string extended = nonce;
  extended[13] = 'f';
  EXPECT_EQ(issuer.check(extended, client, at(1000)), NonceStatus::invalid);

  EXPECT_EQ(issuer.check("", client, at(1000)), NonceStatus::invalid);
  EXPECT_EQ(issuer.check(nonce.substr(0, 44), client, at(1000)), NonceStatus::invalid);
  EXPECT_EQ(issuer.check(nonce + "0", client, at(1000)), NonceStatus::invalid);
  std::string upper = nonce;
  for (std::size_t i = 13; i < upper.size(); ++i)
    upper[i] = static_cast<char>(std::toupper(upper[i]));
  if (upper != nonce) {
    EXPECT_EQ(issuer.check(upper, client, at(1000)), NonceStatus::invalid);
  }

  // Same format, other server secret.
  NonceIssuer other(std::chrono::seconds(600), test_secret(5));
  EXPECT_EQ(other.check(nonce, client, at(1000)), NonceStatus::invalid);
  // Other security features: the nonce was not issued under them.
  NonceIssuer featured(std::chrono::seconds(600), test_secret(4), kFeaturePasswordAlgorithms);
  EXPECT_EQ(featured.check(nonce, client, at(1000)), NonceStatus::invalid);
}

TEST(AuthNonce, StaleOnlyWhenAuthentic) {
  NonceIssuer issuer(std::chrono::seconds(60), test_secret(6));
  const auto client = make_address("203.0.113.5");
  const std::string nonce(issuer.issue(client, at(1000)).view());
  std::string tampered = nonce;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(issuer.check(tampered, client, at(5000)), NonceStatus::invalid);
  EXPECT_EQ(issuer.check(nonce, client, at(5000)), NonceStatus::stale);
}

TEST(AuthNonce, RandomSecretsDiffer) {
  NonceIssuer a;
  NonceIssuer b;
  EXPECT_EQ(a.lifetime(), std::chrono::seconds(600));
  const auto client = make_address("203.0.113.5");
  const Nonce nonce = a.issue(client, at(1000));
  EXPECT_EQ(a.check(nonce, client, at(1000)), NonceStatus::valid);
  EXPECT_EQ(b.check(nonce, client, at(1000)), NonceStatus::invalid);
  EXPECT_NE(a.issue(client, at(1000)).view(), b.issue(client, at(1000)).view());
}

TEST(AuthNonce, StatusNames) {
  EXPECT_EQ(to_string(NonceStatus::valid), "valid");
  EXPECT_EQ(to_string(NonceStatus::stale), "stale");
  EXPECT_EQ(to_string(NonceStatus::invalid), "invalid");
}

}  // namespace
