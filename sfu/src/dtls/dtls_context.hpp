// The process-wide (or per-worker) DTLS 1.2 configuration: one SSL_CTX holding our certificate,
// cipher suites and DTLS-SRTP profile list, shared by every session's DtlsTransport.
#pragma once

#include <memory>
#include <vector>

#include "dtls/certificate.hpp"
#include "dtls/srtp_keying.hpp"
#include "podium/common/result.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace podium::sfu::dtls {

struct DtlsContextOptions {
  // In order of preference. As DTLS server we pick the first one the client also offers
  // (RFC 5764 section 4.1.1); as client we offer them in this order.
  std::vector<SrtpProfile> srtp_profiles = {SrtpProfile::aead_aes_128_gcm,
                                            SrtpProfile::aes128_cm_sha1_80};
};

class DtlsContext {
 public:
  // Fails on an empty profile list or when OpenSSL refuses the certificate or settings. The
  // context keeps its own references to the certificate and key.
  static Result<DtlsContext> create(const Certificate& certificate,
                                    const DtlsContextOptions& options = {});

  SSL_CTX* native() const { return ctx_.get(); }
  // Our certificate's sha-256 fingerprint, for the SDP we send.
  const Fingerprint& fingerprint() const { return fingerprint_; }

 private:
  struct FreeCtx {
    void operator()(SSL_CTX* ctx) const;
  };
  DtlsContext(std::unique_ptr<SSL_CTX, FreeCtx> ctx, Fingerprint fingerprint)
      : ctx_(std::move(ctx)), fingerprint_(fingerprint) {}

  std::unique_ptr<SSL_CTX, FreeCtx> ctx_;
  Fingerprint fingerprint_;
};

}  // namespace podium::sfu::dtls
