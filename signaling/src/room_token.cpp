#include "podium/signaling/room_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <vector>

namespace podium::signaling {

namespace {

std::string base64url(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string mac(std::string_view secret, std::string_view payload) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest.data(),
       &length);
  return base64url(digest.data(), length);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

// The expiry field: seconds since the epoch, within what system_clock can hold (a larger value
// would overflow converting to its nanoseconds).
std::optional<long long> parse_expiry(std::string_view field) {
  long long expiry = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), expiry);
  if (ec != std::errc() || end != field.data() + field.size()) return std::nullopt;
  constexpr long long kLatest = std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::time_point::max().time_since_epoch())
                                    .count();
  if (expiry < 0 || expiry > kLatest) return std::nullopt;
  return expiry;
}

}  // namespace

std::string_view to_string(Role role) {
  return role == Role::presenter ? "presenter" : "guest";
}

bool parse_role(std::string_view text, Role& role) {
  if (text == "presenter") {
    role = Role::presenter;
    return true;
  }
  if (text == "guest") {
    role = Role::guest;
    return true;
  }
  return false;
}

bool valid_room_name(std::string_view room) {
  if (room.empty() || room.size() > 64) return false;
  for (char c : room) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string mint_room_token(std::string_view secret, std::string_view room, Role role,
                            std::chrono::system_clock::time_point expiry) {
  auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(expiry.time_since_epoch()).count();
  std::string payload = "v1.";
  payload.append(room)
      .append(".")
      .append(to_string(role))
      .append(".")
      .append(std::to_string(seconds));
  return payload + "." + mac(secret, payload);
}

std::string_view to_string(TokenCheck check) {
  switch (check) {
    case TokenCheck::ok:
      return "ok";
    case TokenCheck::malformed:
      return "malformed";
    case TokenCheck::bad_signature:
      return "bad_signature";
    case TokenCheck::expired:
      return "expired";
    case TokenCheck::wrong_room:
      return "wrong_room";
    case TokenCheck::wrong_role:
      return "wrong_role";
  }
  return "malformed";
}

std::optional<std::chrono::system_clock::time_point> room_token_expiry(std::string_view token) {
  auto parts = split(token, '.');
  if (parts.size() != 5 || parts[0] != "v1") return std::nullopt;
  auto expiry = parse_expiry(parts[3]);
  if (!expiry) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::seconds(*expiry));
}

TokenCheck verify_room_token(std::string_view secret, std::string_view token, std::string_view room,
                             Role role, std::chrono::system_clock::time_point now) {
  if (token.size() > 512) return TokenCheck::malformed;
  auto parts = split(token, '.');
  if (parts.size() != 5 || parts[0] != "v1" || !valid_room_name(parts[1])) {
    return TokenCheck::malformed;
  }
  Role token_role;
  if (!parse_role(parts[2], token_role)) return TokenCheck::malformed;
  auto expiry = parse_expiry(parts[3]);
  if (!expiry) return TokenCheck::malformed;
  // Check the signature first, so only authentic tokens are told apart by what is wrong.
  std::string_view payload = token.substr(0, token.size() - parts[4].size() - 1);
  std::string expected = mac(secret, payload);
  if (expected.size() != parts[4].size() ||
      CRYPTO_memcmp(expected.data(), parts[4].data(), expected.size()) != 0) {
    return TokenCheck::bad_signature;
  }
  if (parts[1] != room) return TokenCheck::wrong_room;
  if (token_role != role && !(token_role == Role::presenter && role == Role::guest)) {
    return TokenCheck::wrong_role;
  }
  auto now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (*expiry < now_seconds) return TokenCheck::expired;
  return TokenCheck::ok;
}

}  // namespace podium::signaling
