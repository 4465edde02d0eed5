#include "srtp/evp_crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include <algorithm>
#include <climits>

namespace podium::sfu::srtp::detail {

namespace {

// Algorithms fetched once for the process: an implicit fetch (EVP_aes_128_gcm() and friends)
// would look the provider up again on every init. Never freed: contexts may outlive statics.
struct Algorithms {
  EVP_CIPHER* gcm = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  EVP_CIPHER* ctr = EVP_CIPHER_fetch(nullptr, "AES-128-CTR", nullptr);
  EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
};

const Algorithms& algorithms() {
  static const Algorithms algs;
  return algs;
}

bool fits_int(std::size_t n) {
  return n <= static_cast<std::size_t>(INT_MAX);
}

bool update_aad(EVP_CIPHER_CTX* ctx, std::span<const std::uint8_t> aad) {
  if (aad.empty()) return true;
  int len = 0;
  return fits_int(aad.size()) &&
         EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1;
}

bool update_in_place(EVP_CIPHER_CTX* ctx, std::span<std::uint8_t> data) {
  if (data.empty()) return true;
  int len = 0;
  return fits_int(data.size()) &&
         EVP_CipherUpdate(ctx, data.data(), &len, data.data(), static_cast<int>(data.size())) ==
             1 &&
         static_cast<std::size_t>(len) == data.size();
}

}  // namespace

bool GcmCipher::init(std::span<const std::uint8_t, 16> key, bool encrypt) {
  const EVP_CIPHER* cipher = algorithms().gcm;
  ctx_.reset(EVP_CIPHER_CTX_new());
  // The default GCM IV length is 96 bits, the length RFC 7714 uses.
  return cipher && ctx_ &&
         EVP_CipherInit_ex2(ctx_.get(), cipher, key.data(), nullptr, encrypt ? 1 : 0, nullptr) ==
             1 &&
         EVP_CIPHER_CTX_get_iv_length(ctx_.get()) == static_cast<int>(kGcmIvLength);
}

bool GcmCipher::seal(const std::array<std::uint8_t, kGcmIvLength>& iv,
                     std::span<const std::uint8_t> aad1, std::span<const std::uint8_t> aad2,
                     std::span<std::uint8_t> data, std::uint8_t* tag) {
  EVP_CIPHER_CTX* ctx = ctx_.get();
  int len = 0;
  // Cipher and key stay as set in init(): only the IV changes.
  if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv.data(), -1, nullptr) != 1 ||
      !update_aad(ctx, aad1) || !update_aad(ctx, aad2) || !update_in_place(ctx, data) ||
      EVP_CipherFinal_ex(ctx, tag, &len) != 1) {
    return false;
  }
  // EVP_CIPHER_CTX_get_params is measurably cheaper than the EVP_CTRL_GCM_GET_TAG ctrl shim.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, 16),
      OSSL_PARAM_construct_end(),
  };
  return EVP_CIPHER_CTX_get_params(ctx, params) == 1;
}

bool GcmCipher::open(const std::array<std::uint8_t, kGcmIvLength>& iv,
                     std::span<const std::uint8_t> aad1, std::span<const std::uint8_t> aad2,
                     std::span<std::uint8_t> data, const std::uint8_t* tag) {
  EVP_CIPHER_CTX* ctx = ctx_.get();
  std::uint8_t tag_copy[16];
  std::copy(tag, tag + 16, tag_copy);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag_copy, sizeof tag_copy),
      OSSL_PARAM_construct_end(),
  };
  std::uint8_t final_block[16];
  int len = 0;
  return EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv.data(), -1, nullptr) == 1 &&
         update_aad(ctx, aad1) && update_aad(ctx, aad2) && update_in_place(ctx, data) &&
         EVP_CIPHER_CTX_set_params(ctx, params) == 1 &&
         EVP_CipherFinal_ex(ctx, final_block, &len) == 1;
}

bool CtrCipher::init(std::span<const std::uint8_t, 16> key) {
  const EVP_CIPHER* cipher = algorithms().ctr;
  ctx_.reset(EVP_CIPHER_CTX_new());
  const std::uint8_t zero_iv[kCtrIvLength] = {};
  return cipher && ctx_ &&
         EVP_CipherInit_ex2(ctx_.get(), cipher, key.data(), zero_iv, 1, nullptr) == 1;
}

bool CtrCipher::apply(const std::array<std::uint8_t, kCtrIvLength>& iv,
                      std::span<std::uint8_t> data) {
  return EVP_CipherInit_ex2(ctx_.get(), nullptr, nullptr, iv.data(), -1, nullptr) == 1 &&
         update_in_place(ctx_.get(), data);
}

bool HmacSha1::init(std::span<const std::uint8_t> key) {
  const EVP_MD* md = algorithms().sha1;
  constexpr std::size_t kBlock = 64;
  if (md == nullptr || key.size() > kBlock) return false;  // SRTP auth keys are 20 bytes
  std::uint8_t ipad[kBlock];
  std::uint8_t opad[kBlock];
  for (std::size_t i = 0; i < kBlock; ++i) {
    const std::uint8_t k = i < key.size() ? key[i] : 0;
    ipad[i] = k ^ 0x36;
    opad[i] = k ^ 0x5c;
  }
  inner_.reset(EVP_MD_CTX_new());
  outer_.reset(EVP_MD_CTX_new());
  work_.reset(EVP_MD_CTX_new());
  const bool ok = inner_ && outer_ && work_ && EVP_DigestInit_ex2(inner_.get(), md, nullptr) == 1 &&
                  EVP_DigestUpdate(inner_.get(), ipad, kBlock) == 1 &&
                  EVP_DigestInit_ex2(outer_.get(), md, nullptr) == 1 &&
                  EVP_DigestUpdate(outer_.get(), opad, kBlock) == 1 &&
                  EVP_DigestInit_ex2(work_.get(), md, nullptr) == 1;
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
  return ok;
}

bool HmacSha1::compute(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
                       std::array<std::uint8_t, kSha1Length>& mac) {
  EVP_MD_CTX* w = work_.get();
  unsigned int len = 0;
  // HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), both keyed prefixes precomputed.
  return EVP_MD_CTX_copy_ex(w, inner_.get()) == 1 && EVP_DigestUpdate(w, a.data(), a.size()) == 1 &&
         EVP_DigestUpdate(w, b.data(), b.size()) == 1 &&
         EVP_DigestFinal_ex(w, mac.data(), &len) == 1 && EVP_MD_CTX_copy_ex(w, outer_.get()) == 1 &&
         EVP_DigestUpdate(w, mac.data(), kSha1Length) == 1 &&
         EVP_DigestFinal_ex(w, mac.data(), &len) == 1 && len == kSha1Length;
}

}  // namespace podium::sfu::srtp::detail
