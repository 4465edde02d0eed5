// TURN over DTLS (RFC 8656 section 3.1, RFC 7350 section 4): a dtls:// listener is one UDP socket
// per worker (SO_REUSEPORT, like udp://) carrying DTLS 1.2 sessions, demultiplexed by the client's
// source address. A new client first gets a stateless HelloVerifyRequest (RFC 6347 section 4.2.1)
// and costs no memory until it echoes a valid cookie, so spoofed ClientHellos create nothing.
// Each decrypted record is one STUN message or ChannelData, handed to the worker like a UDP
// datagram; replies and relayed data go back as one record per datagram.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/five_tuple.hpp"
#include "net/stream_close.hpp"
#include "podium/common/datagram_bio.hpp"
#include "podium/common/udp_batch.hpp"
#include "podium/config/values.hpp"

namespace podium::relay {

class Worker;
class DtlsListener;
class TlsCertificateSlot;

enum class DtlsHandshake : std::uint8_t { ok, failed, timeout, count };
// Why a datagram from an address without a session created none (besides a HelloVerifyRequest).
enum class DtlsRefusal : std::uint8_t { not_client_hello, session_limit, count };

// What every worker's dtls:// listeners share: the DTLS 1.2 server context (certificate from
// relay.tls through the same slot as tls://, so a reload reaches both), the cookie secret and the
// metrics. Built at start-up; throws std::runtime_error if OpenSSL refuses the context.
class DtlsServer {
 public:
  DtlsServer(TlsCertificateSlot& certificate, prometheus::Registry& registry);
  ~DtlsServer();
  DtlsServer(const DtlsServer&) = delete;
  DtlsServer& operator=(const DtlsServer&) = delete;

  SSL_CTX* context() const { return context_; }

  prometheus::Counter& handshakes(DtlsHandshake result) {
    return *handshakes_[static_cast<std::size_t>(result)];
  }
  prometheus::Counter& hello_verify_requests() { return *hello_verify_requests_; }
  prometheus::Counter& refused(DtlsRefusal reason) {
    return *refused_[static_cast<std::size_t>(reason)];
  }
  prometheus::Gauge& sessions() { return *sessions_; }

 private:
  static int generate_cookie(SSL* ssl, unsigned char* cookie, unsigned int* length);
  static int verify_cookie(SSL* ssl, const unsigned char* cookie, unsigned int length);
  // RFC 6347 section 4.2.1: Cookie = HMAC(Secret, Client-IP, Client-Port) for a time window;
  // the window's low byte leads, so the previous window's cookies stay valid while it rolls.
  static constexpr std::size_t kCookieLength = 17;
  bool cookie_for(const SocketAddress& client, std::uint64_t window,
                  std::array<std::uint8_t, kCookieLength>& out) const;

  SSL_CTX* context_ = nullptr;
  std::array<std::uint8_t, 32> secret_{};
  std::array<prometheus::Counter*, static_cast<std::size_t>(DtlsHandshake::count)> handshakes_{};
  prometheus::Counter* hello_verify_requests_ = nullptr;
  std::array<prometheus::Counter*, static_cast<std::size_t>(DtlsRefusal::count)> refused_{};
  prometheus::Gauge* sessions_ = nullptr;
};

// Where an SSL object's datagram BIO reads from and writes to (its BIO's data pointer).
struct DtlsChannel final : DatagramBioEndpoint {
  void send_datagram(std::span<const std::uint8_t> datagram) override;
  DtlsListener* listener = nullptr;
  SocketAddress peer;
  std::uint32_t datagrams_out = 0;
};

// One client's DTLS association: its SSL and 5-tuple. Owned by its DtlsListener.
class DtlsSession {
 public:
  DtlsSession(DtlsListener& listener, SSL* ssl, const FiveTuple& tuple,
              std::chrono::steady_clock::time_point now);
  ~DtlsSession();
  DtlsSession(const DtlsSession&) = delete;
  DtlsSession& operator=(const DtlsSession&) = delete;

