// One peer connection of the SFU: a presenter publishing (WHIP) or a guest playing (WHEP). It
// ties the ICE-lite agent, the DTLS transport and, once DTLS-SRTP is keyed, the SRTP contexts of
// that peer together, plus the per-guest rewrite state of the forwarded stream. Sessions live on
// the media worker's thread; the worker routes datagrams to them and owns their lifetime.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "datachannel/data_channels.hpp"
#include "dtls/dtls_transport.hpp"
#include "ice/ice_lite_agent.hpp"
#include "podium/common/socket_address.hpp"
#include "podium/config/config.hpp"
#include "podium/sfu/session_service.hpp"
#include "rtp/rtp_packet.hpp"
#include "sdp/answer.hpp"
#include "slides/data_counters.hpp"
#include "srtp/libsrtp_session.hpp"
#include "srtp/srtp.hpp"

namespace podium::sfu {

class Room;

// Where a session's datagrams go out; implemented by the media worker.
class DatagramSender {
 public:
  virtual ~DatagramSender() = default;
  virtual void send_datagram(const SocketAddress& destination,
                             std::span<const std::uint8_t> datagram) = 0;
  // A packet for the ICE-TCP connection whose socket is `stream_fd` (RFC 6544); senders
  // without streams have none to send on.
  virtual void send_on_stream(int stream_fd, std::span<const std::uint8_t> packet) {
    (void)stream_fd;
    (void)packet;
  }
};

// Why a session ended; metric-safe labels.
enum class CloseReason : std::uint8_t {
  none,
  deleted,          // DELETE from signaling
  replaced,         // a new presenter took over the room
  consent_expired,  // RFC 7675: no valid check for consent_timeout
  setup_timeout,    // ICE never connected within consent_timeout
  dtls_failed,      // handshake failure (see the DTLS failure metric)
  dtls_closed,      // close_notify from the peer
  srtp_failed,      // keys unusable or the SRTP index space exhausted
  send_failed,      // the kernel kept refusing datagrams to this peer (unreachable, refused)
  tcp_closed,       // the ICE-TCP connection of its selected pair closed (RFC 6544)
  shutdown,
  count
};
const char* to_string(CloseReason reason);

class Session final : public dtls::DtlsSink, public datachannel::DataChannelObserver {
 public:
  Session(std::string id, SessionRole role, Room& room, ice::IceLiteAgent agent,
          sdp::Negotiation negotiation, DatagramSender& sender,
          std::chrono::steady_clock::time_point now);
  ~Session() override;

  const std::string& id() const { return id_; }
  SessionRole role() const { return role_; }
  bool is_presenter() const { return role_ == SessionRole::presenter; }
  Room& room() { return *room_; }
  ice::IceLiteAgent& ice() { return ice_; }
  const ice::IceLiteAgent& ice() const { return ice_; }
  dtls::DtlsTransport* dtls() { return dtls_.get(); }
  const dtls::DtlsTransport* dtls() const { return dtls_.get(); }
  void set_dtls(std::unique_ptr<dtls::DtlsTransport> transport) { dtls_ = std::move(transport); }
  const sdp::Negotiation& negotiation() const { return negotiation_; }
  std::chrono::steady_clock::time_point created() const { return created_; }

  // The address media and DTLS go to: the nominated pair, else the last validated one. When
  // that pair is an ICE-TCP connection (RFC 6544), `stream_fd` is its socket and packets go
  // out framed on it (RFC 4571); -1 means the worker's UDP socket.
  const std::optional<SocketAddress>& remote() const { return remote_; }
  void set_remote(const SocketAddress& address, int stream_fd = -1) {
    remote_ = address;
    stream_fd_ = stream_fd;
  }
  void clear_remote() {
    remote_.reset();
    stream_fd_ = -1;
  }
  int stream_fd() const { return stream_fd_; }
  // The descriptor this session's packets are queued on: its stream, else `udp_fd`.
  int send_fd(int udp_fd) const { return stream_fd_ >= 0 ? stream_fd_ : udp_fd; }

  // Every source address a valid check came from (the worker's routing entries).
  std::vector<SocketAddress> addresses;

  // When the worker first saw ICE connected (zero until then): the DTLS handshake must finish
  // within its timeout from there, whichever side is slow to start it.
  std::chrono::steady_clock::time_point ice_connected_at{};

