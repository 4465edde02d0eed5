// The certificate of the relay's tls:// listeners, replaceable while they run (SIGHUP). Each
// TLS handshake takes the certificate current at that moment (OpenSSL's certificate callback),
// so a reload reaches new connections at once and leaves established ones alone.
#pragma once

#include <openssl/ssl.h>

#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include "podium/config/config.hpp"

namespace podium::relay {

class TlsCertificate {
 public:
  // Loads the PEM chain (leaf first) and key of `tls`; throws std::runtime_error saying which
  // file is wrong (startup and reload paths only).
  static std::shared_ptr<const TlsCertificate> load(const config::TlsConfig& tls);
  ~TlsCertificate();
  TlsCertificate(const TlsCertificate&) = delete;
  TlsCertificate& operator=(const TlsCertificate&) = delete;

  std::time_t not_after() const { return not_after_; }
  const std::string& subject() const { return subject_; }

 private:
  TlsCertificate() = default;
  friend class TlsCertificateSlot;
  X509* leaf_ = nullptr;
  STACK_OF(X509) * chain_ = nullptr;
  EVP_PKEY* key_ = nullptr;
  std::time_t not_after_ = 0;
  std::string subject_;
};

// Holds the current certificate and installs the callback on a server SSL_CTX.
class TlsCertificateSlot {
 public:
  explicit TlsCertificateSlot(std::shared_ptr<const TlsCertificate> certificate)
      : current_(std::move(certificate)) {}
  // The context must not outlive the slot.
  void install(SSL_CTX* context);
  void replace(std::shared_ptr<const TlsCertificate> certificate);
  std::shared_ptr<const TlsCertificate> current() const;

 private:
  static int on_handshake(SSL* ssl, void* slot);
  mutable std::mutex mutex_;
  std::shared_ptr<const TlsCertificate> current_;
};

}  // namespace podium::relay
