#include "dtls/certificate.hpp"
#include "podium/common/openssl_error.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

namespace podium::sfu::dtls {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

bool is_p256(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC") != 1) return false;
  std::array<char, 64> group{};
  std::size_t length = 0;
  if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &length) != 1) return false;
  const std::string_view name(group.data(), length);
  return name == "prime256v1" || name == "P-256" || name == "secp256r1";
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  if (size <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(size));
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return fail("cannot read " + path);
  return text.str();
}

}  // namespace

void Certificate::FreeX509::operator()(X509* x) const {
  X509_free(x);
}
void Certificate::FreeKey::operator()(EVP_PKEY* k) const {
  EVP_PKEY_free(k);
}

Result<Fingerprint> fingerprint_of(X509* certificate, HashAlgorithm algorithm) {
  const EVP_MD* md = nullptr;
  switch (algorithm) {
    case HashAlgorithm::sha256:
      md = EVP_sha256();
      break;
    case HashAlgorithm::sha384:
      md = EVP_sha384();
      break;
    case HashAlgorithm::sha512:
      md = EVP_sha512();
      break;
  }
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (certificate == nullptr || X509_digest(certificate, md, digest.data(), &length) != 1) {
    return fail(openssl_error("X509_digest failed"));
  }
  Fingerprint fingerprint(algorithm, std::span<const std::uint8_t>(digest.data(), length));
  if (fingerprint.empty()) return fail("unexpected digest length");
  return fingerprint;
}

Result<Certificate> Certificate::adopt(X509* certificate, EVP_PKEY* key) {
  std::unique_ptr<X509, FreeX509> owned_certificate(certificate);
  std::unique_ptr<EVP_PKEY, FreeKey> owned_key(key);
  auto fingerprint = fingerprint_of(certificate, HashAlgorithm::sha256);
  if (!fingerprint) return fail(fingerprint.error());
  return Certificate(std::move(owned_certificate), std::move(owned_key), *fingerprint);
}

Result<Certificate> Certificate::generate(const CertificateOptions& options) {
  ERR_clear_error();
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return fail(openssl_error("P-256 key generation failed"));

  X509Ptr x509(X509_new());
  if (!x509) return fail(openssl_error("X509_new failed"));
  if (X509_set_version(x509.get(), X509_VERSION_3) != 1) {
    return fail(openssl_error("X509_set_version failed"));
  }

  // A random positive serial of up to 16 octets (RFC 5280 section 4.1.2.2 allows 20).
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x509.get())) == nullptr) {
    return fail(openssl_error("serial number generation failed"));
  }

  X509_NAME* name = X509_get_subject_name(x509.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(options.common_name.c_str());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(x509.get(), name) != 1) {
    return fail(openssl_error("certificate name setup failed"));
  }

  if (X509_gmtime_adj(X509_getm_notBefore(x509.get()),
                      -static_cast<long>(options.backdate.count())) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x509.get()),
                      static_cast<long>(options.lifetime.count())) == nullptr) {
    return fail(openssl_error("certificate validity setup failed"));
  }

  if (X509_set_pubkey(x509.get(), key.get()) != 1) {
    return fail(openssl_error("X509_set_pubkey failed"));
  }
  if (X509_sign(x509.get(), key.get(), EVP_sha256()) == 0) {
    return fail(openssl_error("certificate signing failed"));
  }
  return adopt(x509.release(), key.release());
}

Result<Certificate> Certificate::from_pem(std::string_view certificate_pem,
                                          std::string_view private_key_pem) {
  ERR_clear_error();
  BioPtr cert_bio(
      BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  BioPtr key_bio(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  if (!cert_bio || !key_bio) return fail(openssl_error("BIO_new_mem_buf failed"));

  X509Ptr x509(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!x509) return fail(openssl_error("cannot parse the certificate PEM"));
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) return fail(openssl_error("cannot parse the private key PEM"));
  if (!is_p256(key.get())) return fail("the DTLS private key must be ECDSA P-256");
  if (X509_check_private_key(x509.get(), key.get()) != 1) {
    return fail(openssl_error("the private key does not match the certificate"));
  }
  return adopt(x509.release(), key.release());
}

Result<Certificate> Certificate::load_pem_files(const std::string& certificate_path,
                                                const std::string& private_key_path) {
  auto cert = read_file(certificate_path);
  if (!cert) return fail(cert.error());
  auto key = read_file(private_key_path);
  if (!key) return fail(key.error());
  auto loaded = from_pem(*cert, *key);
  OPENSSL_cleanse(key->data(), key->size());
  if (!loaded)
    return fail(loaded.error() + " (" + certificate_path + ", " + private_key_path + ")");
  return loaded;
}

std::string Certificate::certificate_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate_.get()) != 1) return {};
  return bio_to_string(bio.get());
}

std::string Certificate::private_key_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  return bio_to_string(bio.get());
}

}  // namespace podium::sfu::dtls
