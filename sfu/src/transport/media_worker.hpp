// The SFU's media thread: its own io_context and the single UDP port every session shares. A
// datagram is demultiplexed by its first byte (RFC 7983 section 7: STUN, DTLS, RTP/RTCP), then
// routed to a session: STUN Binding requests by the local ICE ufrag in USERNAME, everything else
// by the source address a valid check came from. The worker owns sessions and rooms; signaling
// reaches it through SfuServer, which runs the control calls below on this thread. With
// sfu.tcp_port set, an ICE-TCP listener (RFC 6544) on the same thread feeds the RFC 4571 frames of
// its connections through the same demultiplexing (transport/ice_tcp.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "dtls/dtls_context.hpp"
#include "podium/common/udp_batch.hpp"
#include "podium/config/config.hpp"
#include "podium/sfu/session_service.hpp"
#include "room/room.hpp"
#include "session/session.hpp"
#include "sfu_metrics.hpp"
#include "transport/ice_tcp.hpp"

namespace podium::sfu {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const {
    return std::hash<std::string_view>{}(text);
  }
};

class MediaWorker final : public DatagramSender, public StreamHandler {
 public:
  MediaWorker(const config::SfuConfig& config, const dtls::DtlsContext& dtls, SfuMetrics& metrics);
  ~MediaWorker() override;

  // Binds the UDP port and, with sfu.tcp_port, the ICE-TCP port (throws on failure: startup
  // path); returns the bound UDP port.
  std::uint16_t bind();
  // The bound ICE-TCP port, 0 when ICE-TCP is off.
  std::uint16_t tcp_port() const { return tcp_port_; }
  void start();  // runs the thread
  void stop();   // closes every session, stops the thread
  boost::asio::io_context& io() { return io_; }

  // Control calls; run on the worker thread only.
  Result<SessionAnswer, SessionError> create_session(const SessionOffer& offer);
  Result<SessionUpdate, SessionError> update_session(const std::string& room,
                                                     const std::string& session_id,
                                                     const std::string& sdpfrag,
                                                     const std::string& if_match);
  Result<Ok, SessionError> close_session(const std::string& room, const std::string& session_id);
  // Sessions that exist (any state); a drain waits for this to reach 0.
  std::size_t session_count() const { return sessions_.size(); }

  // DatagramSender: queues into the send batch (flushed after each receive batch and tick).
  void send_datagram(const SocketAddress& destination,
                     std::span<const std::uint8_t> datagram) override;
  void send_on_stream(int stream_fd, std::span<const std::uint8_t> packet) override;

  // StreamHandler (the ICE-TCP listener's connections)
  void on_stream_packet(IceTcpConnection& connection, std::span<std::uint8_t> packet) override;
  void on_stream_read_done() override;
  void on_stream_closed(IceTcpConnection& connection) override;

 private:
  // The answer's candidates: the UDP host candidate, and the passive TCP one with sfu.tcp_port.
  std::vector<sdp::Candidate> local_candidates() const;
  // One packet into the send batch, for the UDP socket or an ICE-TCP connection's socket.
  void queue_send(int fd, const SocketAddress& destination, std::span<const std::uint8_t> packet);
  void arm_receive();
  void on_readable();
  // `stream`: the ICE-TCP connection the packet came on, null for a UDP datagram.
  void handle_datagram(std::span<std::uint8_t> data, const SocketAddress& source,
                       IceTcpConnection* stream = nullptr);
  void handle_stun(std::span<const std::uint8_t> data, const SocketAddress& source,
                   IceTcpConnection* stream);
  void handle_rtp(Session& session, std::span<std::uint8_t> data);
  void handle_rtcp(Session& session, std::span<std::uint8_t> data);
  void on_dtls_state(Session& session, dtls::DtlsState state);
  void send_receiver_report(Session& presenter);

  void arm_tick();
  void on_tick();
  void close_pending();
  // Whether a session's DTLS handshake is overdue: not finished dtls::kHandshakeTimeout after ICE
  // connected (records when ICE connected on the first call that sees it).
  bool dtls_setup_overdue(Session& session);
  void destroy_session(Session& session);
  void flush();
  static void on_send_failure(void* self, const net::SendFailure& failure);
  WorkerGauges gauges() const;
  Session* find_session(const std::string& room, const std::string& id);
  std::string etag_of(const Session& session) const;

  config::SfuConfig config_;
  const dtls::DtlsContext& dtls_;
  SfuMetrics& metrics_;
  boost::asio::io_context io_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer tick_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::uint16_t tcp_port_ = 0;
  std::string candidate_ip_;

  std::unique_ptr<net::RecvBatch> recv_;
  std::unique_ptr<MediaSendBatch> send_;
  std::chrono::steady_clock::time_point now_{};
  WorkerCounters counters_;
  std::array<std::uint8_t, 1024> stun_out_{};

  std::unordered_map<std::string, std::unique_ptr<Session>, StringHash, std::equal_to<>> sessions_;
  std::unordered_map<std::string, Session*, StringHash, std::equal_to<>> by_ufrag_;
  std::unordered_map<SocketAddress, Session*, SocketAddressHash> by_address_;
  std::unordered_map<std::string, std::unique_ptr<Room>, StringHash, std::equal_to<>> rooms_;
  std::unordered_set<Session*> handshaking_;
  std::vector<Session*> closing_;
  std::chrono::steady_clock::time_point next_second_{};
  std::unique_ptr<IceTcpListener> tcp_;  // with sfu.tcp_port only
};

}  // namespace podium::sfu
