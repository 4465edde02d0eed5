// The SFU's DTLS identity: an ECDSA P-256 key with a self-signed X.509 certificate. Peers do
// not check it against a CA; they compare its hash with the a=fingerprint of our SDP
// (RFC 8122 section 5, RFC 8827 section 6.5), so a fresh certificate per start is enough.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "dtls/fingerprint.hpp"
#include "podium/common/result.hpp"

// OpenSSL types, kept out of users' include paths.
typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;

namespace podium::sfu::dtls {

struct CertificateOptions {
  std::string common_name = "podium";
  // Validity starts `backdate` before now (clock skew) and lasts `lifetime` from now.
  std::chrono::seconds backdate = std::chrono::hours(24);
  std::chrono::seconds lifetime = std::chrono::hours(24 * 30);
};

class Certificate {
 public:
  // A new P-256 key and a self-signed certificate (random serial, ecdsa-with-SHA256).
  static Result<Certificate> generate(const CertificateOptions& options = {});
  // A certificate and its private key in PEM. The key must be ECDSA P-256 and match the
  // certificate.
  static Result<Certificate> from_pem(std::string_view certificate_pem,
                                      std::string_view private_key_pem);
  static Result<Certificate> load_pem_files(const std::string& certificate_path,
                                            const std::string& private_key_path);

  // SHA-256 over the DER certificate, the value every SDP we write carries.
  const Fingerprint& fingerprint() const { return fingerprint_; }
  // "AB:CD:..." for "a=fingerprint:sha-256 <this>".
  std::string fingerprint_sdp() const { return fingerprint_.to_sdp(); }

  std::string certificate_pem() const;
  std::string private_key_pem() const;  // PKCS#8, unencrypted

  X509* x509() const { return certificate_.get(); }
  EVP_PKEY* private_key() const { return key_.get(); }

 private:
  struct FreeX509 {
    void operator()(X509* x) const;
  };
  struct FreeKey {
    void operator()(EVP_PKEY* k) const;
  };

  Certificate(std::unique_ptr<X509, FreeX509> certificate, std::unique_ptr<EVP_PKEY, FreeKey> key,
              Fingerprint fingerprint)
      : certificate_(std::move(certificate)), key_(std::move(key)), fingerprint_(fingerprint) {}
  static Result<Certificate> adopt(X509* certificate, EVP_PKEY* key);

  std::unique_ptr<X509, FreeX509> certificate_;
  std::unique_ptr<EVP_PKEY, FreeKey> key_;
  Fingerprint fingerprint_;
};

// The fingerprint of a certificate with the given hash (RFC 8122 section 5: over the DER form).
Result<Fingerprint> fingerprint_of(X509* certificate, HashAlgorithm algorithm);

}  // namespace podium::sfu::dtls
