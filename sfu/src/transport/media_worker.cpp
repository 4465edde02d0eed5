#include "transport/media_worker.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

#include <boost/asio/ip/v6_only.hpp>

#include "podium/common/random.hpp"
#include "podium/monitoring/logging.hpp"
#include "podium/stun/demux.hpp"
#include "podium/stun/message.hpp"
#include "sctp/sctp_transport.hpp"
#include "sdp/sdpfrag.hpp"

namespace podium::sfu {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kMaxBatchesPerWakeup = 8;
constexpr auto kTick = std::chrono::milliseconds(20);

std::uint32_t random_u32() {
  std::uint32_t value = 0;
  random_bytes(std::span(reinterpret_cast<std::uint8_t*>(&value), sizeof(value)));
  return value;
}

std::size_t dtls_state_index(const Session& session) {
  const auto* dtls = session.dtls();
  if (!dtls) return 0;
  switch (dtls->state()) {
    case dtls::DtlsState::new_:
      return 0;
    case dtls::DtlsState::connecting:
      return 1;
    case dtls::DtlsState::connected:
      return 2;
    case dtls::DtlsState::failed:
      return 3;
    case dtls::DtlsState::closed:
      return 4;
  }
  return 0;
}

std::uint64_t micros(Clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

void set_buffer(int fd, int force_option, int option, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof(bytes)) != 0) {
    ::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof(bytes));
  }
}

SessionError error(SessionErrorCode code, std::string reason) {
  return SessionError{code, std::move(reason)};
}

}  // namespace

MediaWorker::MediaWorker(const config::SfuConfig& config, const dtls::DtlsContext& dtls,
                         SfuMetrics& metrics)
    : config_(config),
      dtls_(dtls),
      metrics_(metrics),
      io_(1),
      socket_(io_),
      tick_(io_),
      recv_(std::make_unique<net::RecvBatch>()),
      send_(std::make_unique<MediaSendBatch>()) {
  send_->on_failure(&MediaWorker::on_send_failure, this);
}

MediaWorker::~MediaWorker() {
  stop();
}

std::uint16_t MediaWorker::bind() {
  udp::endpoint endpoint(config_.listen_ip, config_.udp_port);
  socket_.open(endpoint.protocol());
  if (endpoint.address().is_v6()) socket_.set_option(asio::ip::v6_only(false));
  // Room for a burst of presenter packets and guests' RTCP and SACKs while a fan-out is being
  // sent: 32 MiB where the process may exceed net.core.rmem_max/wmem_max (CAP_NET_ADMIN), else
  // up to those limits.
  set_buffer(socket_.native_handle(), SO_RCVBUFFORCE, SO_RCVBUF, 32 * 1024 * 1024);
  set_buffer(socket_.native_handle(), SO_SNDBUFFORCE, SO_SNDBUF, 32 * 1024 * 1024);
  socket_.bind(endpoint);
  socket_.non_blocking(true);
  port_ = socket_.local_endpoint().port();
  candidate_ip_ =
      config_.announced_ip ? config_.announced_ip->to_string() : config_.listen_ip.to_string();
  if (config_.tcp_port) {
    // RFC 6544: a passive host candidate on the same address, for peers whose UDP is blocked.
    // A browser opens one connection per local candidate: sessions have two on average and at
    // most four; a few hundred may be on their way to their first check at a time.
    IceTcpListener::Limits limits;
    limits.max_connections = std::size_t{2} * config_.max_sessions;
    limits.max_pending = std::min<std::size_t>(256, limits.max_connections);
    limits.idle_timeout = config_.consent_timeout;
    tcp_ = std::make_unique<IceTcpListener>(io_, *this, counters_.tcp, limits);
    try {
      tcp_port_ = tcp_->bind(config_.listen_ip, *config_.tcp_port);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("sfu.tcp_port: TCP " +
                               config::Endpoint{config_.listen_ip, *config_.tcp_port}.to_string() +
                               ": " + e.code().message());
    }
    send_->set_streams(tcp_.get(), socket_.native_handle());
  }
  return port_;
}

void MediaWorker::start() {
  arm_receive();
  if (tcp_) tcp_->start();
  next_second_ = Clock::now() + std::chrono::seconds(1);
  arm_tick();
  thread_ = std::thread([this] { io_.run(); });
}

