#include "auth/credentials.hpp"

#include <charconv>
#include <stdexcept>

#include "auth/crypto.hpp"

namespace podium::relay::auth {
namespace {

constexpr std::size_t kRestPasswordChars = crypto::base64_size(crypto::Sha1Digest{}.size());

// base64(HMAC-SHA1(secret, username)) into a caller buffer (TURN REST API password).
void rest_password_into(std::string_view secret, std::string_view username,
                        std::array<char, kRestPasswordChars>& out) {
  const auto mac = crypto::hmac_sha1(crypto::bytes_of(secret), crypto::bytes_of(username));
  crypto::base64_encode(mac, out.data());
}

enum class RestParse { ok, not_rest, malformed };

struct RestUsername {
  std::int64_t expiry = 0;
  std::string_view user;
};

// `EXPIRY:USER` or `EXPIRY`, EXPIRY being decimal unix seconds.
RestParse parse_rest_username(std::string_view username, RestUsername& out) {
  const auto colon = username.find(':');
  const std::string_view head = username.substr(0, colon);
  if (head.empty()) return RestParse::not_rest;
  for (char c : head) {
    if (c < '0' || c > '9') return RestParse::not_rest;
  }
  // 12 digits reach year 33658; anything longer is not a real expiry.
  if (head.size() > 12) return RestParse::malformed;
  std::int64_t expiry = 0;
  std::from_chars(head.data(), head.data() + head.size(), expiry);
  out.expiry = expiry;
  if (colon == std::string_view::npos) {
    out.user = username;  // bare EXPIRY: the credential itself is the quota subject
    return RestParse::ok;
  }
  out.user = username.substr(colon + 1);
  return out.user.empty() ? RestParse::malformed : RestParse::ok;
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

}  // namespace

Key long_term_key(std::string_view username, std::string_view realm, std::string_view password) {
  // RFC 8489 section 9.2.2: key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password))
  const std::span<const std::uint8_t> parts[] = {crypto::bytes_of(username), crypto::bytes_of(":"),
                                                 crypto::bytes_of(realm), crypto::bytes_of(":"),
                                                 crypto::bytes_of(password)};
  return crypto::md5(parts);
}

std::string rest_password(std::string_view secret, std::string_view username) {
  std::array<char, kRestPasswordChars> chars{};
  rest_password_into(secret, username, chars);
  return {chars.data(), chars.size()};
}

std::string_view to_string(LookupStatus status) {
  switch (status) {
    case LookupStatus::ok:
      return "ok";
    case LookupStatus::unknown_user:
      return "unknown_user";
    case LookupStatus::expired:
      return "expired";
    case LookupStatus::malformed:
      return "malformed";
    case LookupStatus::rejected:
      return "rejected";
  }
  return "unknown";
}

CredentialStore::CredentialStore(std::string realm, const std::map<std::string, std::string>& users,
                                 std::vector<std::string> auth_secrets)
    : realm_(std::move(realm)), secrets_(std::move(auth_secrets)) {
  for (const auto& secret : secrets_) {
    if (secret.empty()) throw std::invalid_argument("TURN REST secret must not be empty");
  }
  users_.reserve(users.size());
  for (const auto& [name, password] : users) {
    users_.emplace(name, StaticUser{password, long_term_key(name, realm_, password)});
  }
}

CredentialStore::CredentialStore(const config::RelayConfig& relay)
    : CredentialStore(relay.realm, relay.users, relay.auth_secrets) {}

LookupResult CredentialStore::lookup(std::string_view username, std::string_view realm,
                                     Clock::time_point now, KeyCheck check) const {
  if (username.empty() || username.size() > kMaxUsernameBytes) {
    return {LookupStatus::malformed, {}};
  }
  if (const auto it = users_.find(username); it != users_.end()) {
    LookupResult result{LookupStatus::ok, {}};
    result.credential.kind = CredentialKind::static_user;
    result.credential.user = it->first;
    result.credential.key =
        realm == realm_ ? it->second.key : long_term_key(username, realm, it->second.password);
    if (!check(result.credential.key)) result.status = LookupStatus::rejected;
    return result;
  }
  return lookup_rest(username, realm, now, &check);
}

LookupResult CredentialStore::lookup(std::string_view username, std::string_view realm,
                                     Clock::time_point now) const {
  return lookup(username, realm, now, [](const Key&) { return true; });
}

LookupResult CredentialStore::lookup_rest(std::string_view username, std::string_view realm,
                                          Clock::time_point now, const KeyCheck* check) const {
  RestUsername rest;
  switch (parse_rest_username(username, rest)) {
    case RestParse::not_rest:
      return {LookupStatus::unknown_user, {}};
    case RestParse::malformed:
      return {LookupStatus::malformed, {}};
    case RestParse::ok:
      break;
  }
  if (secrets_.empty()) return {LookupStatus::unknown_user, {}};
  if (rest.expiry < unix_seconds(now)) return {LookupStatus::expired, {}};

  LookupResult result{LookupStatus::rejected, {}};
  result.credential.kind = CredentialKind::rest;
  result.credential.user = rest.user;
  result.credential.expiry = rest.expiry;
  // TURN REST API: password = base64(HMAC-SHA1(secret, username)); every secret is a candidate.
  std::array<char, kRestPasswordChars> password{};
  for (const auto& secret : secrets_) {
    rest_password_into(secret, username, password);
    const Key key =
        long_term_key(username, realm, std::string_view(password.data(), password.size()));
    if ((*check)(key)) {
      result.status = LookupStatus::ok;
      result.credential.key = key;
      return result;
    }
  }
  return result;
}

RestCredential mint_rest_credential(std::string_view secret, std::string_view user,
                                    std::chrono::seconds ttl,
                                    std::chrono::system_clock::time_point now) {
  if (secret.empty()) throw std::invalid_argument("TURN REST secret must not be empty");
  if (ttl.count() < 0) throw std::invalid_argument("TURN REST credential ttl must not be negative");
  RestCredential credential;
  credential.username = std::to_string(unix_seconds(now) + ttl.count());
  if (!user.empty()) {
    credential.username += ':';
    credential.username += user;
  }
  credential.password = rest_password(secret, credential.username);
  credential.ttl = ttl;
  return credential;
}

}  // namespace podium::relay::auth
