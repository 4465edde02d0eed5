// Keys for the short-term and long-term credential mechanisms (RFC 8489 §9.1, §9.2, §14.4,
// §18.5). Strings are prepared with SASLprep (RFC 4013, via libidn), which is what the RFC 5769
// and RFC 8489 test vectors use for OpaqueString; input that SASLprep rejects is used as-is.
// Printable ASCII, the usual case, is passed through without calling libidn.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace podium::stun {

using Md5Key = std::array<uint8_t, 16>;
using Sha256Key = std::array<uint8_t, 32>;
using Userhash = std::array<uint8_t, 32>;

// SASLprep(text), or `text` unchanged when SASLprep fails.
std::string sasl_prep(std::string_view text);

// RFC 8489 §9.2.2 / §18.5.1.1: MD5(username ":" realm ":" password), realm and password
// prepared. The key for MESSAGE-INTEGRITY with the MD5 password algorithm.
Md5Key long_term_key_md5(std::string_view username, std::string_view realm,
                         std::string_view password);
// §18.5.1.2: SHA-256 of the same string, for the SHA-256 password algorithm.
Sha256Key long_term_key_sha256(std::string_view username, std::string_view realm,
                               std::string_view password);
// §14.4: SHA-256(username ":" realm), both prepared.
Userhash userhash(std::string_view username, std::string_view realm);

// §9.1.1: the short-term key is the prepared password. Passwords whose prepared form exceeds
// the capacity are truncated (ICE passwords are at most 256 characters).
struct ShortTermKey {
  static constexpr size_t kCapacity = 1024;
  std::array<uint8_t, kCapacity> bytes{};
  size_t size = 0;
  std::span<const uint8_t> span() const { return {bytes.data(), size}; }
};
ShortTermKey short_term_key(std::string_view password);

}  // namespace podium::stun
