// Cryptographically secure random values (OpenSSL RAND_bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace podium {

void random_bytes(std::span<std::uint8_t> out);
// `bytes` random bytes as URL-safe base64 without padding.
std::string random_token(std::size_t bytes);

}  // namespace podium
