#include "dtls/dtls_context.hpp"
#include "podium/common/openssl_error.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <string>

namespace podium::sfu::dtls {

namespace {

// ECDHE only (forward secrecy). ECDSA suites serve our own certificate; the RSA ones are for
// when we are the DTLS client of a peer with an RSA certificate. AEAD first, CBC last for old
// stacks.
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA";

constexpr const char* kGroups = "X25519:P-256:P-384";

}  // namespace

void DtlsContext::FreeCtx::operator()(SSL_CTX* ctx) const {
  SSL_CTX_free(ctx);
}

Result<DtlsContext> DtlsContext::create(const Certificate& certificate,
                                        const DtlsContextOptions& options) {
  if (options.srtp_profiles.empty()) return fail("at least one SRTP profile is required");
  std::string profiles;
  for (SrtpProfile profile : options.srtp_profiles) {
    if (!profiles.empty()) profiles += ':';
    profiles += to_string(profile);
  }

  ERR_clear_error();
  std::unique_ptr<SSL_CTX, FreeCtx> ctx(SSL_CTX_new(DTLS_method()));
  if (!ctx) return fail(openssl_error("SSL_CTX_new failed"));
  SSL_CTX* c = ctx.get();

  // DTLS 1.2 only (RFC 8827 section 6.5 requires it; DTLS 1.0 is obsolete per RFC 8996).
  if (SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION) != 1) {
    return fail(openssl_error("cannot restrict the context to DTLS 1.2"));
  }
  if (SSL_CTX_use_certificate(c, certificate.x509()) != 1 ||
      SSL_CTX_use_PrivateKey(c, certificate.private_key()) != 1 ||
      SSL_CTX_check_private_key(c) != 1) {
    return fail(openssl_error("the DTLS certificate was refused"));
  }
  if (SSL_CTX_set_cipher_list(c, kCipherList) != 1) {
    return fail(openssl_error("no usable cipher suite"));
  }
  if (SSL_CTX_set1_groups_list(c, kGroups) != 1) {
    return fail(openssl_error("no usable key exchange group"));
  }
  // Note: OpenSSL returns 0 on success here.
  if (SSL_CTX_set_tlsext_use_srtp(c, profiles.c_str()) != 0) {
    return fail(openssl_error("SRTP profiles were refused"));
  }

  // Peer certificates are checked by fingerprint: each DtlsTransport installs its verify
  // callback on its own SSL object.
  // Each association is a fresh full handshake: no resumption, no renegotiation; the transport
  // sets the MTU itself; the server picks the cipher suite.
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);

  return DtlsContext(std::move(ctx), certificate.fingerprint());
}

}  // namespace podium::sfu::dtls
