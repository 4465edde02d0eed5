#include "ice/ice_lite_agent.hpp"

#include "podium/common/random.hpp"
#include "podium/stun/fingerprint.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"

namespace podium::sfu::ice {

Credentials generate_credentials() {
  // 6 bytes -> 8 characters of ufrag (48 bits); 18 bytes -> 24 characters of password (144
  // bits). random_token's URL-safe base64 alphabet is within ice-char (RFC 8839 section 5.4)
  // except '-' and '_', so map those to '+' and '/'.
  auto ice_chars = [](std::string text) {
    for (char& c : text) {
      if (c == '-') c = '+';
      if (c == '_') c = '/';
    }
    return text;
  };
  return {ice_chars(random_token(6)), ice_chars(random_token(18))};
}

std::string_view local_ufrag_of(const stun::MessageView& request) {
  auto username = request.string(stun::AttributeType::kUsername);
  if (!username) return {};
  auto colon = username->find(':');
  if (colon == std::string_view::npos || colon == 0) return {};
  return username->substr(0, colon);
}

IceLiteAgent::IceLiteAgent(Credentials local, Credentials remote,
                           std::chrono::seconds consent_timeout)
    : local_(std::move(local)),
      remote_(std::move(remote)),
      key_(stun::short_term_key(local_.pwd)),
      consent_timeout_(consent_timeout) {}

void IceLiteAgent::restart(Credentials local, Credentials remote) {
  local_ = std::move(local);
  remote_ = std::move(remote);
  key_ = stun::short_term_key(local_.pwd);
}

bool IceLiteAgent::consent_expired(SteadyTime now) const {
  // Before any valid check the session's own setup timeout applies, not consent.
  if (last_consent_ == SteadyTime{}) return false;
  return now - last_consent_ > consent_timeout_;
}

IceLiteAgent::Answer IceLiteAgent::handle(const stun::MessageView& request,
                                          const SocketAddress& source, SteadyTime now,
                                          std::span<std::uint8_t> out) {
  if (request.method() != stun::Method::kBinding || request.cls() != stun::Class::kRequest) {
    return {};
  }
  auto error = [&](CheckResult result, std::uint16_t code) {
    stun::MessageBuilder builder(out);
    builder.start(stun::Method::kBinding, stun::Class::kErrorResponse, request.transaction_id());
    builder.add_error_code(code);
    builder.add_fingerprint();
    auto bytes = builder.finish();
    return Answer{result, bytes ? *bytes : std::span<const std::uint8_t>{}};
  };
  // RFC 8445 section 7.3 / RFC 8489 section 9.1.3: checks carry USERNAME and MESSAGE-INTEGRITY
  // (short-term credentials: our password); missing ones are a 400, wrong ones a 401.
  if (!request.has(stun::AttributeType::kUsername) ||
      !request.has(stun::AttributeType::kMessageIntegrity)) {
    return error(CheckResult::bad_request, 400);
  }
  if (request.has(stun::AttributeType::kFingerprint) && !stun::verify_fingerprint(request)) {
    return error(CheckResult::bad_request, 400);
  }
  if (local_ufrag_of(request) != local_.ufrag ||
      !stun::verify_message_integrity(request, key_.span())) {
    return error(CheckResult::unauthorized, 401);
  }

  // Section 7.3.1.5: a lite agent takes the pair the controlling agent nominates.
  if (request.has(stun::AttributeType::kUseCandidate)) selected_ = source;
  // RFC 7675: any valid check on the selected pair refreshes consent (a check before the
  // nomination counts too: it proves the peer is there).
  if (!selected_ || *selected_ == source) last_consent_ = now;

  // Section 7.3.1.2 / RFC 8489 section 6.3.1.1: the success response reflects the source.
  stun::MessageBuilder builder(out);
  builder.start(stun::Method::kBinding, stun::Class::kSuccessResponse, request.transaction_id());
  builder.add_xor_address(stun::AttributeType::kXorMappedAddress,
                          stun::Address{source.ip(), source.port()});
  builder.add_message_integrity(key_.span());
  builder.add_fingerprint();
  auto bytes = builder.finish();
  return Answer{CheckResult::accepted, bytes ? *bytes : std::span<const std::uint8_t>{}};
}

}  // namespace podium::sfu::ice
