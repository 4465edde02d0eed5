// MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) and MESSAGE-INTEGRITY-SHA256 (§14.6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "podium/common/result.hpp"
#include "podium/stun/message.hpp"

namespace podium::stun {

inline constexpr size_t kMessageIntegritySize = 20;
inline constexpr size_t kMessageIntegritySha256Size = 32;
// §14.6: a truncated MESSAGE-INTEGRITY-SHA256 keeps at least 16 bytes, in multiples of 4.
inline constexpr size_t kMinMessageIntegritySha256Size = 16;

// Checks the message's MESSAGE-INTEGRITY with `key` (the short-term password after SASLprep,
// or a long-term key from credentials.hpp). Fails with "no MESSAGE-INTEGRITY",
// "bad MESSAGE-INTEGRITY length" or "MESSAGE-INTEGRITY mismatch". Comparison is constant-time.
Result<Ok, Reason> verify_message_integrity(const MessageView& message,
                                            std::span<const uint8_t> key);
// The same for MESSAGE-INTEGRITY-SHA256, accepting the §14.6 truncations.
Result<Ok, Reason> verify_message_integrity_sha256(const MessageView& message,
                                                   std::span<const uint8_t> key);

// The HMAC over `prefix` (message bytes before the integrity attribute) with the header's
// length field replaced by `length_field`, as §14.5/§14.6 prescribe. `prefix` must hold at
// least the 20-byte header. False if OpenSSL fails.
bool compute_hmac_sha1(std::span<const uint8_t> prefix, uint16_t length_field,
                       std::span<const uint8_t> key, std::span<uint8_t, 20> out);
bool compute_hmac_sha256(std::span<const uint8_t> prefix, uint16_t length_field,
                         std::span<const uint8_t> key, std::span<uint8_t, 32> out);

}  // namespace podium::stun
