// DTLS-SRTP protection profiles and the keys exported for them (RFC 5764 section 4.2).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace podium::sfu::dtls {

// Values are the two-byte profile identifiers of the use_srtp extension (RFC 5764 section
// 4.1.2, RFC 7714 section 14.2).
enum class SrtpProfile : std::uint16_t {
  aes128_cm_sha1_80 = 0x0001,
  aes128_cm_sha1_32 = 0x0002,
  aead_aes_128_gcm = 0x0007,
  aead_aes_256_gcm = 0x0008,
};

// The OpenSSL / IANA registry name, e.g. "SRTP_AEAD_AES_128_GCM".
const char* to_string(SrtpProfile profile);
std::optional<SrtpProfile> srtp_profile_from_id(std::uint16_t id);
// Master key and master salt lengths in bytes (RFC 5764 section 4.1.2, RFC 7714 section 12).
std::size_t master_key_length(SrtpProfile profile);
std::size_t master_salt_length(SrtpProfile profile);

// One direction's SRTP master key and salt, stored back to back (the layout libsrtp takes).
class SrtpMasterKey {
 public:
  static constexpr std::size_t kMaxKey = 32;
  static constexpr std::size_t kMaxSalt = 14;

  SrtpMasterKey() = default;
  SrtpMasterKey(std::span<const std::uint8_t> key, std::span<const std::uint8_t> salt);
  ~SrtpMasterKey();
  SrtpMasterKey(const SrtpMasterKey&) = default;
  SrtpMasterKey& operator=(const SrtpMasterKey&) = default;

  std::span<const std::uint8_t> key() const { return {bytes_.data(), key_length_}; }
  std::span<const std::uint8_t> salt() const { return {bytes_.data() + key_length_, salt_length_}; }
  std::span<const std::uint8_t> key_and_salt() const {
    return {bytes_.data(), key_length_ + salt_length_};
  }

 private:
  std::array<std::uint8_t, kMaxKey + kMaxSalt> bytes_{};
  std::size_t key_length_ = 0;
  std::size_t salt_length_ = 0;
};

// What a finished DTLS-SRTP handshake yields. "local" protects what we send, "remote" unprotects
// what we receive; for the DTLS client local is the client_write key (RFC 5764 section 4.2).
struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::aead_aes_128_gcm;
  SrtpMasterKey local;
  SrtpMasterKey remote;
};

}  // namespace podium::sfu::dtls
