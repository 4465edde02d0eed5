#include "session/session.hpp"

#include "room/room.hpp"

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
    case CloseReason::tcp_closed:
      return "tcp_closed";
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

Session::~Session() {
  // The worker calls stop_data_channels() first (the room's deck forgets this session then);
  // here only the association is aborted, in case it did not.
  if (data_channels_) data_channels_->close();
}

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
  if (!remote_) return;
  if (stream_fd_ >= 0) {
    sender_.send_on_stream(stream_fd_, datagram);
  } else {
    sender_.send_datagram(*remote_, datagram);
  }
}

void Session::on_state(dtls::DtlsState state) {
  if (on_dtls_state) on_dtls_state(*this, state);
}

// ---------------------------------------------------------------------------------------------
// Data channels

namespace {
std::size_t role_index(const Session& session) {
  return session.is_presenter() ? slides::kPresenter : slides::kGuest;
}
}  // namespace

void Session::start_data_channels(const config::SlidesConfig& config,
                                  slides::DataCounters& counters) {
  const auto& data = negotiation_.data;
  if (!data || !dtls_ || data_channels_) return;
  data_counters_ = &counters;
  datachannel::DataChannelOptions options;
  options.dtls_client = dtls_->role() == dtls::Role::client;
  options.remote_max_message_size = data->remote_max_message_size;
  options.sctp.local_port = data->local_sctp_port;
  options.sctp.remote_port = data->remote_sctp_port;
  options.sctp.max_message_size = data->local_max_message_size;
  // RFC 8261 section 5: one SCTP packet per DTLS record, within one datagram.
  if (const std::size_t mtu = dtls_->application_mtu(); mtu > 0) options.sctp.mtu = mtu;
  if (is_presenter()) {
    options.sctp.send_buffer = 256 * 1024;  // control messages only
    // The window a presenter's upload may fill. Measured with Chromium presenters on loopback:
    // 1-2 MiB lets a 20 MiB upload burst so hard that the browser's own socket drops our SACKs
    // and it resends 11-59% of the slide; 256-512 KiB resent nothing (1.025x on the wire) at
    // the same upload time. 512 KiB still allows ~5 MB/s at 100 ms round trip.
    options.sctp.receive_buffer = 512 * 1024;
  } else {
    options.sctp.send_buffer = config.guest_queue.bytes;
    options.sctp.receive_buffer = 128 * 1024;
  }
  data_channels_ = std::make_unique<datachannel::DataChannels>(options, *this);
  data_channels_->start();
}

void Session::stop_data_channels() {
  if (!data_channels_) return;
  auto& deck = room_->slides();
  if (is_presenter()) {
    deck.presenter_left(data_channels_.get());
  } else {
    deck.remove_guest(*data_channels_);
  }
  data_channels_->close();
  data_channels_.reset();
}

void Session::on_application_data(std::span<const std::uint8_t> data) {
  // SCTP over DTLS (RFC 8261): every record of application data is one SCTP packet.
  if (!data_channels_) return;
  data_counters_->sctp_bytes[0][role_index(*this)] += data.size();
  data_channels_->receive_packet(data);
}

void Session::on_data_packet(std::span<const std::uint8_t> packet) {
  if (!dtls_) return;
  if (dtls_->send_application(packet)) {
    data_counters_->sctp_bytes[1][role_index(*this)] += packet.size();
  }
}

void Session::on_data_connected() {
  if (is_presenter()) return;  // the presenter opens its own slides channel
  // The SFU opens the guest's slides channel with DCEP (docs/protocol.md).
  auto stream = data_channels_->open(slides::kChannelLabel);
  if (!stream) return;
  ++data_counters_->channels_opened[1];
  slides_stream_ = *stream;
  room_->slides().add_guest(*data_channels_, *stream, std::chrono::steady_clock::now());
}

void Session::on_data_closed() {
  auto& deck = room_->slides();
  if (is_presenter()) {
    deck.presenter_left(data_channels_.get());
  } else {
    deck.remove_guest(*data_channels_);
  }
  slides_stream_.reset();
}

void Session::on_channel_open(std::uint16_t stream, const datachannel::Channel& channel) {
  ++data_counters_->channels_opened[0];
  if (is_presenter() && channel.label == slides::kChannelLabel) {
    slides_stream_ = stream;
    room_->slides().set_presenter(data_channels_.get(), stream);
  }
}

void Session::on_channel_message(std::uint16_t stream, bool binary, sctp::Message&& message) {
  auto& deck = room_->slides();
  if (is_presenter()) {
    if (slides_stream_ == stream) {
      deck.on_presenter_message(binary, std::move(message), std::chrono::steady_clock::now());
    }
    return;  // other channels are acknowledged and ignored
  }
  ++data_counters_->messages[0][slides::kGuest];
  data_counters_->message_bytes[0][slides::kGuest] += message.size;
  // On the slides channel a guest has nothing to say (answered with an error); its own
  // channels are acknowledged and ignored.
  if (slides_stream_ == stream) deck.on_guest_message(*data_channels_, stream);
}

void Session::on_channel_closed(std::uint16_t stream) {
  if (slides_stream_ != stream) return;
  slides_stream_.reset();
  auto& deck = room_->slides();
  if (is_presenter()) {
    deck.presenter_left(data_channels_.get());
  } else {
    deck.remove_guest(*data_channels_);
  }
}

void Session::on_data_writable() {
  if (!is_presenter()) {
    room_->slides().on_guest_writable(*data_channels_, std::chrono::steady_clock::now());
  }
}

void Session::on_sctp_error(sctp::Error error) {
  ++data_counters_->sctp_errors[static_cast<std::size_t>(error)];
  if (error == sctp::Error::message_too_large) {
    ++data_counters_
          ->protocol_errors[static_cast<std::size_t>(slides::ProtocolError::message_too_large)];
    if (slides_stream_ && data_channels_) {
      data_channels_->send_text(
          *slides_stream_, slides::error_message({slides::ProtocolError::message_too_large, {}}));
    }
  }
}

void Session::on_channel_error(datachannel::ChannelError error) {
  ++data_counters_->channel_errors[static_cast<std::size_t>(error)];
}

}  // namespace podium::sfu
