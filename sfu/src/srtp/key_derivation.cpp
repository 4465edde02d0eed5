#include "srtp/key_derivation.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

namespace podium::sfu::srtp {

namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

}  // namespace

SessionKeys::~SessionKeys() {
  OPENSSL_cleanse(encryption_key.data(), encryption_key.size());
  OPENSSL_cleanse(auth_key.data(), auth_key.size());
  OPENSSL_cleanse(salt.data(), salt.size());
}

Result<Ok, Reason> derive_key(std::span<const std::uint8_t> master_key,
                              std::span<const std::uint8_t> master_salt, KeyLabel label,
                              std::span<std::uint8_t> out) {
  if (master_key.size() != kMasterKeyLength) return fail_reason("SRTP master key must be 16 bytes");
  if (master_salt.size() != 14 && master_salt.size() != 12) {
    return fail_reason("SRTP master salt must be 14 or 12 bytes");
  }
  if (out.size() > 32) return fail_reason("SRTP derived key too long");

  // x = key_id XOR master_salt with key_id = label || r (r = 0: key_derivation_rate 0), the
  // 56-bit key_id aligned to the low end of the 112-bit salt: the label lands in octet 7.
  // The AES-CM IV is x * 2^16, so the last two octets form the block counter.
  std::array<std::uint8_t, 16> iv{};
  std::ranges::copy(master_salt, iv.begin());
  iv[7] ^= static_cast<std::uint8_t>(label);

  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  std::array<std::uint8_t, 32> zeros{};
  int written = 0;
  const bool ok = ctx &&
                  EVP_EncryptInit_ex2(ctx.get(), EVP_aes_128_ctr(), master_key.data(), iv.data(),
                                      nullptr) == 1 &&
                  EVP_EncryptUpdate(ctx.get(), out.data(), &written, zeros.data(),
                                    static_cast<int>(out.size())) == 1 &&
                  written == static_cast<int>(out.size());
  OPENSSL_cleanse(iv.data(), iv.size());
  if (!ok) return fail_reason("SRTP key derivation failed in OpenSSL");
  return Ok{};
}

Result<SessionKeys, Reason> derive_session_keys(Profile profile,
                                                std::span<const std::uint8_t> master_key,
                                                std::span<const std::uint8_t> master_salt,
                                                KeyUse use) {
  if (master_key.size() != master_key_length(profile)) {
    return fail_reason("SRTP master key length does not match the profile");
  }
  if (master_salt.size() != master_salt_length(profile)) {
    return fail_reason("SRTP master salt length does not match the profile");
  }
  const bool rtcp = use == KeyUse::srtcp;
  SessionKeys keys;
  keys.profile = profile;
  auto step = derive_key(master_key, master_salt,
                         rtcp ? KeyLabel::srtcp_encryption : KeyLabel::srtp_encryption,
                         keys.encryption_key);
  if (!step) return fail(step.error());
  if (profile == Profile::aes128_cm_sha1_80) {
    step = derive_key(master_key, master_salt,
                      rtcp ? KeyLabel::srtcp_authentication : KeyLabel::srtp_authentication,
                      keys.auth_key);
    if (!step) return fail(step.error());
  }
  step = derive_key(master_key, master_salt, rtcp ? KeyLabel::srtcp_salt : KeyLabel::srtp_salt,
                    std::span<std::uint8_t>(keys.salt).first(keys.salt_length()));
  if (!step) return fail(step.error());
  return keys;
}

}  // namespace podium::sfu::srtp
