// RFC 8489 section 9.2.4: long-term credential checks on requests, and the error responses
// (with or without the key's MESSAGE-INTEGRITY) every handler uses.
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

void Worker::reply_error(const Inbound& in, int code, const auth::Key* key,
                         std::span<const stun::AttributeType> unknown) {
  stun::MessageBuilder builder(scratch_);
  builder.start(in.message.method(), stun::Class::kErrorResponse, in.message.transaction_id());
  builder.add_error_code(static_cast<std::uint16_t>(code));
  if (!unknown.empty()) builder.add_unknown_attributes(unknown);
  if (key) builder.add_message_integrity(*key);
  if (in.message.has(stun::AttributeType::kFingerprint)) builder.add_fingerprint();
  auto bytes = builder.finish();
  if (!bytes) return;
  count_response(in.message.method(), code);
  send_to_client(in.link, in.tuple.client, *bytes, {}, 0);
}

// 401 and 438 carry a fresh NONCE and the REALM so the client can (re)try (section 9.2.4).
// Nothing else goes in, not even a reason phrase (RFC 8489 section 14.8 allows it empty): an
// unauthenticated request, maybe with a forged source, must not get a large answer.
void Worker::reply_challenge(const Inbound& in, int code) {
  auto nonce = shared_.nonces->issue(in.tuple.client.ip(), std::chrono::system_clock::now());
  stun::MessageBuilder builder(scratch_);
  builder.start(in.message.method(), stun::Class::kErrorResponse, in.message.transaction_id());
  builder.add_error_code(static_cast<std::uint16_t>(code), "");
  builder.add_string(stun::AttributeType::kRealm, shared_.realm);
  builder.add_string(stun::AttributeType::kNonce, nonce.view());
  if (in.message.has(stun::AttributeType::kFingerprint)) builder.add_fingerprint();
  auto bytes = builder.finish();
  if (!bytes) return;
  count_response(in.message.method(), code);
  send_to_client(in.link, in.tuple.client, *bytes, {}, 0);
}

std::optional<Worker::Authenticated> Worker::authenticate(const Inbound& in) {
  auto count = [this](AuthFailure failure) {
    ++counters_.auth_failures[static_cast<std::size_t>(failure)];
  };
  const auto& message = in.message;
  // Section 9.2.4 step 1: no MESSAGE-INTEGRITY means "tell the client the realm and a nonce".
  if (!message.has(stun::AttributeType::kMessageIntegrity)) {
    count(AuthFailure::missing_credentials);
    // Unauthenticated requests are rate limited per source address (no reflection floods).
    if (!unauthenticated_limiter_.allow(
            in.tuple.client.ip(), static_cast<std::uint64_t>(now_.time_since_epoch().count()))) {
      ++counters_.drops[static_cast<std::size_t>(Drop::rate_limited)];
      return std::nullopt;
    }
    reply_challenge(in, 401);
    return std::nullopt;
  }
  // Step 2: MESSAGE-INTEGRITY without USERNAME, REALM or NONCE is a 400.
  auto username = message.string(stun::AttributeType::kUsername);
  auto realm = message.string(stun::AttributeType::kRealm);
  auto nonce = message.string(stun::AttributeType::kNonce);
  if (!username || !realm || !nonce) {
    count(AuthFailure::malformed_username);
    reply_error(in, 400);
    return std::nullopt;
  }
  // Step 3: a nonce that is not ours or has expired gets a 438 with a fresh one.
  const auto wall_now = std::chrono::system_clock::now();
  auto nonce_status = shared_.nonces->check(*nonce, in.tuple.client.ip(), wall_now);
  if (nonce_status != auth::NonceStatus::valid) {
    count(nonce_status == auth::NonceStatus::stale ? AuthFailure::stale_nonce
                                                   : AuthFailure::invalid_nonce);
    reply_challenge(in, 438);
    return std::nullopt;
  }
  // Step 4: find the key for USERNAME and check MESSAGE-INTEGRITY with it; REST credentials try
  // every configured secret, so rotated secrets keep working.
  auto verifies = [&message](const auth::Key& key) {
    return static_cast<bool>(stun::verify_message_integrity(message, key));
  };
  auto lookup = policy_->credentials.lookup(*username, *realm, wall_now, verifies);
  if (!lookup) {
    switch (lookup.status) {
      case auth::LookupStatus::unknown_user:
        count(AuthFailure::unknown_user);
        break;
      case auth::LookupStatus::expired:
        count(AuthFailure::expired_credential);
        break;
      case auth::LookupStatus::malformed:
        count(AuthFailure::malformed_username);
        break;
      default:
        count(AuthFailure::bad_integrity);
        break;
    }
    reply_challenge(in, 401);
    return std::nullopt;
  }
  return Authenticated{lookup.credential.key, *username, lookup.credential.user};
}

}  // namespace podium::relay
