// The NONCE "cookie" announcing STUN security features (RFC 8489 §9.2, §18.1): the nonce
// starts with "obMatJos2" followed by the 24-bit feature set in 4 base64 characters.
// Errata 6290: bit 0 is the rightmost (least significant) bit of the 24.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "podium/common/result.hpp"

namespace podium::stun {

inline constexpr std::string_view kNonceCookie = "obMatJos2";
inline constexpr size_t kNonceCookieSize = 13;  // prefix + 4 base64 characters

namespace security_feature {
inline constexpr uint32_t kPasswordAlgorithms = 1u << 0;
inline constexpr uint32_t kUsernameAnonymity = 1u << 1;
}  // namespace security_feature

struct NonceCookie {
  uint32_t features = 0;  // 24 bits
  std::string_view tail;  // the opaque rest of the nonce
};

// Writes cookie + features + tail into `out`; returns the nonce text (a view of `out`).
Result<std::string_view, Reason> write_nonce(std::span<char> out, uint32_t features,
                                             std::string_view tail);
// Allocating convenience for the control path.
std::string make_nonce(uint32_t features, std::string_view tail);
// Fails with "no nonce cookie" when the nonce does not start with the cookie, or
// "bad nonce cookie" when the 4 characters are not base64.
Result<NonceCookie, Reason> parse_nonce(std::string_view nonce);

}  // namespace podium::stun