void MediaWorker::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    now_ = Clock::now();
    for (auto& [id, session] : sessions_) session->mark_closing(CloseReason::shutdown);
    for (auto& [id, session] : sessions_) closing_.push_back(session.get());
    close_pending();
    flush();
    if (tcp_) tcp_->stop();
    metrics_.flush(counters_, gauges());
    boost::system::error_code ignored;
    socket_.close(ignored);
    tick_.cancel();
    io_.stop();
  });
  thread_.join();
}

// ---------------------------------------------------------------------------------------------
// Receive path

void MediaWorker::arm_receive() {
  socket_.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;
    on_readable();
  });
}

void MediaWorker::on_readable() {
  const int fd = socket_.native_handle();
  bool more = false;
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    const int n = recv_->receive(fd);
    if (n <= 0) break;
    now_ = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto datagram = recv_->at(static_cast<std::size_t>(i));
      if (datagram.truncated) {
        ++counters_.drops[static_cast<std::size_t>(Drop::truncated)];
        continue;
      }
      // The receive batch owns these buffers; SRTP is decrypted in place.
      std::span<std::uint8_t> bytes(const_cast<std::uint8_t*>(datagram.data.data()),
                                    datagram.data.size());
      handle_datagram(bytes, datagram.source);
    }
    flush();
    if (!closing_.empty()) close_pending();
    more = n == static_cast<int>(net::kRecvBatch);
    if (!more) break;
  }
  if (more) {
    // The socket still holds datagrams: come back right after the handlers already queued (the
    // tick) instead of waiting for readiness, which the reactor reports only when the next
    // datagram arrives. A backlog left waiting delays every SACK and RTCP report in it.
    asio::post(io_, [this] { on_readable(); });
    return;
  }
  arm_receive();
}

void MediaWorker::handle_datagram(std::span<std::uint8_t> data, const SocketAddress& source,
                                  IceTcpConnection* stream) {
  // The session a non-STUN packet belongs to: a connection's bound session, else the one a valid
  // check came from this address.
  auto owner = [&]() -> Session* {
    if (stream) return stream->session;
    auto it = by_address_.find(source);
    return it == by_address_.end() ? nullptr : it->second;
  };
  // RFC 7983 section 7: the first byte tells STUN (0-3), DTLS (20-63) and RTP/RTCP (128-191).
  switch (stun::classify_packet(data)) {
    case stun::PacketKind::kStun:
      ++counters_.datagrams_in[static_cast<std::size_t>(Demux::stun)];
      return handle_stun(data, source, stream);
    case stun::PacketKind::kDtls: {
      ++counters_.datagrams_in[static_cast<std::size_t>(Demux::dtls)];
      Session* owner_session = owner();
      if (!owner_session) {
        ++counters_.drops[static_cast<std::size_t>(Drop::unknown_source)];
        return;
      }
      Session& session = *owner_session;
      if (auto* dtls = session.dtls()) {
        if (!session.remote()) session.set_remote(source, stream ? stream->fd() : -1);
        dtls->feed(data, now_);
        if (dtls->state() == dtls::DtlsState::connecting) handshaking_.insert(&session);
      }
      return;
    }
    case stun::PacketKind::kRtp: {
      const bool rtcp = stun::is_rtcp(data);
      ++counters_.datagrams_in[static_cast<std::size_t>(rtcp ? Demux::rtcp : Demux::rtp)];
      Session* session = owner();
      if (!session) {
        ++counters_.drops[static_cast<std::size_t>(Drop::unknown_source)];
        return;
      }
      if (!session->media_ready()) {
        ++counters_.drops[static_cast<std::size_t>(Drop::not_ready)];
        return;
      }
      return rtcp ? handle_rtcp(*session, data) : handle_rtp(*session, data);
    }
    default:
      ++counters_.datagrams_in[static_cast<std::size_t>(Demux::other)];
      ++counters_.drops[static_cast<std::size_t>(Drop::malformed)];
      return;
  }
}

