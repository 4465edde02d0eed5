#include "net/dtls_listener.hpp"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "net/listen_socket.hpp"
#include "net/tls_certificate.hpp"
#include "podium/common/random.hpp"
#include "podium/monitoring/logging.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

// Bounded work per readiness event, as on the UDP listeners.
constexpr int kMaxBatchesPerWakeup = 8;
// Handshake flights are retransmitted (RFC 6347 section 4.2.4) from this tick while any
// handshake is in progress; otherwise the listener wakes once a second for its idle sweep.
constexpr std::chrono::milliseconds kHandshakeTick{200};
constexpr std::chrono::seconds kSweepTick{1};
// Cookies are valid in the window they were made in and the next one.
constexpr std::chrono::seconds kCookieWindow{60};

// RFC 6347 section 4.1: content type 22 (handshake), epoch 0, handshake type 1 (ClientHello).
constexpr std::size_t kRecordHeader = 13;
constexpr std::size_t kHandshakeHeader = 12;
bool is_handshake_record(std::span<const std::uint8_t> data) {
  return data.size() >= kRecordHeader + kHandshakeHeader && data[0] == 22;
}
bool is_client_hello(std::span<const std::uint8_t> data) {
  return is_handshake_record(data) && data[3] == 0 && data[4] == 0 && data[kRecordHeader] == 1;
}

std::uint64_t cookie_window_now() {
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch() /
                                    kCookieWindow);
}

}  // namespace

// Each datagram OpenSSL writes goes to the channel's peer through the listener's socket.
void DtlsChannel::send_datagram(std::span<const std::uint8_t> datagram) {
  if (listener == nullptr) return;
  listener->send_datagram(peer, datagram.data(), datagram.size());
  ++datagrams_out;
}

// ---------------------------------------------------------------------------------------------
// DtlsServer

DtlsServer::DtlsServer(TlsCertificateSlot& certificate, prometheus::Registry& registry) {
  context_ = SSL_CTX_new(DTLS_server_method());
  if (context_ == nullptr) throw std::runtime_error("relay: cannot create the DTLS context");
  // DTLS 1.2 only: DTLS 1.0 is deprecated (RFC 8996).
  if (SSL_CTX_set_min_proto_version(context_, DTLS1_2_VERSION) != 1) {
    SSL_CTX_free(context_);
    throw std::runtime_error("relay: cannot restrict the DTLS context to DTLS 1.2");
  }
  SSL_CTX_set_options(context_, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(context_, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_cookie_generate_cb(context_, &DtlsServer::generate_cookie);
  SSL_CTX_set_cookie_verify_cb(context_, &DtlsServer::verify_cookie);
  SSL_CTX_set_app_data(context_, this);
  certificate.install(context_);
  random_bytes(secret_);

  auto& handshakes = prometheus::BuildCounter()
                         .Name("podium_relay_dtls_handshakes_total")
                         .Help(
                             "DTLS handshakes on dtls:// listeners (after a verified cookie), "
                             "by result: ok, failed, timeout.")
                         .Register(registry);
  handshakes_[0] = &handshakes.Add({{"result", "ok"}});
  handshakes_[1] = &handshakes.Add({{"result", "failed"}});
  handshakes_[2] = &handshakes.Add({{"result", "timeout"}});
  hello_verify_requests_ =
      &prometheus::BuildCounter()
           .Name("podium_relay_dtls_hello_verify_requests_total")
           .Help("HelloVerifyRequests sent to ClientHellos without a valid cookie (stateless).")
           .Register(registry)
           .Add({});
  auto& refused = prometheus::BuildCounter()
                      .Name("podium_relay_dtls_refused_datagrams_total")
                      .Help(
                          "Datagrams on dtls:// listeners from addresses without a session that "
                          "created none, by reason.")
                      .Register(registry);
  refused_[0] = &refused.Add({{"reason", "not_client_hello"}});
  refused_[1] = &refused.Add({{"reason", "session_limit"}});
  sessions_ = &prometheus::BuildGauge()
                   .Name("podium_relay_dtls_sessions")
                   .Help(
                       "DTLS sessions (per-client state) on dtls:// listeners: handshaking or "
                       "established.")
                   .Register(registry)
                   .Add({});
}

DtlsServer::~DtlsServer() {
  SSL_CTX_free(context_);
}

bool DtlsServer::cookie_for(const SocketAddress& client, std::uint64_t window,
                            std::array<std::uint8_t, kCookieLength>& out) const {
  std::array<std::uint8_t, 8 + 1 + 16 + 2> input{};
  std::size_t length = 0;
  for (int i = 0; i < 8; ++i) input[length++] = static_cast<std::uint8_t>(window >> (8 * i));
  if (client.is_v4()) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(client.sa());
    input[length++] = 4;
    std::memcpy(&input[length], &in->sin_addr, 4);
    length += 4;
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(client.sa());
    input[length++] = 6;
    std::memcpy(&input[length], &in6->sin6_addr, 16);
    length += 16;
  }
  const std::uint16_t port = client.port();
  input[length++] = static_cast<std::uint8_t>(port >> 8);
  input[length++] = static_cast<std::uint8_t>(port);
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_length = 0;
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()), input.data(), length,
           mac.data(), &mac_length) == nullptr ||
      mac_length < kCookieLength - 1) {
    return false;
  }
  out[0] = static_cast<std::uint8_t>(window);
  std::memcpy(out.data() + 1, mac.data(), kCookieLength - 1);
  return true;
}

