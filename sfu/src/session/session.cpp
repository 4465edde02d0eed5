#include "session/session.hpp"

namespace podium::sfu {

const char* to_string(CloseReason reason) {
  switch (reason) {
    case CloseReason::none:
      return "none";
    case CloseReason::deleted:
      return "deleted";
    case CloseReason::replaced:
      return "replaced";
    case CloseReason::consent_expired:
      return "consent_expired";
    case CloseReason::setup_timeout:
      return "setup_timeout";
    case CloseReason::dtls_failed:
      return "dtls_failed";
    case CloseReason::dtls_closed:
      return "dtls_closed";
    case CloseReason::srtp_failed:
      return "srtp_failed";
    case CloseReason::send_failed:
      return "send_failed";
    case CloseReason::shutdown:
      return "shutdown";
    case CloseReason::count:
      break;
  }
  return "unknown";
}

Session::Session(std::string id, SessionRole role, Room& room, ice::IceLiteAgent agent,
                 sdp::Negotiation negotiation, DatagramSender& sender,
                 std::chrono::steady_clock::time_point now)
    : id_(std::move(id)),
      role_(role),
      room_(&room),
      ice_(std::move(agent)),
      negotiation_(std::move(negotiation)),
      sender_(sender),
      created_(now) {}

Session::~Session() = default;

Result<Ok, Reason> Session::key_srtp() {
  const dtls::SrtpKeys* keys = dtls_ ? dtls_->srtp_keys() : nullptr;
  if (!keys) return fail_reason("no SRTP keys");
  // RFC 5764 section 4.2: "local" protects what we send, "remote" unprotects what we receive.
  auto rtcp_out = srtp::SrtcpSender::create(keys->local);
  if (!rtcp_out) return fail_reason(rtcp_out.error().text);
  rtcp_out_.emplace(std::move(*rtcp_out));
  if (is_presenter()) {
    auto inbound =
        srtp::LibsrtpSession::create(keys->remote, srtp::LibsrtpSession::Direction::inbound);
    if (!inbound) return fail_reason(inbound.error().text);
    inbound_.emplace(std::move(*inbound));
  } else {
    auto out = srtp::SrtpSender::create(keys->local);
    if (!out) return fail_reason(out.error().text);
    rtp_out_.emplace(std::move(*out));
    auto in = srtp::SrtcpReceiver::create(keys->remote);
    if (!in) return fail_reason(in.error().text);
    rtcp_in_.emplace(std::move(*in));
  }
  media_ready_ = true;
  return Ok{};
}

void Session::send(std::span<const std::uint8_t> datagram) {
  if (remote_) sender_.send_datagram(*remote_, datagram);
}

void Session::on_state(dtls::DtlsState state) {
  if (on_dtls_state) on_dtls_state(*this, state);
}

void Session::on_application_data(std::span<const std::uint8_t>) {
  // SCTP over DTLS (RFC 8261) carries the slides channel; not used by the audio path.
}

}  // namespace podium::sfu