void MediaWorker::handle_stun(std::span<const std::uint8_t> data, const SocketAddress& source,
                              IceTcpConnection* stream) {
  // Checks arrive on the connection the peer opened to the passive candidate (RFC 6544 section
  // 7.2). The SFU's rule: the first frame on a connection must be a check it accepts for one of
  // its sessions (RFC 8445 section 7.3), else the connection is closed.
  const bool first_on_stream = stream && !stream->session;
  auto refuse_stream = [&] {
    if (first_on_stream) tcp_->close(*stream, TcpClose::not_a_check);
  };
  auto message = stun::MessageView::parse(data);
  if (!message) {
    ++counters_.drops[static_cast<std::size_t>(Drop::malformed)];
    return refuse_stream();
  }
  if (!message->is_request()) {
    ++counters_.ice_checks[2];  // indications and responses: an ICE-lite agent sends no checks
    return refuse_stream();
  }
  // RFC 8445 section 7.3: USERNAME "<our ufrag>:<their ufrag>" routes the check. A connection
  // carries the checks of the session it was bound to only.
  auto ufrag = ice::local_ufrag_of(*message);
  auto it = by_ufrag_.find(ufrag);
  if (it == by_ufrag_.end() || (stream && stream->session && stream->session != it->second)) {
    ++counters_.drops[static_cast<std::size_t>(Drop::unknown_ufrag)];
    return refuse_stream();
  }
  Session& session = *it->second;
  if (first_on_stream && tcp_->session_full(session)) {
    // Checked before the agent sees the check, so that a refused connection's check changes
    // neither consent nor the selected pair.
    return tcp_->close(*stream, TcpClose::session_limit);
  }
  auto answer = session.ice().handle(*message, source, now_, stun_out_);
  if (first_on_stream) {
    if (answer.result != ice::CheckResult::accepted) {
      ++counters_.ice_checks[answer.result == ice::CheckResult::not_a_request ? 2 : 1];
      return refuse_stream();
    }
    tcp_->bind_session(*stream, session);
  }
  if (!answer.response.empty()) {
    if (stream) {
      send_on_stream(stream->fd(), answer.response);
    } else {
      send_datagram(source, answer.response);
    }
  }
  switch (answer.result) {
    case ice::CheckResult::accepted: {
      ++counters_.ice_checks[0];
      if (!stream) {
        auto [entry, inserted] = by_address_.try_emplace(source, &session);
        if (inserted) {
          session.addresses.push_back(source);
        } else if (entry->second != &session) {
          // The address moved to another session (a port reused by a new peer connection).
          std::erase(entry->second->addresses, source);
          entry->second = &session;
          session.addresses.push_back(source);
        }
      }
      // Media goes to the nominated pair (RFC 8445 section 8.2.2), else to the first valid one;
      // on the connection the check came on when that pair is ICE-TCP.
      const int stream_fd = stream ? stream->fd() : -1;
      if (message->has(stun::AttributeType::kUseCandidate)) {
        session.set_remote(source, stream_fd);
      } else if (!session.remote()) {
        session.set_remote(source, stream_fd);
      }
      // As DTLS client the SFU starts the handshake once ICE has a path (RFC 5763 section 5).
      auto* dtls = session.dtls();
      if (dtls && dtls->role() == dtls::Role::client && dtls->state() == dtls::DtlsState::new_) {
        dtls->start(now_);
        handshaking_.insert(&session);
      }
      break;
    }
    case ice::CheckResult::bad_request:
    case ice::CheckResult::unauthorized:
      ++counters_.ice_checks[1];
      break;
    case ice::CheckResult::not_a_request:
      ++counters_.ice_checks[2];
      break;
  }
}

void MediaWorker::handle_rtp(Session& session, std::span<std::uint8_t> data) {
  auto* inbound = session.inbound();
  if (!inbound) {
    ++counters_.drops[static_cast<std::size_t>(Drop::unexpected)];  // guests do not send audio
    return;
  }
  const std::size_t received = data.size();
  auto length = inbound->unprotect(data);
  if (!length) {
    ++counters_.srtp_errors[static_cast<std::size_t>(SrtpError::rtp_unprotect)];
    return;
  }
  auto header = rtp::parse_rtp(data.first(*length));
  if (!header) {
    ++counters_.drops[static_cast<std::size_t>(Drop::malformed)];
    return;
  }
  const auto& audio = session.negotiation().audio;
  if (!audio || header->payload_type != audio->payload_type) {
    ++counters_.drops[static_cast<std::size_t>(Drop::unexpected)];
    return;
  }
  ++counters_.rtp_packets_in;
  counters_.rtp_bytes_in += received;
  session.presenter_ssrc = header->ssrc;
  session.receive_statistics().on_packet(
      header->sequence, header->timestamp,
      static_cast<std::uint32_t>(micros(now_) * OutputTimeline::kClockRate / 1000000));

  Room& room = session.room();
  if (room.presenter() != &session) return;  // replaced, closing
  std::optional<rtp::AudioLevel> level;
  if (audio->audio_level_id) {
    level = rtp::audio_level(*header, *audio->audio_level_id);
    if (level) room.speaking().on_level(level->level, now_);
  }
  auto payload = data.subspan(header->header_size, header->payload_size);
  const std::size_t queued_before = send_->pending();
  auto result = room.forward_audio(*header, payload, level, now_, socket_.native_handle(), *send_);
  counters_.rtp_packets_out += result.packets;
  counters_.rtp_bytes_out += result.bytes;
  counters_.srtp_errors[static_cast<std::size_t>(SrtpError::protect)] += result.protect_errors;
  if (result.protect_errors > 0) {  // forward_audio marked those guests; close them alone
    for (Session* guest : room.guests()) {
      if (guest->closing() == CloseReason::srtp_failed) closing_.push_back(guest);
    }
  }
  if (result.packets > 0 || queued_before > 0) {
    // Hand the fan-out to the kernel now; its latency is measured to the last guest's copy.
    flush();
    if (result.packets > 0) {
      counters_.observe_latency(std::chrono::duration<double>(Clock::now() - now_).count());
    }
  }
}