int DtlsServer::generate_cookie(SSL* ssl, unsigned char* cookie, unsigned int* length) {
  auto* server = static_cast<DtlsServer*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  auto* channel = static_cast<DtlsChannel*>(SSL_get_app_data(ssl));
  if (server == nullptr || channel == nullptr) return 0;
  std::array<std::uint8_t, kCookieLength> out{};
  if (!server->cookie_for(channel->peer, cookie_window_now(), out)) return 0;
  std::memcpy(cookie, out.data(), out.size());
  *length = static_cast<unsigned int>(out.size());
  return 1;
}

int DtlsServer::verify_cookie(SSL* ssl, const unsigned char* cookie, unsigned int length) {
  auto* server = static_cast<DtlsServer*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  auto* channel = static_cast<DtlsChannel*>(SSL_get_app_data(ssl));
  if (server == nullptr || channel == nullptr || length != kCookieLength) return 0;
  const std::uint64_t now = cookie_window_now();
  for (std::uint64_t window : {now, now - 1}) {
    if (cookie[0] != static_cast<std::uint8_t>(window)) continue;
    std::array<std::uint8_t, kCookieLength> expected{};
    if (!server->cookie_for(channel->peer, window, expected)) return 0;
    return CRYPTO_memcmp(expected.data(), cookie, kCookieLength) == 0 ? 1 : 0;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// DtlsSession

DtlsSession::DtlsSession(DtlsListener& listener, SSL* ssl, const FiveTuple& tuple,
                         std::chrono::steady_clock::time_point now)
    : listener_(listener), ssl_(ssl), tuple_(tuple), created_(now), last_received_(now) {
  channel_.listener = &listener;
  channel_.peer = tuple.client;
  set_datagram_bio_endpoint(SSL_get_rbio(ssl_), channel_);
  SSL_set_app_data(ssl_, &channel_);
  listener_.server_.sessions().Increment();
}

DtlsSession::~DtlsSession() {
  SSL_free(ssl_);  // also frees its BIO
  listener_.server_.sessions().Decrement();
}

bool DtlsSession::send(std::span<const std::uint8_t> head, std::span<const std::uint8_t> payload,
                       std::size_t padding) {
  if (!established_) return false;
  auto& out = listener_.outgoing_;
  const std::size_t total = head.size() + payload.size() + padding;
  if (total > out.size() || total == 0) return false;
  std::memcpy(out.data(), head.data(), head.size());
  if (!payload.empty()) std::memcpy(out.data() + head.size(), payload.data(), payload.size());
  std::memset(out.data() + head.size() + payload.size(), 0, padding);
  // One SSL_write is one record in one datagram (RFC 7350 section 4: a STUN message per record).
  if (SSL_write(ssl_, out.data(), static_cast<int>(total)) <= 0) {
    listener_.clear_errors();
    return false;
  }
  return true;
}

void DtlsSession::close(StreamClose reason) {
  listener_.end_session(*this, reason, true);
}

// ---------------------------------------------------------------------------------------------
// DtlsListener

DtlsListener::DtlsListener(Worker& worker, asio::io_context& io, DtlsServer& server)
    : worker_(worker),
      server_(server),
      socket_(io),
      timer_(io),
      recv_(std::make_unique<net::RecvBatch>()) {
  listen_channel_.listener = this;
  listen_address_ = BIO_ADDR_new();
  listen_ssl_ = new_ssl(listen_channel_);
  if (listen_address_ == nullptr || listen_ssl_ == nullptr) {
    if (listen_ssl_ != nullptr) SSL_free(listen_ssl_);
    if (listen_address_ != nullptr) BIO_ADDR_free(listen_address_);
    throw std::runtime_error("relay: cannot create the DTLS listener's SSL object");
  }
}

DtlsListener::~DtlsListener() {
  sessions_.clear();
  if (listen_ssl_ != nullptr) SSL_free(listen_ssl_);
  BIO_ADDR_free(listen_address_);
}

SSL* DtlsListener::new_ssl(DtlsChannel& channel) {
  SSL* ssl = SSL_new(server_.context());
  if (ssl == nullptr) return nullptr;
  BIO* bio = new_datagram_bio(channel);
  if (bio == nullptr) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_bio(ssl, bio, bio);  // one reference for both directions
  SSL_set_app_data(ssl, &channel);
  SSL_set_mtu(ssl, kMtu);
  SSL_set_accept_state(ssl);
  return ssl;
}

config::Endpoint DtlsListener::bind(const config::Endpoint& endpoint) {
  auto bound = bind_udp_listener(socket_, endpoint, 1024 * 1024);
  local_ = SocketAddress::from(bound.address(), bound.port());
  return {bound.address(), bound.port()};
}

void DtlsListener::start() {
  last_flush_ = Clock::now();
  arm();
  arm_timer();
}

void DtlsListener::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  // Sessions end first: their close_notify still goes out on the socket.
  while (!sessions_.empty()) end_session(*sessions_.begin()->second, StreamClose::shutdown, true);
  boost::system::error_code ec;
  socket_.close(ec);
}

void DtlsListener::clear_errors() {
  // The worker thread's OpenSSL error queue is shared with its TLS connections: leave it empty.
  ERR_clear_error();
}

void DtlsListener::send_datagram(const SocketAddress& to, const std::uint8_t* data,
                                 std::size_t length) {
  if (!socket_.is_open()) return;
  // Losses (a full socket buffer) are left to DTLS retransmission or, for data, to the client.
  (void)::sendto(socket_.native_handle(), data, length, MSG_DONTWAIT, to.sa(), to.length());
}

void DtlsListener::arm() {
  socket_.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec || closed_) return;
    on_readable();
  });
}

