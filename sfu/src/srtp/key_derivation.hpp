// SRTP key derivation (RFC 3711 section 4.3) with the AES-CM PRF (section 4.3.3) and
// key_derivation_rate 0. RFC 7714 section 11 reuses it for AES-GCM with a 96-bit master salt,
// which enters the PRF padded with two zero octets on the right.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "podium/common/result.hpp"
#include "srtp/profile.hpp"

namespace podium::sfu::srtp {

// RFC 3711 section 4.3.1 (SRTP) and section 4.3.2 (SRTCP).
enum class KeyLabel : std::uint8_t {
  srtp_encryption = 0x00,
  srtp_authentication = 0x01,
  srtp_salt = 0x02,
  srtcp_encryption = 0x03,
  srtcp_authentication = 0x04,
  srtcp_salt = 0x05,
};

enum class KeyUse { srtp, srtcp };

inline constexpr std::size_t kSessionKeyLength = 16;
inline constexpr std::size_t kSessionAuthKeyLength = 20;  // HMAC-SHA1 (RFC 3711 section 4.2.1)
inline constexpr std::size_t kMaxSessionSaltLength = 14;

// Session keys of one direction for either SRTP or SRTCP. Cleared on destruction.
struct SessionKeys {
  Profile profile = Profile::aead_aes_128_gcm;
  std::array<std::uint8_t, kSessionKeyLength> encryption_key{};
  std::array<std::uint8_t, kSessionAuthKeyLength> auth_key{};  // unused by AEAD (RFC 7714 §11)
  std::array<std::uint8_t, kMaxSessionSaltLength> salt{};      // 14 (AES-CM) or 12 (GCM) bytes

  SessionKeys() = default;
  SessionKeys(const SessionKeys&) = default;
  SessionKeys& operator=(const SessionKeys&) = default;
  ~SessionKeys();

  std::size_t salt_length() const { return master_salt_length(profile); }
};

// PRF output for one label: AES-CM keystream under the master key with
// IV = (master_salt XOR (label << 48)) * 2^16, r = 0 (RFC 3711 section 4.3.1, 4.3.3).
// master_salt may be 14 bytes, or 12 (GCM), which is zero-padded. out: at most 32 bytes.
Result<Ok, Reason> derive_key(std::span<const std::uint8_t> master_key,
                              std::span<const std::uint8_t> master_salt, KeyLabel label,
                              std::span<std::uint8_t> out);

// All session keys for `use` under `profile`. Key and salt lengths must match the profile.
Result<SessionKeys, Reason> derive_session_keys(Profile profile,
                                                std::span<const std::uint8_t> master_key,
                                                std::span<const std::uint8_t> master_salt,
                                                KeyUse use);
inline Result<SessionKeys, Reason> derive_session_keys(const MasterKey& master, KeyUse use) {
  return derive_session_keys(master.profile, master.key_bytes(), master.salt_bytes(), use);
}

}  // namespace podium::sfu::srtp