void MediaWorker::handle_rtcp(Session& session, std::span<std::uint8_t> data) {
  Result<std::size_t, Reason> length = fail_reason("no SRTCP context");
  if (auto* inbound = session.inbound()) {
    length = inbound->unprotect_rtcp(data);
  } else if (auto* in = session.rtcp_in()) {
    length = in->unprotect(data);
  }
  if (!length) {
    ++counters_.srtp_errors[static_cast<std::size_t>(SrtpError::rtcp_unprotect)];
    return;
  }
  ++counters_.rtcp_packets_in;
  if (!session.is_presenter()) return;  // guests' RR/NACK terminate here (nothing to repair)
  rtp::RtcpWalker walker(data.first(*length));
  while (auto item = walker.next()) {
    if (item->header.type != rtp::kSenderReport) continue;
    auto info = rtp::parse_sender_report(item->packet);
    if (!info) continue;
    session.receive_statistics().on_sender_report(info->ntp, micros(now_));
    Room& room = session.room();
    if (room.presenter() == &session) {
      room.forward_sender_report(*info, socket_.native_handle(), *send_);
    }
  }
}

void MediaWorker::send_receiver_report(Session& presenter) {
  auto* srtcp = presenter.rtcp_out();
  if (!srtcp || !presenter.remote() || !presenter.receive_statistics().started()) return;
  auto& entry = send_->next();
  std::span<std::uint8_t> out(entry.head);
  // RFC 3550 section 6.4.2 with one report block about the presenter's stream, and SDES.
  auto block = presenter.receive_statistics().report(presenter.presenter_ssrc, micros(now_));
  std::size_t length = rtp::write_receiver_report(out, presenter.report_ssrc, &block);
  length += rtp::write_sdes_cname(
      out.subspan(length), presenter.report_ssrc,
      {reinterpret_cast<const std::uint8_t*>(presenter.cname.data()), presenter.cname.size()});
  auto protected_length = srtcp->protect(out, length);
  if (!protected_length) {
    ++counters_.srtp_errors[static_cast<std::size_t>(SrtpError::protect)];
    return;
  }
  entry.fd = presenter.send_fd(socket_.native_handle());
  entry.destination = *presenter.remote();
  entry.head_length = *protected_length;
  send_->commit();
  ++counters_.rtcp_packets_out;
}

std::vector<sdp::Candidate> MediaWorker::local_candidates() const {
  std::vector<sdp::Candidate> candidates{
      sdp::host_candidate(candidate_ip_, port_, sdp::CandidateTransport::udp)};
  if (tcp_) {
    // RFC 6544 section 4.5: the passive ICE-TCP candidate, below UDP in priority.
    candidates.push_back(
        sdp::host_candidate(candidate_ip_, tcp_port_, sdp::CandidateTransport::tcp));
  }
  return candidates;
}

void MediaWorker::send_datagram(const SocketAddress& destination,
                                std::span<const std::uint8_t> datagram) {
  queue_send(socket_.native_handle(), destination, datagram);
}

void MediaWorker::send_on_stream(int stream_fd, std::span<const std::uint8_t> packet) {
  // Routed to the connection by MediaSendBatch::commit (RFC 4571 framing on the way out).
  queue_send(stream_fd, {}, packet);
}

void MediaWorker::queue_send(int fd, const SocketAddress& destination,
                             std::span<const std::uint8_t> packet) {
  if (packet.size() > kMaxMediaDatagram) {
    ++counters_.send_errors;
    return;
  }
  auto& entry = send_->next();
  entry.fd = fd;
  entry.destination = destination;
  std::memcpy(entry.head.data(), packet.data(), packet.size());
  entry.head_length = packet.size();
  send_->commit();
}