void DtlsListener::on_readable() {
  const int fd = socket_.native_handle();
  for (int round = 0; round < kMaxBatchesPerWakeup && !closed_; ++round) {
    const int n = recv_->receive(fd);
    if (n <= 0) {
      if (n < 0) worker_.on_dtls_listener_error();
      break;
    }
    for (int i = 0; i < n; ++i) {
      auto datagram = recv_->at(static_cast<std::size_t>(i));
      if (datagram.truncated) continue;  // larger than any record a client needs to send
      on_datagram(datagram.source, datagram.data);
    }
    if (n < static_cast<int>(net::kRecvBatch)) break;
  }
  if (!closed_) arm();
}

void DtlsListener::on_datagram(const SocketAddress& source, std::span<const std::uint8_t> data) {
  auto it = sessions_.find(source);
  if (it == sessions_.end()) return on_hello(source, data, nullptr);
  DtlsSession& session = *it->second;
  // RFC 6347 section 4.2.8: a ClientHello in epoch 0 on an established association may be a
  // client that restarted with the same port.
  if (session.established_ && is_client_hello(data)) return on_hello(source, data, &session);
  session.last_received_ = Clock::now();
  session.channel_.pending_input = data;
  if (session.established_) {
    read_records(session);
  } else {
    continue_handshake(session);
  }
}

