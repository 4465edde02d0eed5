#include "srtp/profile.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace podium::sfu::srtp {

std::optional<Profile> profile_from_id(std::uint16_t id) {
  switch (id) {
    case protection_profile_id(Profile::aes128_cm_sha1_80):
      return Profile::aes128_cm_sha1_80;
    case protection_profile_id(Profile::aead_aes_128_gcm):
      return Profile::aead_aes_128_gcm;
    default:
      return std::nullopt;
  }
}

const char* profile_name(Profile p) {
  return p == Profile::aead_aes_128_gcm ? "SRTP_AEAD_AES_128_GCM" : "SRTP_AES128_CM_SHA1_80";
}

MasterKey::~MasterKey() {
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(salt.data(), salt.size());
}

Result<SessionMasterKeys, Reason> split_keying_material(Profile profile, DtlsRole role,
                                                        std::span<const std::uint8_t> material) {
  const std::size_t key_len = master_key_length(profile);
  const std::size_t salt_len = master_salt_length(profile);
  if (material.size() != keying_material_length(profile)) {
    return fail_reason("DTLS-SRTP keying material has the wrong length for the profile");
  }
  // RFC 5764 section 4.2: client key, server key, client salt, server salt.
  const auto client_key = material.subspan(0, key_len);
  const auto server_key = material.subspan(key_len, key_len);
  const auto client_salt = material.subspan(2 * key_len, salt_len);
  const auto server_salt = material.subspan(2 * key_len + salt_len, salt_len);

  SessionMasterKeys keys;
  keys.local.profile = keys.remote.profile = profile;
  const bool client = role == DtlsRole::client;
  std::ranges::copy(client ? client_key : server_key, keys.local.key.begin());
  std::ranges::copy(client ? client_salt : server_salt, keys.local.salt.begin());
  std::ranges::copy(client ? server_key : client_key, keys.remote.key.begin());
  std::ranges::copy(client ? server_salt : client_salt, keys.remote.salt.begin());
  return keys;
}

}  // namespace podium::sfu::srtp