  // Set once the DTLS handshake has produced SRTP keys (on_state(connected)).
  bool media_ready() const { return media_ready_; }
  CloseReason closing() const { return closing_; }
  void mark_closing(CloseReason reason) {
    if (closing_ == CloseReason::none) closing_ = reason;
  }

  // SRTP keyed from DTLS (RFC 5764 section 4.2). Fails when the profile is not supported.
  Result<Ok, Reason> key_srtp();

  // --- Presenter (inbound audio): decrypted once with libsrtp, then fanned out.
  srtp::LibsrtpSession* inbound() { return inbound_ ? &*inbound_ : nullptr; }
  rtp::ReceiveStatistics& receive_statistics() { return receive_statistics_; }
  std::uint32_t presenter_ssrc = 0;  // last SSRC seen on the audio payload type
  std::uint32_t report_ssrc = 0;     // the SFU's SSRC in RRs it sends to this presenter

  // RTCP the SFU sends: RRs to a presenter, translated SRs to a guest.
  srtp::SrtcpSender* rtcp_out() { return rtcp_out_ ? &*rtcp_out_ : nullptr; }

  // --- Guest (outbound audio): one EVP context per guest.
  srtp::SrtpSender* rtp_out() { return rtp_out_ ? &*rtp_out_ : nullptr; }
  srtp::SrtcpReceiver* rtcp_in() { return rtcp_in_ ? &*rtcp_in_ : nullptr; }
  std::uint32_t out_ssrc = 0;    // the SSRC this guest sees (a=ssrc in its answer)
  std::uint16_t seq_offset = 0;  // added to the room's output sequence numbers
  std::uint32_t ts_offset = 0;   // added to the room's output timestamps
  std::uint8_t out_payload_type = 111;
  std::uint8_t out_audio_level_id = 0;  // 0: extension not negotiated
  std::uint32_t packets_sent = 0;       // for the SR this guest receives (RFC 3550 section 6.4.1)
  std::uint32_t octets_sent = 0;
  std::uint32_t send_failures = 0;  // in the current second (see MediaWorker::on_send_failure)
  std::string cname;

  // DtlsSink: DTLS output goes to the remote address; state changes are handled by the worker
  // through `on_dtls_state`.
  void send(std::span<const std::uint8_t> datagram) override;
  void on_state(dtls::DtlsState state) override;
  void on_application_data(std::span<const std::uint8_t> data) override;

  // Called by on_state (set by the worker).
  std::function<void(Session&, dtls::DtlsState)> on_dtls_state;

  // --- Data channels (RFC 8831) over this session's DTLS, once it is connected and the offer
  // had an m=application section. The slides channel feeds the room's SlideDeck.
  void start_data_channels(const config::SlidesConfig& config, slides::DataCounters& counters);
  // Leaves the room's deck and aborts the association (before DTLS closes).
  void stop_data_channels();
  datachannel::DataChannels* data_channels() { return data_channels_.get(); }

  // DataChannelObserver
  void on_data_packet(std::span<const std::uint8_t> packet) override;
  void on_data_connected() override;
  void on_data_closed() override;
  void on_channel_open(std::uint16_t stream, const datachannel::Channel& channel) override;
  void on_channel_message(std::uint16_t stream, bool binary, sctp::Message&& message) override;
  void on_channel_closed(std::uint16_t stream) override;
  void on_data_writable() override;
  void on_sctp_error(sctp::Error error) override;
  void on_channel_error(datachannel::ChannelError error) override;

 private:
  std::string id_;
  SessionRole role_;
  Room* room_;
  ice::IceLiteAgent ice_;
  sdp::Negotiation negotiation_;
  DatagramSender& sender_;
  std::chrono::steady_clock::time_point created_;
  std::unique_ptr<dtls::DtlsTransport> dtls_;
  std::optional<SocketAddress> remote_;
  int stream_fd_ = -1;
  bool media_ready_ = false;
  CloseReason closing_ = CloseReason::none;

  std::optional<srtp::LibsrtpSession> inbound_;
  rtp::ReceiveStatistics receive_statistics_;
  std::optional<srtp::SrtpSender> rtp_out_;
  std::optional<srtp::SrtcpSender> rtcp_out_;
  std::optional<srtp::SrtcpReceiver> rtcp_in_;

  std::unique_ptr<datachannel::DataChannels> data_channels_;
  slides::DataCounters* data_counters_ = nullptr;
  std::optional<std::uint16_t> slides_stream_;  // the slides channel (ours for a guest)
};

}  // namespace podium::sfu
