#include "dtls/dtls_transport.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace podium::sfu::dtls {

namespace {

// RFC 5764 section 4.2: the exporter label for DTLS-SRTP keying material.
constexpr char kExporterLabel[] = "EXTRACTOR-dtls_srtp";
// RFC 6347 section 4.1: DTLS records carry at most 2^14 bytes of plaintext.
constexpr std::size_t kMaxRecordPlaintext = 16384;

// Received application data is decrypted into this per-thread buffer (transports are owned by
// one worker thread). A nested use, e.g. a hook that feeds another transport, gets a fresh one.
thread_local std::array<std::uint8_t, kMaxRecordPlaintext> read_buffer;
thread_local bool read_buffer_busy = false;

void copy_detail(std::array<char, 160>& out, const char* text) {
  std::snprintf(out.data(), out.size(), "%s", text);
}

}  // namespace

const char* to_string(DtlsState state) {
  switch (state) {
    case DtlsState::new_:
      return "new";
    case DtlsState::connecting:
      return "connecting";
    case DtlsState::connected:
      return "connected";
    case DtlsState::failed:
      return "failed";
    case DtlsState::closed:
      return "closed";
  }
  return "unknown";
}

const char* to_string(FailureReason reason) {
  switch (reason) {
    case FailureReason::none:
      return "none";
    case FailureReason::timeout:
      return "timeout";
    case FailureReason::handshake_error:
      return "handshake_error";
    case FailureReason::fingerprint_mismatch:
      return "fingerprint_mismatch";
    case FailureReason::no_srtp_profile:
      return "no_srtp_profile";
    case FailureReason::closed_by_peer:
      return "closed_by_peer";
    case FailureReason::protocol_error:
      return "protocol_error";
    case FailureReason::count:
      break;
  }
  return "unknown";
}

const char* to_string(Role role) {
  return role == Role::client ? "client" : "server";
}

DtlsTransport::DtlsTransport(DtlsTransportOptions options, DtlsSink& sink)
    : options_(std::move(options)), sink_(sink) {}

void DtlsTransport::send_datagram(std::span<const std::uint8_t> datagram) {
  sink_.send(datagram);
}

DtlsTransport::~DtlsTransport() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // also frees the BIO
}

Result<std::unique_ptr<DtlsTransport>> DtlsTransport::create(const DtlsContext& context,
                                                             DtlsTransportOptions options,
                                                             DtlsSink& sink) {
  if (options.remote_fingerprints.empty()) {
    return fail("the remote SDP fingerprint is required (RFC 8122)");
  }
  for (const Fingerprint& fingerprint : options.remote_fingerprints) {
    if (fingerprint.empty()) return fail("empty remote fingerprint");
  }
  if (options.mtu < 256 || options.mtu > 65507) return fail("DTLS MTU must be in 256..65507");
  if (options.initial_retransmit.count() <= 0 ||
      options.max_retransmit < options.initial_retransmit ||
      options.max_retransmit > std::chrono::seconds(3600)) {
    return fail("invalid DTLS retransmission timers");
  }
  if (options.handshake_timeout.count() <= 0) return fail("invalid DTLS handshake timeout");

  std::unique_ptr<DtlsTransport> transport(new DtlsTransport(std::move(options), sink));
  DtlsTransport& t = *transport;

  ERR_clear_error();
  t.ssl_ = SSL_new(context.native());
  if (t.ssl_ == nullptr) return fail("SSL_new failed");
  BIO* bio = new_datagram_bio(t);
  if (bio == nullptr) return fail("cannot create the DTLS BIO");
  SSL_set_bio(t.ssl_, bio, bio);  // one reference, owned by the SSL object
  SSL_set_app_data(t.ssl_, &t);

  SSL_set_options(t.ssl_, SSL_OP_NO_QUERY_MTU);
  // Returns the MTU it accepted, 0 if below the DTLS minimum.
  if (SSL_set_mtu(t.ssl_, static_cast<long>(t.options_.mtu)) <= 0) {
    ERR_clear_error();
    return fail("OpenSSL refused the DTLS MTU");
  }
  DTLS_set_timer_cb(t.ssl_, &DtlsTransport::timer_callback);
  // RFC 8827 section 6.5 / RFC 5763 section 5: both ends present a certificate; it is
  // checked against the SDP fingerprint instead of a CA.
  SSL_set_verify(t.ssl_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                 &DtlsTransport::verify_callback);
  if (t.options_.role == Role::client) {
    SSL_set_connect_state(t.ssl_);
  } else {
    SSL_set_accept_state(t.ssl_);
  }
  return transport;
}

