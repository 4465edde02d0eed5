#include "auth/nonce.hpp"

#include <algorithm>
#include <limits>

#include "auth/crypto.hpp"

namespace podium::relay::auth {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase is refused too: we only ever issue lowercase
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(NonceStatus status) {
  switch (status) {
    case NonceStatus::valid:
      return "valid";
    case NonceStatus::stale:
      return "stale";
    case NonceStatus::invalid:
      return "invalid";
  }
  return "unknown";
}

NonceIssuer::NonceIssuer(std::chrono::seconds lifetime, std::uint32_t security_features)
    : NonceIssuer(lifetime, Secret{}, security_features) {
  crypto::random_bytes(secret_);
}

NonceIssuer::NonceIssuer(std::chrono::seconds lifetime, const Secret& secret,
                         std::uint32_t security_features)
    : lifetime_(std::max(lifetime, std::chrono::seconds(1))),
      secret_(secret),
      features_(security_features & 0xffffffu) {
  // RFC 8489 section 9.2: the feature set is 24 bits, sent as 4 base64 characters.
  const std::array<std::uint8_t, 3> bytes = {static_cast<std::uint8_t>(features_ >> 16),
                                             static_cast<std::uint8_t>(features_ >> 8),
                                             static_cast<std::uint8_t>(features_)};
  crypto::base64_encode(bytes, features_text_.data());
}

NonceIssuer::Tag NonceIssuer::tag(std::uint32_t expiry,
                                  const boost::asio::ip::address& client_ip) const {
  const std::array<std::uint8_t, 4> expiry_bytes = {
      static_cast<std::uint8_t>(expiry >> 24), static_cast<std::uint8_t>(expiry >> 16),
      static_cast<std::uint8_t>(expiry >> 8), static_cast<std::uint8_t>(expiry)};
  const std::array<std::uint8_t, 3> feature_bytes = {static_cast<std::uint8_t>(features_ >> 16),
                                                     static_cast<std::uint8_t>(features_ >> 8),
                                                     static_cast<std::uint8_t>(features_)};
  // Bind to the address only; ::ffff:a.b.c.d and a.b.c.d are the same client.
  std::array<std::uint8_t, 1 + 16> address{};
  std::size_t address_size = 0;
  if (client_ip.is_v4()) {
    const auto v4 = client_ip.to_v4().to_bytes();
    address[0] = 4;
    std::copy(v4.begin(), v4.end(), address.begin() + 1);
    address_size = 1 + 4;
  } else {
    const auto v6 = client_ip.to_v6().to_bytes();
    if (client_ip.to_v6().is_v4_mapped()) {
      address[0] = 4;
      std::copy(v6.begin() + 12, v6.end(), address.begin() + 1);
      address_size = 1 + 4;
    } else {
      address[0] = 6;
      std::copy(v6.begin(), v6.end(), address.begin() + 1);
      address_size = 1 + 16;
    }
  }
  const std::span<const std::uint8_t> parts[] = {
      expiry_bytes, feature_bytes, std::span<const std::uint8_t>(address.data(), address_size)};
  const auto mac = crypto::hmac_sha256(secret_, parts);
  Tag truncated{};
  std::copy_n(mac.begin(), truncated.size(), truncated.begin());
  return truncated;
}

Nonce NonceIssuer::issue(const boost::asio::ip::address& client_ip, Clock::time_point now) const {
  const std::int64_t expiry64 = std::clamp<std::int64_t>(unix_seconds(now) + lifetime_.count(), 0,
                                                         std::numeric_limits<std::uint32_t>::max());
  const auto expiry = static_cast<std::uint32_t>(expiry64);
  const Tag mac = tag(expiry, client_ip);

  std::array<std::uint8_t, 4 + 12> payload{};
  payload[0] = static_cast<std::uint8_t>(expiry >> 24);
  payload[1] = static_cast<std::uint8_t>(expiry >> 16);
  payload[2] = static_cast<std::uint8_t>(expiry >> 8);
  payload[3] = static_cast<std::uint8_t>(expiry);
  std::copy(mac.begin(), mac.end(), payload.begin() + 4);

  Nonce nonce;
  char* out = nonce.chars_.data();
  out = std::copy(kNonceCookie.begin(), kNonceCookie.end(), out);
  out = std::copy(features_text_.begin(), features_text_.end(), out);
  for (std::uint8_t byte : payload) {
    *out++ = kHexDigits[byte >> 4];
    *out++ = kHexDigits[byte & 0xf];
  }
  return nonce;
}

NonceStatus NonceIssuer::check(std::string_view nonce, const boost::asio::ip::address& client_ip,
                               Clock::time_point now) const {
  if (nonce.size() != Nonce::kSize || !nonce.starts_with(kNonceCookie)) {
    return NonceStatus::invalid;
  }
  const std::string_view features = nonce.substr(kNonceCookie.size(), features_text_.size());
  if (!std::equal(features.begin(), features.end(), features_text_.begin())) {
    return NonceStatus::invalid;
  }
  const std::string_view hex = nonce.substr(kNonceCookie.size() + features_text_.size());
  std::array<std::uint8_t, 4 + 12> payload{};
  for (std::size_t i = 0; i < payload.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return NonceStatus::invalid;
    payload[i] = static_cast<std::uint8_t>((high << 4) | low);
  }
  const std::uint32_t expiry = (std::uint32_t{payload[0]} << 24) |
                               (std::uint32_t{payload[1]} << 16) |
                               (std::uint32_t{payload[2]} << 8) | std::uint32_t{payload[3]};
  const Tag expected = tag(expiry, client_ip);
  if (!crypto::equal_constant_time(expected,
                                   std::span<const std::uint8_t>(payload.data() + 4, 12))) {
    return NonceStatus::invalid;
  }
  // Only an authentic nonce can be stale (RFC 8489 section 9.2.4: 438 with a fresh NONCE).
  return unix_seconds(now) > std::int64_t{expiry} ? NonceStatus::stale : NonceStatus::valid;
}

}  // namespace podium::relay::auth
