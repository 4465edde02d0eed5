// Stateless NONCE values for the long-term credential mechanism (RFC 8489 section 9.2).
//
// Format (45 ASCII characters, all valid qdtext):
//
//   "obMatJos2"  nonce cookie (RFC 8489 section 9.2): tells RFC 8489 clients that the next
//                four characters carry the server's security features
//   FFFF         base64 of the 24-bit security feature set (RFC 8489 section 18.1; bit 0, the
//                most significant bit, is "password algorithms")
//   32 hex       lowercase hex of 16 bytes: EXPIRY (32-bit unix seconds, big endian) followed by
//                the first 12 bytes of HMAC-SHA256(secret, EXPIRY || FEATURES || FAMILY || IP)
//
// The MAC binds the nonce to the client's IP address (IPv4-mapped IPv6 addresses count as their
// IPv4 form) but not to its port, so a client that reconnects over TCP or TLS from a new port
// keeps its nonce. Nothing is stored per client: a nonce is valid while its MAC verifies and
// EXPIRY is not in the past. The server secret lives only in memory, so a restart (or a new
// NonceIssuer) turns every outstanding nonce into `invalid` and clients simply retry after the
// 438 answer.
//
// issue() and check() are const and safe to call from any number of threads. They allocate
// nothing themselves (the nonce is a fixed-size value); the HMAC is computed on a reused
// per-thread OpenSSL context (see auth/crypto.hpp about OpenSSL's own small allocations).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace podium::relay::auth {

// Security feature bits (RFC 8489 section 18.1), as a 24-bit value.
inline constexpr std::uint32_t kFeaturePasswordAlgorithms = 1u << 23;
inline constexpr std::uint32_t kFeatureUsernameAnonymity = 1u << 22;

inline constexpr std::string_view kNonceCookie = "obMatJos2";

class Nonce {
 public:
  static constexpr std::size_t kSize = 9 + 4 + 32;
  std::string_view view() const { return {chars_.data(), chars_.size()}; }
  const char* data() const { return chars_.data(); }
  static constexpr std::size_t size() { return kSize; }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)

 private:
  friend class NonceIssuer;
  std::array<char, kSize> chars_{};
};

enum class NonceStatus {
  valid,
  stale,    // authentic but expired -> 438 Stale Nonce
  invalid,  // not ours, wrong client address, tampered or malformed -> also 438 (RFC 8489 9.2.4)
};
std::string_view to_string(NonceStatus status);  // snake_case, for metric labels

class NonceIssuer {
 public:
  using Clock = std::chrono::system_clock;
  using Secret = std::array<std::uint8_t, 32>;

  // A random 32-byte secret from the OpenSSL CSPRNG.
  explicit NonceIssuer(std::chrono::seconds lifetime = std::chrono::seconds(600),
                       std::uint32_t security_features = 0);
  // A given secret (tests, or sharing nonces between processes).
  NonceIssuer(std::chrono::seconds lifetime, const Secret& secret,
              std::uint32_t security_features = 0);

  Nonce issue(const boost::asio::ip::address& client_ip, Clock::time_point now) const;
  NonceStatus check(std::string_view nonce, const boost::asio::ip::address& client_ip,
                    Clock::time_point now) const;

  std::chrono::seconds lifetime() const { return lifetime_; }
  std::uint32_t security_features() const { return features_; }

 private:
  using Tag = std::array<std::uint8_t, 12>;
  Tag tag(std::uint32_t expiry, const boost::asio::ip::address& client_ip) const;

  std::chrono::seconds lifetime_;
  Secret secret_;
  std::uint32_t features_;               // 24 bits
  std::array<char, 4> features_text_{};  // base64 of the 3 feature bytes
};

}  // namespace podium::relay::auth
