// FINGERPRINT (RFC 8489 §14.7): CRC-32 of the message XORed with 0x5354554e.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "podium/common/result.hpp"
#include "podium/stun/message.hpp"

namespace podium::stun {

inline constexpr uint32_t kFingerprintXor = 0x5354554e;
inline constexpr size_t kFingerprintSize = 4;

// CRC-32 as in ISO/IEC 13239 (ITU-T V.42, zlib's crc32): reflected polynomial 0xEDB88320.
uint32_t crc32(std::span<const uint8_t> bytes);

// The FINGERPRINT value for a message whose bytes before the FINGERPRINT attribute are
// `prefix` (header length already counting the FINGERPRINT attribute).
inline uint32_t compute_fingerprint(std::span<const uint8_t> prefix) {
  return crc32(prefix) ^ kFingerprintXor;
}

// Fails with "no FINGERPRINT", "bad FINGERPRINT length" or "FINGERPRINT mismatch".
Result<Ok, Reason> verify_fingerprint(const MessageView& message);

}  // namespace podium::stun