void MediaWorker::on_stream_packet(IceTcpConnection& connection, std::span<std::uint8_t> packet) {
  now_ = Clock::now();
  if (!connection.session && stun::classify_packet(packet) != stun::PacketKind::kStun) {
    ++counters_.drops[static_cast<std::size_t>(Drop::unknown_source)];
    return tcp_->close(connection, TcpClose::not_a_check);
  }
  handle_datagram(packet, connection.peer(), &connection);
}

void MediaWorker::on_stream_read_done() {
  flush();
  if (!closing_.empty()) close_pending();
}

void MediaWorker::on_stream_closed(IceTcpConnection& connection) {
  Session& session = *connection.session;
  if (session.stream_fd() != connection.fd()) return;  // not the path its packets take
  session.clear_remote();
  // Before a nomination the next valid check (on any path) sets a new one. A nominated pair
  // gone with its connection cannot be replaced by an ICE-lite agent (RFC 8445 section 2.5):
  // the session ends now instead of at consent expiry.
  const auto& selected = session.ice().selected();
  if (selected && *selected == connection.peer() && session.closing() == CloseReason::none) {
    session.mark_closing(CloseReason::tcp_closed);
    closing_.push_back(&session);
  }
}

void MediaWorker::flush() {
  if (send_->pending()) counters_.send_errors += send_->flush();
}

// A guest whose path errors is dropped without affecting the others: datagrams to it that the
// kernel refuses (no route, refused by a firewall, ...) are counted per session, and a session
// with kMaxSendFailures in one second is closed. A full socket buffer is nobody's path error.
void MediaWorker::on_send_failure(void* self, const net::SendFailure& failure) {
  constexpr std::uint32_t kMaxSendFailures = 25;  // half a second of audio
  auto* worker = static_cast<MediaWorker*>(self);
  auto* session = static_cast<Session*>(failure.owner);
  if (!session || failure.error == EAGAIN || failure.error == EWOULDBLOCK ||
      failure.error == ENOBUFS) {
    return;
  }
  if (++session->send_failures == kMaxSendFailures) {
    session->mark_closing(CloseReason::send_failed);
    worker->closing_.push_back(session);
  }
}

// ---------------------------------------------------------------------------------------------
// DTLS state, timers, closing

void MediaWorker::on_dtls_state(Session& session, dtls::DtlsState state) {
  if (session.closing() != CloseReason::none) return;
  auto log = log::get("sfu");
  switch (state) {
    case dtls::DtlsState::connected: {
      handshaking_.erase(&session);
      ++counters_.dtls_handshakes;
      if (auto keyed = session.key_srtp(); !keyed) {
        log::with(*log, spdlog::level::warn, "session", session.id(), "SRTP keying failed: {}",
                  keyed.error().text);
        session.mark_closing(CloseReason::srtp_failed);
        closing_.push_back(&session);
        return;
      }
      log::with(*log, spdlog::level::info, "session", session.id(), "DTLS connected ({}, {})",
                session.dtls()->cipher_name(), dtls::to_string(*session.dtls()->srtp_profile()));
      // RFC 8261: SCTP over this DTLS association, for the slides channel.
      session.start_data_channels(config_.slides, counters_.data);
      break;
    }
    case dtls::DtlsState::failed: {
      handshaking_.erase(&session);
      ++counters_.dtls_failures[static_cast<std::size_t>(session.dtls()->failure_reason())];
      log::with(*log, spdlog::level::warn, "session", session.id(), "DTLS failed: {} ({})",
                dtls::to_string(session.dtls()->failure_reason()),
                session.dtls()->failure_detail());
      session.mark_closing(CloseReason::dtls_failed);
      closing_.push_back(&session);
      break;
    }
    case dtls::DtlsState::closed:
      handshaking_.erase(&session);
      session.mark_closing(CloseReason::dtls_closed);
      closing_.push_back(&session);
      break;
    default:
      break;
  }
}

void MediaWorker::arm_tick() {
  tick_.expires_after(kTick);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    on_tick();
    arm_tick();
  });
}

