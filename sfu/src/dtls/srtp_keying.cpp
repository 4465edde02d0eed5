#include "dtls/srtp_keying.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace podium::sfu::dtls {

const char* to_string(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::aes128_cm_sha1_80:
      return "SRTP_AES128_CM_SHA1_80";
    case SrtpProfile::aes128_cm_sha1_32:
      return "SRTP_AES128_CM_SHA1_32";
    case SrtpProfile::aead_aes_128_gcm:
      return "SRTP_AEAD_AES_128_GCM";
    case SrtpProfile::aead_aes_256_gcm:
      return "SRTP_AEAD_AES_256_GCM";
  }
  return "unknown";
}

std::optional<SrtpProfile> srtp_profile_from_id(std::uint16_t id) {
  switch (id) {
    case 0x0001:
      return SrtpProfile::aes128_cm_sha1_80;
    case 0x0002:
      return SrtpProfile::aes128_cm_sha1_32;
    case 0x0007:
      return SrtpProfile::aead_aes_128_gcm;
    case 0x0008:
      return SrtpProfile::aead_aes_256_gcm;
    default:
      return std::nullopt;
  }
}

std::size_t master_key_length(SrtpProfile profile) {
  return profile == SrtpProfile::aead_aes_256_gcm ? 32 : 16;
}

std::size_t master_salt_length(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::aes128_cm_sha1_80:
    case SrtpProfile::aes128_cm_sha1_32:
      return 14;
    case SrtpProfile::aead_aes_128_gcm:
    case SrtpProfile::aead_aes_256_gcm:
      return 12;
  }
  return 14;
}

SrtpMasterKey::SrtpMasterKey(std::span<const std::uint8_t> key,
                             std::span<const std::uint8_t> salt) {
  if (key.size() > kMaxKey || salt.size() > kMaxSalt) return;
  std::copy(key.begin(), key.end(), bytes_.begin());
  std::copy(salt.begin(), salt.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(key.size()));
  key_length_ = key.size();
  salt_length_ = salt.size();
}

SrtpMasterKey::~SrtpMasterKey() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

}  // namespace podium::sfu::dtls
