#include "podium/stun/nonce_cookie.hpp"

#include <array>
#include <cstring>

namespace podium::stun {

namespace {

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  const auto pos = kBase64.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// RFC 8489 §9.2: the 24 feature bits as 4 base64 characters, most significant first.
std::array<char, 4> encode_features(uint32_t features) {
  std::array<char, 4> out{};
  for (int i = 0; i < 4; ++i) out[i] = kBase64[(features >> (18 - 6 * i)) & 0x3F];
  return out;
}

}  // namespace

Result<std::string_view, Reason> write_nonce(std::span<char> out, uint32_t features,
                                             std::string_view tail) {
  if (features > 0xFFFFFF) return fail_reason("security features exceed 24 bits");
  const size_t size = kNonceCookieSize + tail.size();
  if (size > out.size()) return fail_reason("buffer too small for nonce");
  std::memcpy(out.data(), kNonceCookie.data(), kNonceCookie.size());
  const auto encoded = encode_features(features);
  std::memcpy(out.data() + kNonceCookie.size(), encoded.data(), encoded.size());
  if (!tail.empty()) std::memcpy(out.data() + kNonceCookieSize, tail.data(), tail.size());
  return std::string_view(out.data(), size);
}

std::string make_nonce(uint32_t features, std::string_view tail) {
  std::string nonce(kNonceCookie);
  const auto encoded = encode_features(features & 0xFFFFFF);
  nonce.append(encoded.data(), encoded.size());
  nonce.append(tail);
  return nonce;
}

Result<NonceCookie, Reason> parse_nonce(std::string_view nonce) {
  if (nonce.size() < kNonceCookieSize || nonce.substr(0, kNonceCookie.size()) != kNonceCookie) {
    return fail_reason("no nonce cookie");
  }
  uint32_t features = 0;
  for (size_t i = kNonceCookie.size(); i < kNonceCookieSize; ++i) {
    const int value = base64_value(nonce[i]);
    if (value < 0) return fail_reason("bad nonce cookie");
    features = (features << 6) | static_cast<uint32_t>(value);
  }
  return NonceCookie{features, nonce.substr(kNonceCookieSize)};
}

}  // namespace podium::stun