void MediaWorker::on_tick() {
  now_ = Clock::now();
  // SCTP retransmissions and delayed SACKs, then slide feeds and presenter updates.
  sctp::handle_sctp_timers(now_);
  for (auto& [name, room] : rooms_) room->slides().on_tick(now_);
  // DTLS retransmissions and handshake deadlines (RFC 6347 section 4.2.4).
  if (!handshaking_.empty()) {
    std::vector<Session*> due;
    for (Session* session : handshaking_) {
      auto* dtls = session->dtls();
      auto at = dtls ? dtls->next_timeout() : std::nullopt;
      if (at && *at <= now_) due.push_back(session);
    }
    for (Session* session : due) session->dtls()->on_timeout(now_);
  }
  if (now_ >= next_second_) {
    next_second_ = now_ + std::chrono::seconds(1);
    for (auto& [id, session] : sessions_) {
      if (session->closing() != CloseReason::none) continue;
      session->send_failures = 0;
      if (session->ice().consent_expired(now_)) {
        // RFC 7675 section 5.1: consent lost; the session and its resources are freed.
        ++counters_.consent_expiries;
        session->mark_closing(CloseReason::consent_expired);
        closing_.push_back(session.get());
      } else if (!session->ice().connected() &&
                 session->ice().last_consent() == Clock::time_point{} &&
                 now_ - session->created() > config_.consent_timeout) {
        session->mark_closing(CloseReason::setup_timeout);
        closing_.push_back(session.get());
      } else if (dtls_setup_overdue(*session)) {
        // ICE is up but no DTLS handshake finished in time, also when the peer (as the DTLS
        // client) never sends a ClientHello: without this, ICE checks alone would hold a
        // session, and one of sfu.max_sessions, for as long as they continue.
        handshaking_.erase(session.get());
        ++counters_.dtls_failures[static_cast<std::size_t>(dtls::FailureReason::timeout)];
        log::with(*log::get("sfu"), spdlog::level::warn, "session", session->id(),
                  "DTLS failed: no handshake within {}s of ICE connecting",
                  dtls::kHandshakeTimeout.count());
        session->mark_closing(CloseReason::dtls_failed);
        closing_.push_back(session.get());
      } else if (session->is_presenter() && session->media_ready()) {
        send_receiver_report(*session);
      }
    }
    for (auto& [name, room] : rooms_) room->slides().sample_queues();
    if (tcp_) tcp_->on_second(now_);
    metrics_.flush(counters_, gauges());
  }
  flush();
  if (!closing_.empty()) close_pending();
}

bool MediaWorker::dtls_setup_overdue(Session& session) {
  if (session.media_ready()) return false;
  if (session.ice_connected_at == Clock::time_point{}) {
    if (session.ice().connected()) session.ice_connected_at = now_;
    return false;
  }
  return now_ - session.ice_connected_at > dtls::kHandshakeTimeout;
}

void MediaWorker::close_pending() {
  flush();  // datagrams already queued may name these sessions as their owners
  auto pending = std::move(closing_);
  closing_.clear();
  std::unordered_set<Session*> seen;
  for (Session* session : pending) {
    if (seen.insert(session).second) destroy_session(*session);
  }
  flush();
}

void MediaWorker::destroy_session(Session& session) {
  const CloseReason reason =
      session.closing() == CloseReason::none ? CloseReason::deleted : session.closing();
  ++counters_.sessions_closed[static_cast<std::size_t>(reason)];
  log::with(*log::get("sfu"), spdlog::level::info, "session", session.id(), "closed ({})",
            to_string(reason));
  // SCTP ABORT and the deck forgets the session, then close_notify when connected; the session
  // no longer reacts to its own state change.
  session.stop_data_channels();
  session.on_dtls_state = nullptr;
  if (auto* dtls = session.dtls()) dtls->close();
  handshaking_.erase(&session);
  if (tcp_) tcp_->close_session(session);
  for (const auto& address : session.addresses) {
    auto it = by_address_.find(address);
    if (it != by_address_.end() && it->second == &session) by_address_.erase(it);
  }
  auto ufrag = by_ufrag_.find(session.ice().local().ufrag);
  if (ufrag != by_ufrag_.end() && ufrag->second == &session) by_ufrag_.erase(ufrag);
  Room& room = session.room();
  room.remove(session);
  if (room.empty()) rooms_.erase(room.name());
  sessions_.erase(session.id());
}

WorkerGauges MediaWorker::gauges() const {
  WorkerGauges g;
  g.rooms = rooms_.size();
  for (const auto& [name, room] : rooms_) {
    if (room->presenter()) ++g.presenters;
    g.guests += room->guests().size();
    if (room->presenter() && room->speaking().speaking(now_)) ++g.speaking;
    g.slides_stored += room->slides().store().slides().size();
    g.slide_bytes += room->slides().store().reserved_bytes();
  }
  for (const auto& [id, session] : sessions_) {
    ++g.sessions[session->ice().connected() ? 1 : 0][dtls_state_index(*session)];
  }
  if (tcp_) {
    g.tcp_pending = tcp_->pending_connections();
    g.tcp_bound = tcp_->connections() - g.tcp_pending;
  }
  return g;
}

