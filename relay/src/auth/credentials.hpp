// Long-term credentials (RFC 8489 section 9.2) for static users and TURN REST API usernames.
//
// Static users come from `relay.users` (user: password). TURN REST usernames have the form
// `EXPIRY:USER` (or a bare `EXPIRY`), EXPIRY being unix seconds; their password is
// base64(HMAC-SHA1(secret, username)) for one of `relay.auth_secrets`. Every secret verifies
// (rotation); the first one mints.
//
// The long-term key is MD5(username ":" realm ":" password) (RFC 8489 section 9.2.2). RFC 8489
// asks for the password to be processed with OpaqueString (RFC 8265) first; Podium's passwords
// are plain configuration strings or base64 text, for which that processing is the identity, so
// the bytes are used as they are. Usernames are likewise compared byte for byte.
//
// A CredentialStore is immutable after construction and only has const methods, so worker
// threads share one instance without locking. Reloading builds a new store and swaps it in.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "podium/config/config.hpp"

namespace podium::relay::auth {

using Key = std::array<std::uint8_t, 16>;

// MD5(username ":" realm ":" password).
Key long_term_key(std::string_view username, std::string_view realm, std::string_view password);

// The TURN REST password for `username`: base64(HMAC-SHA1(secret, username)), 28 characters.
std::string rest_password(std::string_view secret, std::string_view username);

// Longest USERNAME accepted (RFC 8489 section 14.3 allows fewer than 509 bytes).
inline constexpr std::size_t kMaxUsernameBytes = 508;

enum class CredentialKind { static_user, rest };

enum class LookupStatus {
  ok,
  unknown_user,  // not a static user and not a TURN REST username (or no secrets) -> 401
  expired,       // TURN REST username whose expiry is in the past -> 401
  malformed,     // empty, too long, `EXPIRY:` with no user, EXPIRY out of range -> 401
  rejected,      // the caller's KeyCheck accepted none of the candidate keys -> 401
};
std::string_view to_string(LookupStatus status);  // snake_case, for metric labels

struct Credential {
  Key key{};
  CredentialKind kind = CredentialKind::static_user;
  // Who the allocation counts against for quotas: the static user name, or for REST usernames
  // the part after the first ':' (the whole username when it is a bare EXPIRY). For REST this
  // views the username passed to lookup(), for static users the store's own copy; copy it if it
  // must outlive either.
  std::string_view user;
  std::int64_t expiry = 0;  // REST: unix seconds after which the credential is refused; static: 0
};

struct LookupResult {
  LookupStatus status = LookupStatus::unknown_user;
  Credential credential;  // meaningful only when ok()
  bool ok() const { return status == LookupStatus::ok; }
  explicit operator bool() const { return ok(); }
};

// A non-owning reference to a `bool(const Key&)` callable, typically "does MESSAGE-INTEGRITY
// verify with this key". Cheap to copy, never allocates; must not outlive the callable.
class KeyCheck {
 public:
  template <typename F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, KeyCheck> &&
           std::is_invocable_r_v<bool, F&, const Key&>)
      KeyCheck(F&& f)  // NOLINT(google-explicit-constructor): meant to take lambdas implicitly
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* object, const Key& key) -> bool {
          return (*static_cast<std::remove_reference_t<F>*>(object))(key);
        }) {}
  bool operator()(const Key& key) const { return call_(object_, key); }

 private:
  void* object_;
  bool (*call_)(void*, const Key&);
};

class CredentialStore {
 public:
  using Clock = std::chrono::system_clock;

  // Keys of static users are derived once here, for `realm`. Throws std::invalid_argument for
  // an empty secret (anyone could mint credentials with it).
  CredentialStore(std::string realm, const std::map<std::string, std::string>& users,
                  std::vector<std::string> auth_secrets);
  explicit CredentialStore(const config::RelayConfig& relay);

  // Finds the key for `username` in `realm` (the REALM attribute of the request) and offers
  // each candidate key to `check`, returning the first one it accepts. A static user has one
  // candidate; a TURN REST username has one per secret, tried in configuration order, which is
  // how rotated secrets keep verifying. Static users win over the REST interpretation.
  //
  // Allocation-free on our side: static users are found by std::string_view (heterogeneous
  // lookup) and their keys for the configured realm are precomputed (no crypto at all); other
  // realms and REST usernames are derived with reused per-thread OpenSSL contexts (see
  // auth/crypto.hpp about OpenSSL's own small allocations).
  LookupResult lookup(std::string_view username, std::string_view realm, Clock::time_point now,
                      KeyCheck check) const;

  // As above, accepting the first candidate (for REST usernames the key of the first secret).
  // Use the KeyCheck overload whenever there is a message to verify and secrets may rotate.
  LookupResult lookup(std::string_view username, std::string_view realm,
                      Clock::time_point now) const;

  const std::string& realm() const { return realm_; }
  std::size_t static_user_count() const { return users_.size(); }
  bool rest_enabled() const { return !secrets_.empty(); }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  struct StaticUser {
    std::string password;
    Key key;  // for realm_
  };

  LookupResult lookup_rest(std::string_view username, std::string_view realm, Clock::time_point now,
                           const KeyCheck* check) const;

  std::string realm_;
  std::unordered_map<std::string, StaticUser, StringHash, std::equal_to<>> users_;
  std::vector<std::string> secrets_;
};

// A freshly minted TURN REST credential (for `podium turn-credentials` and signaling).
struct RestCredential {
  std::string username;  // "EXPIRY:USER", or "EXPIRY" when user is empty
  std::string password;  // base64(HMAC-SHA1(secret, username))
  std::chrono::seconds ttl{0};
};

// EXPIRY = now + ttl in unix seconds. Throws std::invalid_argument for an empty secret or a
// negative ttl.
RestCredential mint_rest_credential(std::string_view secret, std::string_view user,
                                    std::chrono::seconds ttl,
                                    std::chrono::system_clock::time_point now);

}  // namespace podium::relay::auth