void DtlsTransport::start(TimePoint now) {
  if (state_ != DtlsState::new_) return;
  state_ = DtlsState::connecting;
  handshake_deadline_ = now + options_.handshake_timeout;
  sink_.on_state(DtlsState::connecting);
  if (state_ != DtlsState::connecting) return;           // the hook closed us
  if (options_.role == Role::client) drive_handshake();  // emits the ClientHello
  if (state_ == DtlsState::connecting) update_timer(now);
}

void DtlsTransport::feed(std::span<const std::uint8_t> datagram, TimePoint now) {
  if (state_ == DtlsState::new_) start(now);
  if (state_ != DtlsState::connecting && state_ != DtlsState::connected) return;
  if (in_openssl_ || datagram.empty()) return;
  if (state_ == DtlsState::connecting && handshake_deadline_ && now >= *handshake_deadline_) {
    fail_with(FailureReason::timeout, "DTLS handshake did not complete in time");
    return;
  }
  if (has_truncated_ciphertext(datagram)) return;
  pending_input = datagram;
  if (state_ == DtlsState::connecting) drive_handshake();
  // Records after the Finished message may already sit in OpenSSL's buffer.
  if (state_ == DtlsState::connected) read_application();
  pending_input = {};
  update_timer(now);
}

std::optional<TimePoint> DtlsTransport::next_timeout() const {
  if (state_ == DtlsState::connecting) {
    if (retransmit_at_ && handshake_deadline_)
      return std::min(*retransmit_at_, *handshake_deadline_);
    return handshake_deadline_;
  }
  if (state_ == DtlsState::connected) return retransmit_at_;
  return std::nullopt;
}

void DtlsTransport::on_timeout(TimePoint now) {
  if (in_openssl_) return;
  if (state_ == DtlsState::connecting && handshake_deadline_ && now >= *handshake_deadline_) {
    fail_with(FailureReason::timeout, "DTLS handshake did not complete in time");
    return;
  }
  if (state_ != DtlsState::connecting && state_ != DtlsState::connected) return;
  if (retransmit_at_ && now >= *retransmit_at_) {
    ERR_clear_error();
    in_openssl_ = true;
    // Retransmits the buffered flight if OpenSSL's own timer agrees it expired (RFC 6347
    // section 4.2.4) and doubles the timer through timer_callback.
    const int result = DTLSv1_handle_timeout(ssl_);
    in_openssl_ = false;
    if (result < 0) {
      // Too many retransmissions without an answer.
      capture_openssl_error("DTLS retransmission limit reached");
      set_terminal(DtlsState::failed, state_ == DtlsState::connecting
                                          ? FailureReason::timeout
                                          : FailureReason::protocol_error);
      return;
    }
  }
  update_timer(now);
}

Result<Ok, Reason> DtlsTransport::send_application(std::span<const std::uint8_t> data) {
  if (state_ != DtlsState::connected || ssl_ == nullptr) {
    return fail_reason("DTLS transport is not connected");
  }
  if (in_openssl_) return fail_reason("DTLS transport is busy (re-entrant call)");
  if (data.empty()) return Ok{};
  if (data.size() > kMaxRecordPlaintext) {
    return fail_reason("application message exceeds the DTLS record size");
  }
  ERR_clear_error();
  in_openssl_ = true;
  const int written = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
  in_openssl_ = false;
  if (written == static_cast<int>(data.size())) return Ok{};
  const int error = SSL_get_error(ssl_, written);
  if (error == SSL_ERROR_SSL || error == SSL_ERROR_SYSCALL) {
    capture_openssl_error("DTLS write failed");
    set_terminal(DtlsState::failed, FailureReason::protocol_error);
  } else {
    ERR_clear_error();
  }
  return fail_reason("DTLS write failed");
}

std::size_t DtlsTransport::application_mtu() const {
  if (state_ != DtlsState::connected || ssl_ == nullptr) return 0;
  return DTLS_get_data_mtu(ssl_);
}

void DtlsTransport::close() {
  if (state_ == DtlsState::failed || state_ == DtlsState::closed || in_openssl_) return;
  if (ssl_ != nullptr && state_ == DtlsState::connected) {
    // RFC 5246 section 7.2.1 (kept by RFC 6347): tell the peer with close_notify.
    ERR_clear_error();
    in_openssl_ = true;
    SSL_shutdown(ssl_);
    in_openssl_ = false;
    ERR_clear_error();
  }
  copy_detail(detail_, "closed locally");
  set_terminal(DtlsState::closed, FailureReason::none);
}

void DtlsTransport::drive_handshake() {
  ERR_clear_error();
  in_openssl_ = true;
  const int result = SSL_do_handshake(ssl_);
  in_openssl_ = false;
  if (result == 1) {
    finish_handshake();
    return;
  }
  const int error = SSL_get_error(ssl_, result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    return;
  }
  handshake_failed(error);
}