// ---------------------------------------------------------------------------------------------
// Control calls (from SfuServer, on this thread)

Result<SessionAnswer, SessionError> MediaWorker::create_session(const SessionOffer& offer) {
  now_ = Clock::now();
  if (sessions_.size() >= config_.max_sessions) {
    return fail(error(SessionErrorCode::capacity, "the SFU is at sfu.max_sessions"));
  }
  auto parsed = sdp::parse(offer.sdp);
  if (!parsed)
    return fail(error(SessionErrorCode::bad_offer, "unparseable SDP: " + parsed.error()));

  auto credentials = ice::generate_credentials();
  sdp::AnswerOptions options;
  options.role = offer.role == SessionRole::presenter ? sdp::Role::presenter : sdp::Role::guest;
  options.ice_ufrag = credentials.ufrag;
  options.ice_pwd = credentials.pwd;
  auto digest = dtls_.fingerprint().digest();
  std::copy(digest.begin(), digest.end(), options.fingerprint_sha256.begin());
  options.candidates = local_candidates();
  const std::uint32_t out_ssrc = random_u32() | 1;
  const std::string cname = random_token(12);
  if (offer.role == SessionRole::guest) {
    options.audio = sdp::LocalAudioStream{out_ssrc, cname, "podium", "presenter-audio"};
  }
  auto negotiation = sdp::negotiate(*parsed, options);
  if (!negotiation) return fail(error(SessionErrorCode::bad_offer, negotiation.error()));
  if (!negotiation->audio && !negotiation->data) {
    return fail(error(SessionErrorCode::bad_offer, "nothing in the offer the SFU can serve"));
  }
  std::string answer_sdp = sdp::to_string(negotiation->answer);

  // DTLS role from the negotiated setup (RFC 8842 section 5): passive → server.
  std::vector<dtls::Fingerprint> fingerprints;
  auto fingerprint = dtls::Fingerprint::parse(
      negotiation->remote.fingerprint.algorithm,
      sdp::format_fingerprint_bytes(negotiation->remote.fingerprint.bytes));
  if (!fingerprint) {
    return fail(error(SessionErrorCode::bad_offer, "bad fingerprint: " + fingerprint.error()));
  }
  fingerprints.push_back(*fingerprint);

  auto& room_slot = rooms_[offer.room];
  if (!room_slot) {
    room_slot = std::make_unique<Room>(offer.room,
                                       slides::SlideLimits{config_.slides.max_slide_bytes.bytes,
                                                           config_.slides.max_room_bytes.bytes},
                                       &counters_.data);
  }
  Room& room = *room_slot;

  std::string id = random_token(16);
  ice::IceLiteAgent agent(
      credentials, {negotiation->remote.ice_ufrag, negotiation->remote.ice_pwd},
      std::chrono::duration_cast<std::chrono::seconds>(config_.consent_timeout));
  const bool dtls_server = negotiation->dtls_server();
  auto session = std::make_unique<Session>(id, offer.role, room, std::move(agent),
                                           std::move(*negotiation), *this, now_);
  dtls::DtlsTransportOptions dtls_options;
  dtls_options.role = dtls_server ? dtls::Role::server : dtls::Role::client;
  dtls_options.remote_fingerprints = std::move(fingerprints);
  auto transport = dtls::DtlsTransport::create(dtls_, std::move(dtls_options), *session);
  if (!transport) {
    if (room.empty()) rooms_.erase(offer.room);
    return fail(error(SessionErrorCode::unavailable, "DTLS setup failed: " + transport.error()));
  }
  session->set_dtls(std::move(*transport));
  session->on_dtls_state = [this](Session& s, dtls::DtlsState state) { on_dtls_state(s, state); };
  session->cname = cname;
  if (const auto& audio = session->negotiation().audio) {
    session->out_payload_type = audio->payload_type;
    session->out_audio_level_id = audio->audio_level_id.value_or(0);
  }
  if (offer.role == SessionRole::guest) {
    session->out_ssrc = out_ssrc;
    session->seq_offset = static_cast<std::uint16_t>(random_u32());
    session->ts_offset = random_u32();
    room.add_guest(*session);
  } else {
    session->report_ssrc = out_ssrc;
    if (Session* previous = room.set_presenter(session.get())) {
      // A second presenter replaces the first (documented in docs/signaling.md).
      previous->mark_closing(CloseReason::replaced);
      closing_.push_back(previous);
    }
  }
  ++counters_.sessions_created[offer.role == SessionRole::presenter ? 0 : 1];
  by_ufrag_[credentials.ufrag] = session.get();
  SessionAnswer answer{id, std::move(answer_sdp), etag_of(*session)};
  log::with(*log::get("sfu"), spdlog::level::info, "session", id, "{} joined room {} (DTLS {})",
            offer.role == SessionRole::presenter ? "presenter" : "guest", offer.room,
            dtls_server ? "server" : "client");
  sessions_.emplace(id, std::move(session));
  if (!closing_.empty()) close_pending();
  return answer;
}

