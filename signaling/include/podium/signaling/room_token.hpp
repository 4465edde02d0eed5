// Room tokens: who may present or watch which room, until when. A token is
// `v1.<room>.<role>.<expiry>.<mac>` with mac = base64url(HMAC-SHA256(signaling.token_secret,
// "v1.<room>.<role>.<expiry>")); expiry is unix seconds. Stateless: any process holding the
// secret verifies it, and rotating the secret revokes every token.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace podium::signaling {

enum class Role { presenter, guest };
std::string_view to_string(Role role);
bool parse_role(std::string_view text, Role& role);

// Room names: 1 to 64 characters of [A-Za-z0-9_-].
bool valid_room_name(std::string_view room);

std::string mint_room_token(std::string_view secret, std::string_view room, Role role,
                            std::chrono::system_clock::time_point expiry);

enum class TokenCheck { ok, malformed, bad_signature, expired, wrong_room, wrong_role };
std::string_view to_string(TokenCheck check);  // snake_case, for metric labels

// A presenter token also admits its holder as a guest of the same room.
TokenCheck verify_room_token(std::string_view secret, std::string_view token, std::string_view room,
                             Role role, std::chrono::system_clock::time_point now);

// The expiry a token carries, read without checking anything else: use it once
// verify_room_token() said ok. nullopt when the token is not of the v1 form.
std::optional<std::chrono::system_clock::time_point> room_token_expiry(std::string_view token);

}  // namespace podium::signaling
