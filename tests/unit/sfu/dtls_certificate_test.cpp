// Certificate generation/loading and SDP fingerprint handling (RFC 8122 section 5).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>

#include "dtls/certificate.hpp"
#include "dtls/fingerprint.hpp"

namespace {

using podium::sfu::dtls::Certificate;
using podium::sfu::dtls::Fingerprint;
using podium::sfu::dtls::HashAlgorithm;

std::string serial_hex(X509* x509) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x509), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = hex;
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

TEST(DtlsFingerprint, ParsesAndFormatsSdpValue) {
  const std::string text =
      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:"
      "67:89";
  auto parsed = Fingerprint::parse("sha-256", text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->algorithm(), HashAlgorithm::sha256);
  ASSERT_EQ(parsed->digest().size(), 32u);
  EXPECT_EQ(parsed->digest()[0], 0xAB);
  EXPECT_EQ(parsed->digest()[31], 0x89);
  EXPECT_EQ(parsed->to_sdp(), text);

  // Hash token is case-insensitive; lowercase hex is tolerated and normalised.
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto relaxed = Fingerprint::parse("SHA-256", lower);
  ASSERT_TRUE(relaxed.ok()) << relaxed.error();
  EXPECT_EQ(*relaxed, *parsed);
}

TEST(DtlsFingerprint, RejectsMalformedValues) {
  EXPECT_FALSE(Fingerprint::parse("sha-1", "AB:CD").ok());
  EXPECT_FALSE(Fingerprint::parse("md5", "AB:CD").ok());
  EXPECT_FALSE(Fingerprint::parse("sha-256", "AB:CD").ok());
  std::string text(32 * 3 - 1, 'A');
  for (std::size_t i = 2; i < text.size(); i += 3) text[i] = ':';
  EXPECT_TRUE(Fingerprint::parse("sha-256", text).ok());
  std::string bad_digit = text;
  bad_digit[0] = 'G';
  EXPECT_FALSE(Fingerprint::parse("sha-256", bad_digit).ok());
  std::string bad_separator = text;
  bad_separator[2] = '-';
  EXPECT_FALSE(Fingerprint::parse("sha-256", bad_separator).ok());
  EXPECT_FALSE(Fingerprint::parse("sha-384", text).ok());  // sha-256 length for sha-384
}

TEST(DtlsCertificate, GeneratesSelfSignedP256) {
  auto generated = Certificate::generate();
  ASSERT_TRUE(generated.ok()) << generated.error();
  const Certificate& cert = *generated;

  EVP_PKEY* key = cert.private_key();
  EXPECT_EQ(EVP_PKEY_is_a(key, "EC"), 1);
  char group[64] = {};
  size_t length = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key, group, sizeof(group), &length), 1);
  EXPECT_STREQ(group, "prime256v1");

  X509* x509 = cert.x509();
  EXPECT_EQ(X509_get_signature_nid(x509), NID_ecdsa_with_SHA256);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x509), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "podium");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x509), X509_get_issuer_name(x509)), 0);
  // Self-signed: verifies with its own key.
  EXPECT_EQ(X509_verify(x509, key), 1);
  // Valid now, back-dated, and for about 30 days.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(x509)), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(x509)), 0);
  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(x509), X509_get0_notAfter(x509)),
            1);
  EXPECT_EQ(days, 31);

  // The fingerprint is SHA-256 over the DER certificate, in the RFC 8122 text form.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  ASSERT_EQ(X509_digest(x509, EVP_sha256(), digest, &digest_length), 1);
  ASSERT_EQ(cert.fingerprint().digest().size(), 32u);
  EXPECT_TRUE(std::equal(digest, digest + digest_length, cert.fingerprint().digest().begin()));
  EXPECT_THAT(cert.fingerprint_sdp(), ::testing::MatchesRegex("([0-9A-F]{2}:){31}[0-9A-F]{2}"))
      << cert.fingerprint_sdp();
}

TEST(DtlsCertificate, SerialsAndKeysAreFresh) {
  auto a = Certificate::generate();
  auto b = Certificate::generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(serial_hex(a->x509()), serial_hex(b->x509()));
  EXPECT_FALSE(a->fingerprint() == b->fingerprint());
  EXPECT_NE(serial_hex(a->x509()).rfind('-', 0), 0u);  // positive
}

TEST(DtlsCertificate, PemRoundTripKeepsFingerprint) {
  auto generated = Certificate::generate();
  ASSERT_TRUE(generated.ok());
  const std::string cert_pem = generated->certificate_pem();
  const std::string key_pem = generated->private_key_pem();
  EXPECT_NE(cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);

  auto loaded = Certificate::from_pem(cert_pem, key_pem);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->fingerprint(), generated->fingerprint());

  const auto dir =
      std::filesystem::temp_directory_path() / ("podium-dtls-cert-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cert.pem") << cert_pem;
  std::ofstream(dir / "key.pem") << key_pem;
  auto from_files =
      Certificate::load_pem_files((dir / "cert.pem").string(), (dir / "key.pem").string());
  ASSERT_TRUE(from_files.ok()) << from_files.error();
  EXPECT_EQ(from_files->fingerprint_sdp(), generated->fingerprint_sdp());
  auto missing =
      Certificate::load_pem_files((dir / "nope.pem").string(), (dir / "key.pem").string());
  EXPECT_FALSE(missing.ok());
  std::filesystem::remove_all(dir);
}

TEST(DtlsCertificate, RejectsMismatchedOrNonP256Keys) {
  auto a = Certificate::generate();
  auto b = Certificate::generate();
  ASSERT_TRUE(a.ok() && b.ok());
  auto mismatched = Certificate::from_pem(a->certificate_pem(), b->private_key_pem());
  EXPECT_FALSE(mismatched.ok());

  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  ASSERT_NE(ed, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, ed, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  const std::string ed_pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(ed);
  auto wrong_type = Certificate::from_pem(a->certificate_pem(), ed_pem);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().find("P-256"), std::string::npos) << wrong_type.error();

  EXPECT_FALSE(Certificate::from_pem("garbage", a->private_key_pem()).ok());
}

TEST(DtlsCertificate, FingerprintWithOtherHashes) {
  auto cert = Certificate::generate();
  ASSERT_TRUE(cert.ok());
  auto sha384 = podium::sfu::dtls::fingerprint_of(cert->x509(), HashAlgorithm::sha384);
  ASSERT_TRUE(sha384.ok());
  EXPECT_EQ(sha384->digest().size(), 48u);
  auto reparsed = Fingerprint::parse("sha-384", sha384->to_sdp());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(*reparsed, *sha384);
}

}  // namespace
