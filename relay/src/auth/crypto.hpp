// Small OpenSSL 3 wrappers used by the auth module: MD5 for the long-term key, HMAC-SHA1 for the
// TURN REST password, HMAC-SHA256 for stateless nonces, and base64.
//
// Each thread keeps its own digest and MAC contexts and reuses them, so Podium code allocates
// nothing here. OpenSSL 3.0's EVP layer still makes a few small internal allocations per call
// (measured: 1 per MD5, 5 per HMAC, as the provider context is re-created on each init); that is
// outside our control short of the deprecated low-level APIs, and these run once or a few times
// per authenticated request, never per relayed packet.
// MD5 must be available from the default provider (it is not in a FIPS-only configuration).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace podium::relay::auth::crypto {

using Md5Digest = std::array<std::uint8_t, 16>;
using Sha1Digest = std::array<std::uint8_t, 20>;
using Sha256Digest = std::array<std::uint8_t, 32>;

inline std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// MD5 over the concatenation of `parts`. Throws std::runtime_error if OpenSSL fails.
Md5Digest md5(std::span<const std::span<const std::uint8_t>> parts);

// HMAC-SHA1(key, data). Throws std::runtime_error if OpenSSL fails.
Sha1Digest hmac_sha1(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);

// HMAC-SHA256 over the concatenation of `parts`. Throws std::runtime_error if OpenSSL fails.
Sha256Digest hmac_sha256(std::span<const std::uint8_t> key,
                         std::span<const std::span<const std::uint8_t>> parts);

// Standard base64 (RFC 4648 section 4) with padding. `out` must hold base64_size(in.size())
// characters; returns the number written.
constexpr std::size_t base64_size(std::size_t n) {
  return (n + 2) / 3 * 4;
}
std::size_t base64_encode(std::span<const std::uint8_t> in, char* out);
std::string base64_encode(std::span<const std::uint8_t> in);

// Constant-time comparison of two equally long buffers.
bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// Fills `out` from the OpenSSL CSPRNG. Throws std::runtime_error on failure.
void random_bytes(std::span<std::uint8_t> out);

}  // namespace podium::relay::auth::crypto
