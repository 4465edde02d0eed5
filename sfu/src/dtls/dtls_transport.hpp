// One session's DTLS 1.2 association (RFC 6347) carrying DTLS-SRTP keying (RFC 5764) and,
// after the handshake, application data for SCTP (RFC 8261). It owns no socket and no timer:
// the caller feeds received datagrams, sends what the sink is given as UDP datagrams, and calls
// on_timeout() when next_timeout() passes. All calls happen on the owning worker thread.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "dtls/dtls_context.hpp"
#include "dtls/fingerprint.hpp"
#include "dtls/srtp_keying.hpp"
#include "podium/common/datagram_bio.hpp"
#include "podium/common/result.hpp"

typedef struct ssl_st SSL;
typedef struct bio_st BIO;
typedef struct x509_store_ctx_st X509_STORE_CTX;

namespace podium::sfu::dtls {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// RFC 5763 section 5 / RFC 8842 section 5: a=setup:active is the DTLS client, a=setup:passive
// the server. Answering a browser's actpass offer the SFU picks passive, i.e. server.
enum class Role : std::uint8_t { client, server };

enum class DtlsState : std::uint8_t {
  new_,        // created, start() not called yet
  connecting,  // handshake in progress
  connected,   // handshake done, fingerprint verified, SRTP keys available
  failed,      // see failure_reason(); terminal
  closed,      // close_notify sent or received after connecting; terminal
};

// Why a transport failed (or, for closed, who closed it). Labels are metric-safe.
enum class FailureReason : std::uint8_t {
  none,
  timeout,               // no completed handshake within the handshake timeout
  handshake_error,       // alert, no shared cipher, missing client certificate, bad record...
  fingerprint_mismatch,  // peer certificate does not match the SDP a=fingerprint
  no_srtp_profile,       // handshake finished without a common DTLS-SRTP profile
  closed_by_peer,        // close_notify received
  protocol_error,        // fatal error after the handshake had completed
  count
};

const char* to_string(DtlsState state);
const char* to_string(FailureReason reason);
const char* to_string(Role role);

// Where a transport's output goes. send() is called from inside the transport's methods (while
// OpenSSL is running) and must not call back into the same transport; it should just queue or
// send the datagram. The on_* hooks are called once the transport's own work is done and may
// call send_application() or close(), but must not destroy the transport.
class DtlsSink {
 public:
  virtual ~DtlsSink() = default;
  // One UDP datagram holding one or more DTLS records (RFC 6347 section 4.1.1).
  virtual void send(std::span<const std::uint8_t> datagram) = 0;
  virtual void on_state(DtlsState /*state*/) {}
  // One decrypted DTLS record of application data (an SCTP packet for RFC 8261).
  virtual void on_application_data(std::span<const std::uint8_t> /*data*/) {}
};

// How long a DTLS handshake may take (from the transport's start; the SFU also holds a session
// to it from ICE connecting, whichever side is slow to begin).
inline constexpr std::chrono::seconds kHandshakeTimeout{30};

struct DtlsTransportOptions {
  Role role = Role::server;
  // The remote SDP's a=fingerprint values; the peer certificate must match one of them
  // (RFC 8122 section 5).
  std::vector<Fingerprint> remote_fingerprints;
  // Largest datagram the transport emits; handshake flights are fragmented to fit.
  std::size_t mtu = 1200;
  // The whole handshake must finish within this time after start().
  std::chrono::milliseconds handshake_timeout = kHandshakeTimeout;
  // RFC 6347 section 4.2.4.1: start at 1 s and double per retransmission up to 60 s.
  std::chrono::milliseconds initial_retransmit = std::chrono::seconds(1);
  std::chrono::milliseconds max_retransmit = std::chrono::seconds(60);
};

class DtlsTransport : private DatagramBioEndpoint {
 public:
  // `context` may be destroyed before the transport (the SSL object keeps its own reference);
  // `sink` must outlive it.
  static Result<std::unique_ptr<DtlsTransport>> create(const DtlsContext& context,
                                                       DtlsTransportOptions options,
                                                       DtlsSink& sink);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // Starts the handshake clock; the client sends its first flight (ClientHello). A server may
  // skip this: the first feed() starts it.
  void start(TimePoint now);
  // A received datagram whose first byte is in 20..63 (RFC 7983 section 7).
  void feed(std::span<const std::uint8_t> datagram, TimePoint now);
  // When on_timeout() is due: the next retransmission or the handshake deadline.
  std::optional<TimePoint> next_timeout() const;
  // Retransmits the last flight if its timer expired (RFC 6347 section 4.2.4), or fails the
  // transport with FailureReason::timeout once the handshake deadline has passed.
  void on_timeout(TimePoint now);

  // Encrypts one message into one DTLS record (RFC 8261 section 5: one SCTP packet per record).
  // Keep it within application_mtu() to avoid IP fragmentation; at most 16384 bytes.
  Result<Ok, Reason> send_application(std::span<const std::uint8_t> data);
  // The largest application message that fits the MTU in one datagram (0 before connecting).
  std::size_t application_mtu() const;

  // Sends close_notify if connected and moves to closed. Idempotent.
  void close();

  DtlsState state() const { return state_; }
  Role role() const { return options_.role; }
  FailureReason failure_reason() const { return reason_; }
  // Human-readable detail for logs (OpenSSL's error text when there is one).
  std::string_view failure_detail() const { return detail_.data(); }

  // Set once connected (RFC 5764 section 4.2), kept after close for the session's lifetime.
  const SrtpKeys* srtp_keys() const { return keys_ ? &*keys_ : nullptr; }
  std::optional<SrtpProfile> srtp_profile() const {
    return keys_ ? std::optional<SrtpProfile>(static_cast<SrtpProfile>(keys_->profile))
                 : std::nullopt;
  }
  // The negotiated cipher suite, e.g. "ECDHE-ECDSA-AES128-GCM-SHA256" (empty until connected).
  std::string_view cipher_name() const { return cipher_name_; }

 private:
  DtlsTransport(DtlsTransportOptions options, DtlsSink& sink);

  // OpenSSL callbacks. The BIO (podium/common/datagram_bio.hpp) writes through send_datagram
  // and reads pending_input.
  void send_datagram(std::span<const std::uint8_t> datagram) override;
  long datagram_mtu() const override { return static_cast<long>(options_.mtu); }
  static int verify_callback(int preverify_ok, X509_STORE_CTX* store);
  static unsigned int timer_callback(SSL* ssl, unsigned int previous_us);

  void drive_handshake();
  void finish_handshake();
  void read_application();
  void handshake_failed(int ssl_error);
  void fail_with(FailureReason reason, const char* detail);
  void set_terminal(DtlsState state, FailureReason reason);
  void update_timer(TimePoint now);
  bool matches_remote(X509* certificate) const;
  bool has_truncated_ciphertext(std::span<const std::uint8_t> datagram) const;
  void capture_openssl_error(const char* fallback);

  DtlsTransportOptions options_;
  DtlsSink& sink_;
  SSL* ssl_ = nullptr;
  DtlsState state_ = DtlsState::new_;
  FailureReason reason_ = FailureReason::none;
  FailureReason pending_reason_ = FailureReason::none;  // set by verify_callback
  std::array<char, 160> detail_{};
  std::optional<TimePoint> handshake_deadline_;
  std::optional<TimePoint> retransmit_at_;
  bool in_openssl_ = false;
  std::optional<SrtpKeys> keys_;
  std::string_view cipher_name_;
};

}  // namespace podium::sfu::dtls