void DtlsTransport::handshake_failed(int ssl_error) {
  if (pending_reason_ != FailureReason::none) {
    ERR_clear_error();
    copy_detail(detail_, "peer certificate does not match the SDP fingerprint");
    set_terminal(DtlsState::failed, pending_reason_);
    return;
  }
  // A fatal alert also marks the connection as shut down by the peer; only a close_notify
  // yields SSL_ERROR_ZERO_RETURN.
  if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    ERR_clear_error();
    copy_detail(detail_, "close_notify received during the handshake");
    set_terminal(DtlsState::failed, FailureReason::closed_by_peer);
    return;
  }
  capture_openssl_error("DTLS handshake failed");
  set_terminal(DtlsState::failed, FailureReason::handshake_error);
}

void DtlsTransport::finish_handshake() {
  // The verify callback already compared the certificate; check again in case a future
  // OpenSSL path (resumption is disabled) skipped it.
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr || !matches_remote(peer)) {
    fail_with(FailureReason::fingerprint_mismatch,
              "peer certificate does not match the SDP fingerprint");
    return;
  }
  // RFC 5764 section 4.1.1: the server picked one profile from the client's list.
  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_);
  const std::optional<SrtpProfile> profile =
      selected != nullptr ? srtp_profile_from_id(static_cast<std::uint16_t>(selected->id))
                          : std::nullopt;
  if (!profile) {
    fail_with(FailureReason::no_srtp_profile, "no common DTLS-SRTP protection profile");
    return;
  }

  const std::optional<srtp::Profile> srtp_profile = to_srtp_profile(*profile);
  if (!srtp_profile) {
    fail_with(FailureReason::no_srtp_profile, "negotiated a DTLS-SRTP profile the SFU cannot run");
    return;
  }

  // RFC 5764 section 4.2: 2 * (key + salt) bytes from the TLS exporter (RFC 5705), split by
  // our role.
  std::array<std::uint8_t, 2 * (srtp::kMasterKeyLength + srtp::kMaxMasterSaltLength)> material{};
  const std::size_t total = srtp::keying_material_length(*srtp_profile);
  if (SSL_export_keying_material(ssl_, material.data(), total, kExporterLabel,
                                 sizeof(kExporterLabel) - 1, nullptr, 0, 0) != 1) {
    OPENSSL_cleanse(material.data(), material.size());
    capture_openssl_error("DTLS-SRTP key export failed");
    set_terminal(DtlsState::failed, FailureReason::handshake_error);
    return;
  }
  auto split = srtp::split_keying_material(
      *srtp_profile,
      options_.role == Role::client ? srtp::DtlsRole::client : srtp::DtlsRole::server,
      std::span<const std::uint8_t>(material.data(), total));
  OPENSSL_cleanse(material.data(), material.size());
  if (!split) {
    fail_with(FailureReason::handshake_error, split.error().text);
    return;
  }
  keys_ = SrtpKeys{*srtp_profile, split->local, split->remote};

  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_)) {
    const char* name = SSL_CIPHER_get_name(cipher);  // static storage in OpenSSL's table
    if (name != nullptr) cipher_name_ = name;
  }
  ERR_clear_error();
  state_ = DtlsState::connected;
  handshake_deadline_.reset();
  sink_.on_state(DtlsState::connected);
}

void DtlsTransport::read_application() {
  const bool nested = read_buffer_busy;
  std::unique_ptr<std::array<std::uint8_t, kMaxRecordPlaintext>> own;
  std::uint8_t* buffer = read_buffer.data();
  if (nested) {
    own = std::make_unique<std::array<std::uint8_t, kMaxRecordPlaintext>>();
    buffer = own->data();
  }
  read_buffer_busy = true;
  while (state_ == DtlsState::connected) {
    ERR_clear_error();
    in_openssl_ = true;
    const int n = SSL_read(ssl_, buffer, static_cast<int>(kMaxRecordPlaintext));
    in_openssl_ = false;
    if (n > 0) {
      sink_.on_application_data(std::span<const std::uint8_t>(buffer, static_cast<std::size_t>(n)));
      continue;
    }
    const int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      ERR_clear_error();
      break;
    }
    if (error == SSL_ERROR_ZERO_RETURN) {
      // close_notify: answer with ours (RFC 5246 section 7.2.1) and close.
      ERR_clear_error();
      in_openssl_ = true;
      SSL_shutdown(ssl_);
      in_openssl_ = false;
      ERR_clear_error();
      copy_detail(detail_, "close_notify received");
      set_terminal(DtlsState::closed, FailureReason::closed_by_peer);
      break;
    }
    capture_openssl_error("DTLS read failed");
    set_terminal(DtlsState::failed, FailureReason::protocol_error);
    break;
  }
  read_buffer_busy = nested;
}

