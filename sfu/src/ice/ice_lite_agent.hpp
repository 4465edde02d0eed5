// The SFU's side of ICE (RFC 8445 section 2.5, lite implementation): it never sends checks of
// its own, it answers the peer's connectivity checks on its single host candidate, takes the
// pair the peer nominates (USE-CANDIDATE), and keeps it only while the peer keeps consent
// fresh (RFC 7675). One agent per session; not thread-safe (owned by the session's worker).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "podium/common/result.hpp"
#include "podium/common/socket_address.hpp"
#include "podium/stun/credentials.hpp"
#include "podium/stun/message.hpp"

namespace podium::sfu::ice {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Credentials {
  std::string ufrag;
  std::string pwd;
};

// Fresh random credentials for the SFU's side of a session (RFC 8445 section 5.3: ufrag at
// least 24 bits, password at least 128 bits of randomness).
Credentials generate_credentials();

// USERNAME of a check is "<receiver ufrag>:<sender ufrag>"; the receiver part (ours) is what
// routes a check arriving on the shared port to its session. Empty when absent or malformed.
std::string_view local_ufrag_of(const stun::MessageView& request);

enum class CheckResult : std::uint8_t {
  accepted,       // answered with a success response
  bad_request,    // answered 400: no USERNAME or MESSAGE-INTEGRITY (RFC 8489 section 9.1.3)
  unauthorized,   // answered 401: wrong ufrag or integrity
  not_a_request,  // ignored: not a Binding request (indications are consent-neutral)
};

class IceLiteAgent {
 public:
  IceLiteAgent(Credentials local, Credentials remote, std::chrono::seconds consent_timeout);

  // Answers a Binding request from `source`, writing the response (success or error) into
  // `out`. On success, a USE-CANDIDATE check nominates `source` (RFC 8445 section 8.2.2), and
  // any valid check refreshes consent for the pair it arrived on.
  struct Answer {
    CheckResult result = CheckResult::not_a_request;
    std::span<const std::uint8_t> response;  // empty when nothing is to be sent
  };
  Answer handle(const stun::MessageView& request, const SocketAddress& source, SteadyTime now,
                std::span<std::uint8_t> out);

  // The nominated remote address media goes to, once the peer has nominated one.
  const std::optional<SocketAddress>& selected() const { return selected_; }
  bool connected() const { return selected_.has_value(); }
  // RFC 7675 section 5.1: consent is lost when no valid check arrived for consent_timeout.
  bool consent_expired(SteadyTime now) const;
  SteadyTime last_consent() const { return last_consent_; }

  // RFC 8445 section 9 (ICE restart): new credentials on both sides; the selected pair stays
  // until the peer nominates again, so media keeps flowing through the restart.
  void restart(Credentials local, Credentials remote);

  const Credentials& local() const { return local_; }
  const Credentials& remote() const { return remote_; }

 private:
  Credentials local_;
  Credentials remote_;
  stun::ShortTermKey key_;
  std::chrono::seconds consent_timeout_;
  std::optional<SocketAddress> selected_;
  SteadyTime last_consent_{};
};

}  // namespace podium::sfu::ice
