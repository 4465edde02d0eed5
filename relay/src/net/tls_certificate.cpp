#include "net/tls_certificate.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <stdexcept>

namespace podium::relay {

namespace {

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no details from OpenSSL";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::unique_ptr<std::FILE, FileCloser> open_file(const std::string& path, const char* what) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "r"));
  if (!file) throw std::runtime_error(std::string(what) + " " + path + ": cannot be read");
  return file;
}

}  // namespace

std::shared_ptr<const TlsCertificate> TlsCertificate::load(const config::TlsConfig& tls) {
  std::shared_ptr<TlsCertificate> loaded(new TlsCertificate());
  {
    auto file = open_file(tls.cert, "relay.tls.cert");
    loaded->leaf_ = PEM_read_X509_AUX(file.get(), nullptr, nullptr, nullptr);
    if (!loaded->leaf_) {
      throw std::runtime_error("relay.tls.cert " + tls.cert + ": no PEM certificate (" +
                               openssl_error() + ")");
    }
    loaded->chain_ = sk_X509_new_null();
    while (X509* extra = PEM_read_X509(file.get(), nullptr, nullptr, nullptr)) {
      sk_X509_push(loaded->chain_, extra);
    }
    ERR_clear_error();  // the end of the file ends the loop with an error
  }
  {
    auto file = open_file(tls.key, "relay.tls.key");
    loaded->key_ = PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr);
    if (!loaded->key_) {
      throw std::runtime_error("relay.tls.key " + tls.key + ": no PEM private key (" +
                               openssl_error() + ")");
    }
  }
  if (X509_check_private_key(loaded->leaf_, loaded->key_) != 1) {
    ERR_clear_error();
    throw std::runtime_error("relay.tls.key " + tls.key + " does not match the certificate " +
                             tls.cert);
  }
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(loaded->leaf_), &tm) == 1) {
    loaded->not_after_ = timegm(&tm);
  }
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(loaded->leaf_), subject, sizeof subject);
  loaded->subject_ = subject;
  return loaded;
}

TlsCertificate::~TlsCertificate() {
  X509_free(leaf_);
  sk_X509_pop_free(chain_, X509_free);
  EVP_PKEY_free(key_);
}

void TlsCertificateSlot::install(SSL_CTX* context) {
  SSL_CTX_set_cert_cb(context, &TlsCertificateSlot::on_handshake, this);
}

void TlsCertificateSlot::replace(std::shared_ptr<const TlsCertificate> certificate) {
  std::lock_guard lock(mutex_);
  current_ = std::move(certificate);
}

std::shared_ptr<const TlsCertificate> TlsCertificateSlot::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

// Runs during each handshake (SSL_CTX_set_cert_cb): the connection gets its own references to
// the current certificate, chain and key, so a later replace() cannot pull them away.
int TlsCertificateSlot::on_handshake(SSL* ssl, void* slot) {
  auto certificate = static_cast<TlsCertificateSlot*>(slot)->current();
  if (!certificate) return 0;
  return SSL_use_cert_and_key(ssl, certificate->leaf_, certificate->key_, certificate->chain_, 1) ==
                 1
             ? 1
             : 0;
}

}  // namespace podium::relay
