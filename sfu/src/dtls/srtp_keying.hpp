// DTLS-SRTP protection profiles as the use_srtp extension negotiates them (RFC 5764 section
// 4.1.2; a context may offer profiles the SFU cannot run, see to_srtp_profile), and the keys a
// finished handshake exports for the SRTP layer (RFC 5764 section 4.2).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "srtp/profile.hpp"

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
// The SRTP layer's profile for a negotiated one; nullopt for profiles the SFU does not run.
std::optional<srtp::Profile> to_srtp_profile(SrtpProfile profile);

// What a finished DTLS-SRTP handshake yields, in the SRTP layer's types: "local" protects what
// we send, "remote" unprotects what we receive (srtp::split_keying_material, RFC 5764 section
// 4.2: for the DTLS client local is the client_write key).
struct SrtpKeys {
  srtp::Profile profile = srtp::Profile::aead_aes_128_gcm;
  srtp::MasterKey local;
  srtp::MasterKey remote;
};

}  // namespace podium::sfu::dtls