  const FiveTuple& tuple() const { return tuple_; }
  // Sends head + payload + `padding` zero bytes as one DTLS record; false if it could not.
  bool send(std::span<const std::uint8_t> head, std::span<const std::uint8_t> payload,
            std::size_t padding);
  // Ends the session with a close_notify (and any allocation on it); counted by `reason`.
  void close(StreamClose reason);

 private:
  friend class DtlsListener;
  DtlsListener& listener_;
  SSL* ssl_;
  DtlsChannel channel_;
  FiveTuple tuple_;
  std::chrono::steady_clock::time_point created_;
  std::chrono::steady_clock::time_point last_received_;
  bool established_ = false;
};

class DtlsListener {
 public:
  DtlsListener(Worker& worker, boost::asio::io_context& io, DtlsServer& server);
  ~DtlsListener();
  DtlsListener(const DtlsListener&) = delete;
  DtlsListener& operator=(const DtlsListener&) = delete;

  // Binds with SO_REUSEPORT; returns the bound endpoint. Throws std::system_error (start-up).
  config::Endpoint bind(const config::Endpoint& endpoint);
  void start();
  // Ends every session (reason shutdown) and closes the socket.
  void close();

  // Limits per worker and listener. Sessions are only created after a cookie round trip.
  static constexpr std::size_t kMaxSessions = 4096;
  static constexpr std::size_t kMaxHandshaking = 256;
  // A session whose handshake has not finished this long after its ClientHello is dropped.
  static constexpr std::chrono::seconds kHandshakeTimeout{10};
  // A session that received nothing for this long and carries no allocation is closed.
  static constexpr std::chrono::seconds kIdleTimeout{60};
  // Datagram size the handshake fragments its flights to (RFC 6347 section 4.1.1.1).
  static constexpr long kMtu = 1400;

 private:
  friend class DtlsSession;
  friend struct DtlsChannel;
  using Clock = std::chrono::steady_clock;

  void arm();
  void on_readable();
  void on_datagram(const SocketAddress& source, std::span<const std::uint8_t> data);
  // A datagram from an address without a session, or a new ClientHello on an existing one
  // (RFC 6347 section 4.2.8: only once its cookie is verified does it replace `existing`).
  void on_hello(const SocketAddress& source, std::span<const std::uint8_t> data,
                DtlsSession* existing);
  void continue_handshake(DtlsSession& session);
  void read_records(DtlsSession& session);
  void end_session(DtlsSession& session, StreamClose reason, bool notify);
  void send_datagram(const SocketAddress& to, const std::uint8_t* data, std::size_t length);
  SSL* new_ssl(DtlsChannel& channel);
  void arm_timer();
  void on_timer();
  void clear_errors();

  Worker& worker_;
  DtlsServer& server_;
  boost::asio::ip::udp::socket socket_;
  SocketAddress local_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<net::RecvBatch> recv_;
  std::unordered_map<SocketAddress, std::unique_ptr<DtlsSession>, SocketAddressHash> sessions_;
  std::size_t handshaking_ = 0;
  // The SSL object DTLSv1_listen runs on for addresses without a session; it becomes the
  // session's once a ClientHello carries a valid cookie.
  DtlsChannel listen_channel_;
  SSL* listen_ssl_ = nullptr;
  BIO_ADDR* listen_address_ = nullptr;
  std::uint64_t hello_verify_requests_ = 0;  // added to the metric once a second
  std::array<std::uint64_t, static_cast<std::size_t>(DtlsRefusal::count)> refused_{};
  Clock::time_point last_flush_{};
  bool timer_fast_ = false;  // armed for handshake retransmissions rather than the 1 s sweep
  bool closed_ = false;
  std::array<std::uint8_t, 16384 + 256> plaintext_{};              // SSL_read target
  std::array<std::uint8_t, net::kMaxDatagram + 1024> outgoing_{};  // records are assembled here
};

}  // namespace podium::relay
