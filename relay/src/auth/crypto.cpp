#include "auth/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace podium::relay::auth::crypto {
namespace {

// Algorithms are fetched once per process and kept for its lifetime (explicit fetching avoids
// the implicit lookup cost of EVP_md5() & co. on every call).
const EVP_MD* md5_algorithm() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL: MD5 is not available");
  return md;
}

EVP_MAC* hmac_algorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) throw std::runtime_error("OpenSSL: HMAC is not available");
  return mac;
}

class DigestContext {
 public:
  DigestContext() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr) throw std::runtime_error("OpenSSL: EVP_MD_CTX_new failed");
  }
  ~DigestContext() { EVP_MD_CTX_free(ctx_); }
  DigestContext(const DigestContext&) = delete;
  DigestContext& operator=(const DigestContext&) = delete;
  EVP_MD_CTX* get() const { return ctx_; }

 private:
  EVP_MD_CTX* ctx_;
};

class MacContext {
 public:
  explicit MacContext(const char* digest) : ctx_(EVP_MAC_CTX_new(hmac_algorithm())) {
    if (ctx_ == nullptr) throw std::runtime_error("OpenSSL: EVP_MAC_CTX_new failed");
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
        OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(ctx_, params) != 1) {
      EVP_MAC_CTX_free(ctx_);
      throw std::runtime_error("OpenSSL: cannot select the HMAC digest");
    }
  }
  ~MacContext() { EVP_MAC_CTX_free(ctx_); }
  MacContext(const MacContext&) = delete;
  MacContext& operator=(const MacContext&) = delete;
  EVP_MAC_CTX* get() const { return ctx_; }

 private:
  EVP_MAC_CTX* ctx_;
};

// One HMAC computation on a reused context: init with the key, feed the parts, finish into out.
void run_hmac(MacContext& context, std::span<const std::uint8_t> key,
              std::span<const std::span<const std::uint8_t>> parts, std::uint8_t* out,
              std::size_t out_size) {
  static const std::uint8_t kEmpty = 0;
  EVP_MAC_CTX* ctx = context.get();
  // A null key would mean "keep the previous key", so an empty key still gets a valid pointer.
  const std::uint8_t* key_data = key.empty() ? &kEmpty : key.data();
  if (EVP_MAC_init(ctx, key_data, key.size(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: EVP_MAC_init failed");
  }
  for (const auto& part : parts) {
    if (!part.empty() && EVP_MAC_update(ctx, part.data(), part.size()) != 1) {
      throw std::runtime_error("OpenSSL: EVP_MAC_update failed");
    }
  }
  std::size_t written = 0;
  if (EVP_MAC_final(ctx, out, &written, out_size) != 1 || written != out_size) {
    throw std::runtime_error("OpenSSL: EVP_MAC_final failed");
  }
}

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

Md5Digest md5(std::span<const std::span<const std::uint8_t>> parts) {
  thread_local DigestContext context;
  EVP_MD_CTX* ctx = context.get();
  if (EVP_DigestInit_ex2(ctx, md5_algorithm(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: EVP_DigestInit_ex2(MD5) failed");
  }
  for (const auto& part : parts) {
    if (!part.empty() && EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) {
      throw std::runtime_error("OpenSSL: EVP_DigestUpdate failed");
    }
  }
  Md5Digest digest{};
  unsigned int written = 0;
  if (EVP_DigestFinal_ex(ctx, digest.data(), &written) != 1 || written != digest.size()) {
    throw std::runtime_error("OpenSSL: EVP_DigestFinal_ex failed");
  }
  return digest;
}

Sha1Digest hmac_sha1(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  thread_local MacContext context("SHA1");
  Sha1Digest digest{};
  const std::span<const std::uint8_t> parts[] = {data};
  run_hmac(context, key, parts, digest.data(), digest.size());
  return digest;
}

Sha256Digest hmac_sha256(std::span<const std::uint8_t> key,
                         std::span<const std::span<const std::uint8_t>> parts) {
  thread_local MacContext context("SHA256");
  Sha256Digest digest{};
  run_hmac(context, key, parts, digest.data(), digest.size());
  return digest;
}

std::size_t base64_encode(std::span<const std::uint8_t> in, char* out) {
  std::size_t o = 0;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v =
        (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | std::uint32_t{in[i + 2]};
    out[o++] = kBase64Alphabet[(v >> 18) & 0x3f];
    out[o++] = kBase64Alphabet[(v >> 12) & 0x3f];
    out[o++] = kBase64Alphabet[(v >> 6) & 0x3f];
    out[o++] = kBase64Alphabet[v & 0x3f];
  }
  const std::size_t rest = in.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{in[i]} << 16;
    if (rest == 2) v |= std::uint32_t{in[i + 1]} << 8;
    out[o++] = kBase64Alphabet[(v >> 18) & 0x3f];
    out[o++] = kBase64Alphabet[(v >> 12) & 0x3f];
    out[o++] = rest == 2 ? kBase64Alphabet[(v >> 6) & 0x3f] : '=';
    out[o++] = '=';
  }
  return o;
}

std::string base64_encode(std::span<const std::uint8_t> in) {
  std::string out(base64_size(in.size()), '\0');
  out.resize(base64_encode(in, out.data()));
  return out;
}

bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void random_bytes(std::span<std::uint8_t> out) {
  if (out.size() > 0 && RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    throw std::runtime_error("OpenSSL: RAND_bytes failed");
  }
}

}  // namespace podium::relay::auth::crypto
