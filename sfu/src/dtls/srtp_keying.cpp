#include "dtls/srtp_keying.hpp"

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

std::optional<srtp::Profile> to_srtp_profile(SrtpProfile profile) {
  return srtp::profile_from_id(static_cast<std::uint16_t>(profile));
}

}  // namespace podium::sfu::dtls
