// SRTP protection profiles negotiated by DTLS-SRTP (RFC 5764 section 4.1.2, RFC 7714 section 14.2)
// and the split of the DTLS exporter output into master keys (RFC 5764 section 4.2).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "podium/common/result.hpp"

namespace podium::sfu::srtp {

// The value of each enumerator is the DTLS-SRTP protection profile id.
enum class Profile : std::uint16_t {
  aes128_cm_sha1_80 = 0x0001,  // SRTP_AES128_CM_HMAC_SHA1_80 (RFC 3711, RFC 5764)
  aead_aes_128_gcm = 0x0007,   // SRTP_AEAD_AES_128_GCM (RFC 7714)
};

inline constexpr std::size_t kMasterKeyLength = 16;       // both profiles use AES-128
inline constexpr std::size_t kMaxMasterSaltLength = 14;   // 112 bits (AES-CM); GCM uses 96
inline constexpr std::size_t kGcmTagLength = 16;          // RFC 7714 section 14.2
inline constexpr std::size_t kHmacSha1_80TagLength = 10;  // RFC 3711 section 5.2
inline constexpr std::size_t kSrtcpIndexLength = 4;       // E flag + 31-bit index

constexpr std::uint16_t protection_profile_id(Profile p) {
  return static_cast<std::uint16_t>(p);
}
std::optional<Profile> profile_from_id(std::uint16_t id);
const char* profile_name(Profile p);  // "SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM"

constexpr std::size_t master_key_length(Profile) {
  return kMasterKeyLength;
}
constexpr std::size_t master_salt_length(Profile p) {
  return p == Profile::aead_aes_128_gcm ? 12 : 14;
}
// Bytes protect() appends to an RTP packet: the tag.
constexpr std::size_t srtp_overhead(Profile p) {
  return p == Profile::aead_aes_128_gcm ? kGcmTagLength : kHmacSha1_80TagLength;
}
// Bytes protect() appends to an RTCP packet: the tag and the E flag + SRTCP index word.
constexpr std::size_t srtcp_overhead(Profile p) {
  return srtp_overhead(p) + kSrtcpIndexLength;
}
// Length of the RFC 5764 section 4.2 keying material to export ("EXTRACTOR-dtls_srtp").
constexpr std::size_t keying_material_length(Profile p) {
  return 2 * (master_key_length(p) + master_salt_length(p));
}

// A master key and salt for one direction. Cleared on destruction.
struct MasterKey {
  Profile profile = Profile::aead_aes_128_gcm;
  std::array<std::uint8_t, kMasterKeyLength> key{};
  std::array<std::uint8_t, kMaxMasterSaltLength> salt{};  // first master_salt_length() bytes

  MasterKey() = default;
  MasterKey(const MasterKey&) = default;
  MasterKey& operator=(const MasterKey&) = default;
  ~MasterKey();

  std::span<const std::uint8_t> key_bytes() const { return key; }
  std::span<const std::uint8_t> salt_bytes() const {
    return std::span<const std::uint8_t>(salt).first(master_salt_length(profile));
  }
};

enum class DtlsRole { client, server };

// local protects what this endpoint sends; remote unprotects what it receives.
struct SessionMasterKeys {
  MasterKey local;
  MasterKey remote;
};

// Splits client_write_key | server_write_key | client_write_salt | server_write_salt
// (RFC 5764 section 4.2) by this endpoint's DTLS role. Fails unless material has exactly
// keying_material_length(profile) bytes.
Result<SessionMasterKeys, Reason> split_keying_material(Profile profile, DtlsRole role,
                                                        std::span<const std::uint8_t> material);

}  // namespace podium::sfu::srtp