void DtlsListener::on_hello(const SocketAddress& source, std::span<const std::uint8_t> data,
                            DtlsSession* existing) {
  if (!is_handshake_record(data)) {
    ++refused_[static_cast<std::size_t>(DtlsRefusal::not_client_hello)];
    return;
  }
  if (listen_ssl_ == nullptr && (listen_ssl_ = new_ssl(listen_channel_)) == nullptr) {
    ++refused_[static_cast<std::size_t>(DtlsRefusal::session_limit)];
    return;
  }
  listen_channel_.peer = source;
  listen_channel_.pending_input = data;
  listen_channel_.datagrams_out = 0;
  // RFC 6347 section 4.2.1: a ClientHello without a valid cookie is answered with a
  // HelloVerifyRequest from this one SSL object and leaves no state behind.
  const int verified = DTLSv1_listen(listen_ssl_, listen_address_);
  listen_channel_.pending_input = {};
  if (verified <= 0) {
    clear_errors();
    if (listen_channel_.datagrams_out > 0) {
      ++hello_verify_requests_;
    } else {
      ++refused_[static_cast<std::size_t>(DtlsRefusal::not_client_hello)];
    }
    if (verified < 0) {
      SSL_free(listen_ssl_);
      listen_ssl_ = new_ssl(listen_channel_);
    }
    return;
  }
  // The limits first, counting the slot a restarting client's old (established) session frees:
  // a refused restart must not also cost the client its working session (and allocation).
  const std::size_t sessions = sessions_.size() - (existing != nullptr ? 1 : 0);
  if (sessions >= kMaxSessions || handshaking_ >= kMaxHandshaking) {
    ++refused_[static_cast<std::size_t>(DtlsRefusal::session_limit)];
    SSL_free(listen_ssl_);
    listen_ssl_ = new_ssl(listen_channel_);
    return;
  }
  if (existing != nullptr) end_session(*existing, StreamClose::peer_closed, false);
  SSL* ssl = listen_ssl_;
  listen_ssl_ = new_ssl(listen_channel_);
  auto session = std::make_unique<DtlsSession>(
      *this, ssl, FiveTuple{source, local_, ClientTransport::dtls}, Clock::now());
  DtlsSession& added = *session;
  sessions_.emplace(source, std::move(session));
  ++handshaking_;
  if (!timer_fast_) arm_timer();
  continue_handshake(added);  // the ClientHello DTLSv1_listen kept: the server's first flight
}

void DtlsListener::continue_handshake(DtlsSession& session) {
  const int result = SSL_do_handshake(session.ssl_);
  session.channel_.pending_input = {};
  if (result == 1) {
    session.established_ = true;
    --handshaking_;
    server_.handshakes(DtlsHandshake::ok).Increment();
    log::with(*log::get("relay"), spdlog::level::debug, "client", session.tuple_.client.to_string(),
              "DTLS session established ({}, {})", SSL_get_version(session.ssl_),
              SSL_get_cipher_name(session.ssl_));
    read_records(session);  // records that arrived with the client's last flight
    return;
  }
  const int error = SSL_get_error(session.ssl_, result);
  const unsigned long reason = ERR_peek_error();
  clear_errors();
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
  server_.handshakes(DtlsHandshake::failed).Increment();
  log::with(*log::get("relay"), spdlog::level::debug, "client", session.tuple_.client.to_string(),
            "DTLS handshake failed: {}",
            reason ? ERR_reason_error_string(reason) : "connection ended");
  end_session(session, StreamClose::tls_handshake_failed, false);
}