std::string MediaWorker::etag_of(const Session& session) const {
  return "ice-" + session.ice().local().ufrag;
}

Session* MediaWorker::find_session(const std::string& room, const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->room().name() != room ||
      it->second->closing() != CloseReason::none) {
    return nullptr;
  }
  return it->second.get();
}

Result<SessionUpdate, SessionError> MediaWorker::update_session(const std::string& room,
                                                                const std::string& session_id,
                                                                const std::string& sdpfrag,
                                                                const std::string& if_match) {
  Session* session = find_session(room, session_id);
  if (!session) return fail(error(SessionErrorCode::not_found, "no such session"));
  auto fragment = sdp::parse_sdpfrag(sdpfrag);
  if (!fragment) return fail(error(SessionErrorCode::bad_offer, fragment.error()));
  auto& ice = session->ice();
  // RFC 9725 section 4.3.2, RFC 9110 section 13.1.1: an If-Match must name the current ICE
  // session (or be "*"); an ICE restart must carry one.
  const std::string current = etag_of(*session);
  const bool names_current =
      if_match == "*" || if_match == current || if_match == "\"" + current + "\"";
  const bool restart = fragment->ice_restart(ice.remote().ufrag, ice.remote().pwd);
  if ((restart || !if_match.empty()) && !names_current) {
    return fail(error(SessionErrorCode::precondition_failed,
                      "If-Match does not name the current ICE session"));
  }
  if (!restart) {
    // Trickle: an ICE-lite agent answers whatever checks arrive, so remote candidates need no
    // action (RFC 8445 section 2.5); the fragment is validated and accepted.
    return SessionUpdate{};
  }
  if (!fragment->ice_ufrag || !fragment->ice_pwd) {
    return fail(error(SessionErrorCode::bad_offer, "an ICE restart needs ice-ufrag and ice-pwd"));
  }
  auto credentials = ice::generate_credentials();
  by_ufrag_.erase(ice.local().ufrag);
  ice.restart(credentials, {*fragment->ice_ufrag, *fragment->ice_pwd});
  by_ufrag_[credentials.ufrag] = session;

  // The SFU's new credentials and its candidate, for every bundled section (RFC 8840 section 9).
  std::string out = "a=ice-lite\r\n";
  const auto& negotiation = session->negotiation();
  std::vector<std::string> mids = negotiation.bundle;
  if (mids.empty()) {
    if (negotiation.audio) mids.push_back(negotiation.audio->mid);
    if (negotiation.data) mids.push_back(negotiation.data->mid);
  }
  const auto candidates = local_candidates();
  for (const auto& mid : mids) {
    const bool is_data = negotiation.data && negotiation.data->mid == mid;
    out += is_data ? "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                   : "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n";
    out += "a=mid:" + mid + "\r\n";
    out += "a=ice-ufrag:" + credentials.ufrag + "\r\n";
    out += "a=ice-pwd:" + credentials.pwd + "\r\n";
    for (const auto& candidate : candidates) out += "a=" + sdp::to_string(candidate) + "\r\n";
    out += "a=end-of-candidates\r\n";
  }
  log::with(*log::get("sfu"), spdlog::level::info, "session", session_id, "ICE restart");
  return SessionUpdate{true, std::move(out), etag_of(*session)};
}

Result<Ok, SessionError> MediaWorker::close_session(const std::string& room,
                                                    const std::string& session_id) {
  now_ = Clock::now();
  Session* session = find_session(room, session_id);
  if (!session) return fail(error(SessionErrorCode::not_found, "no such session"));
  session->mark_closing(CloseReason::deleted);
  closing_.push_back(session);
  close_pending();
  return Ok{};
}

}  // namespace podium::sfu