void DtlsTransport::fail_with(FailureReason reason, const char* detail) {
  ERR_clear_error();
  copy_detail(detail_, detail);
  if (ssl_ != nullptr && SSL_is_init_finished(ssl_)) {
    // The handshake itself succeeded: say goodbye so the peer does not wait for a timeout.
    in_openssl_ = true;
    SSL_shutdown(ssl_);
    in_openssl_ = false;
    ERR_clear_error();
  }
  set_terminal(DtlsState::failed, reason);
}

void DtlsTransport::set_terminal(DtlsState state, FailureReason reason) {
  state_ = state;
  reason_ = reason;
  handshake_deadline_.reset();
  retransmit_at_.reset();
  pending_input = {};
  // Nothing more will be read or written: release OpenSSL's buffers now rather than when the
  // owner gets round to destroying the session.
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  sink_.on_state(state);
}

void DtlsTransport::update_timer(TimePoint now) {
  retransmit_at_.reset();
  if (ssl_ == nullptr) return;
  timeval remaining{};
  // OpenSSL keeps its retransmission timer against the wall clock; map the remaining time
  // onto the caller's clock.
  if (DTLSv1_get_timeout(ssl_, &remaining) == 1) {
    retransmit_at_ =
        now + std::chrono::seconds(remaining.tv_sec) + std::chrono::microseconds(remaining.tv_usec);
  }
}

bool DtlsTransport::has_truncated_ciphertext(std::span<const std::uint8_t> datagram) const {
  // OpenSSL 3.0 turns an encrypted record too short to hold the AEAD nonce and tag into a fatal
  // internal error instead of discarding it as RFC 6347 section 4.1.2.7 asks, so one small
  // spoofed datagram could end the association. Such records cannot be genuine: drop them here.
  std::size_t minimum = 16;  // the AEAD tag (ChaCha20-Poly1305); CBC records are longer still
  if (ssl_ != nullptr) {
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_)) {
      const int nid = SSL_CIPHER_get_cipher_nid(cipher);
      if (nid == NID_aes_128_gcm || nid == NID_aes_256_gcm) minimum = 24;  // nonce + tag
    }
  }
  // RFC 6347 section 4.1: type(1) version(2) epoch(2) sequence(6) length(2), then the fragment.
  constexpr std::size_t kHeader = 13;
  std::size_t at = 0;
  while (datagram.size() - at >= kHeader) {
    const unsigned epoch = (unsigned{datagram[at + 3]} << 8) | datagram[at + 4];
    const std::size_t length = (std::size_t{datagram[at + 11]} << 8) | datagram[at + 12];
    if (epoch != 0 && length < minimum) return true;
    at += kHeader + length;
    if (at >= datagram.size()) break;
  }
  return false;
}

bool DtlsTransport::matches_remote(X509* certificate) const {
  for (const Fingerprint& expected : options_.remote_fingerprints) {
    auto actual = fingerprint_of(certificate, expected.algorithm());
    if (actual && *actual == expected) return true;
  }
  return false;
}

void DtlsTransport::capture_openssl_error(const char* fallback) {
  const unsigned long code = ERR_peek_error();
  if (code != 0) {
    ERR_error_string_n(code, detail_.data(), detail_.size());
  } else {
    copy_detail(detail_, fallback);
  }
  ERR_clear_error();
}

int DtlsTransport::verify_callback(int /*preverify_ok*/, X509_STORE_CTX* store) {
  // Self-signed certificates are expected: ignore chain errors and judge the peer's own
  // certificate (depth 0) by its fingerprint alone (RFC 8122 section 5).
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = ssl != nullptr ? static_cast<DtlsTransport*>(SSL_get_app_data(ssl)) : nullptr;
  if (self == nullptr) return 0;
  X509* certificate = X509_STORE_CTX_get_current_cert(store);
  if (certificate != nullptr && self->matches_remote(certificate)) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  self->pending_reason_ = FailureReason::fingerprint_mismatch;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

unsigned int DtlsTransport::timer_callback(SSL* ssl, unsigned int previous_us) {
  auto* self = static_cast<DtlsTransport*>(SSL_get_app_data(ssl));
  const auto initial = static_cast<unsigned int>(
      std::chrono::duration_cast<std::chrono::microseconds>(self->options_.initial_retransmit)
          .count());
  const auto maximum = static_cast<unsigned int>(
      std::chrono::duration_cast<std::chrono::microseconds>(self->options_.max_retransmit).count());
  // RFC 6347 section 4.2.4.1: exponential back-off from the initial value.
  if (previous_us == 0) return initial;
  return previous_us >= maximum / 2 ? maximum : previous_us * 2;
}

}  // namespace podium::sfu::dtls