void DtlsListener::read_records(DtlsSession& session) {
  for (;;) {
    const int n = SSL_read(session.ssl_, plaintext_.data(), static_cast<int>(plaintext_.size()));
    if (n > 0) {
      // RFC 7350 section 4: each record holds one STUN message or ChannelData message.
      worker_.on_dtls_record(
          session, std::span<const std::uint8_t>(plaintext_.data(), static_cast<std::size_t>(n)));
      continue;
    }
    const int error = SSL_get_error(session.ssl_, n);
    clear_errors();
    session.channel_.pending_input = {};
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
    // close_notify (answered with ours), or a fatal alert / unrecoverable error: either way the
    // client ended the association.
    end_session(session, StreamClose::peer_closed, error == SSL_ERROR_ZERO_RETURN);
    return;
  }
}

void DtlsListener::end_session(DtlsSession& session, StreamClose reason, bool notify) {
  if (notify && session.established_) {
    SSL_shutdown(session.ssl_);
    clear_errors();
  }
  if (!session.established_) --handshaking_;
  log::with(*log::get("relay"), spdlog::level::debug, "client", session.tuple_.client.to_string(),
            "DTLS session ended ({})", to_string(reason));
  // RFC 8656 section 5: the allocation on the session ends with it (as over TCP/TLS).
  worker_.on_dtls_closed(session, reason);
  const SocketAddress key = session.tuple_.client;
  sessions_.erase(key);
}

void DtlsListener::arm_timer() {
  timer_fast_ = handshaking_ > 0;
  timer_.expires_after(timer_fast_ ? std::chrono::duration_cast<Clock::duration>(kHandshakeTick)
                                   : std::chrono::duration_cast<Clock::duration>(kSweepTick));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || closed_) return;
    on_timer();
  });
}

void DtlsListener::on_timer() {
  const auto now = Clock::now();
  const bool sweep = now - last_flush_ >= kSweepTick;
  std::vector<std::pair<DtlsSession*, bool>> doomed;  // (session, handshake timed out)
  for (auto& [address, session] : sessions_) {
    if (!session->established_) {
      if (now - session->created_ > kHandshakeTimeout) {
        doomed.emplace_back(session.get(), true);
        continue;
      }
      // RFC 6347 section 4.2.4: retransmit the last flight when its timer ran out.
      if (DTLSv1_handle_timeout(session->ssl_) < 0) {
        clear_errors();
        doomed.emplace_back(session.get(), true);
      }
    } else if (sweep && now - session->last_received_ > kIdleTimeout &&
               !worker_.has_allocation(session->tuple_)) {
      doomed.emplace_back(session.get(), false);
    }
  }
  for (auto [session, handshake] : doomed) {
    if (handshake) server_.handshakes(DtlsHandshake::timeout).Increment();
    end_session(*session, StreamClose::idle_timeout, !handshake);
  }
  if (sweep) {
    last_flush_ = now;
    if (hello_verify_requests_) {
      server_.hello_verify_requests().Increment(static_cast<double>(hello_verify_requests_));
      hello_verify_requests_ = 0;
    }
    for (std::size_t i = 0; i < refused_.size(); ++i) {
      if (refused_[i]) {
        server_.refused(static_cast<DtlsRefusal>(i)).Increment(static_cast<double>(refused_[i]));
        refused_[i] = 0;
      }
    }
  }
  arm_timer();
}

}  // namespace podium::relay
