// SRTP and SRTCP packet transforms on OpenSSL EVP, for the fan-out path: one presenter packet is
// protected once per guest, so each guest session keeps its own keyed EVP contexts and a packet
// costs an IV reset plus the bulk crypto. No heap allocation per packet (see evp_crypto.hpp for
// the one exception inside OpenSSL 3.0's HMAC-SHA1 state copy).
//
//   aead_aes_128_gcm   RFC 7714: AES-128-GCM, 16-byte tag, AAD = RTP header (section 8.2) or
//                      RTCP header + E/index word (section 9.2); IV per section 8.1 / 9.1.
//   aes128_cm_sha1_80  RFC 3711: AES-128 counter mode (section 4.1.1) and HMAC-SHA1 truncated to
//                      80 bits over the packet and the ROC (section 4.2).
//
// Keys come from the RFC 3711 section 4.3 KDF (key_derivation.hpp). Each object handles every
// SSRC of one direction of one session, keeping per-SSRC state (ROC and highest sequence number,
// SRTCP index, replay windows) in a fixed table of kMaxStreams entries; a packet for a further
// SSRC fails. MKIs are not used (WebRTC does not signal them).
//
// Not thread-safe: one thread at a time per object (each guest session lives on one worker).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "podium/common/result.hpp"
#include "srtp/evp_crypto.hpp"
#include "srtp/key_derivation.hpp"
#include "srtp/profile.hpp"

namespace podium::sfu::srtp {

inline constexpr std::size_t kMaxStreams = 16;    // SSRCs per direction of one session
inline constexpr std::size_t kReplayWindow = 64;  // RFC 3711 section 3.3.2 minimum

namespace detail {

// The keyed transform of one direction: GCM, or CTR + HMAC-SHA1, and the session salt.
class PacketCrypto {
 public:
  PacketCrypto() = default;
  PacketCrypto(PacketCrypto&&) = default;
  PacketCrypto& operator=(PacketCrypto&&) = default;
  ~PacketCrypto();  // clears the salt; OpenSSL clears the key schedules

  Result<Ok, Reason> init(const SessionKeys& keys, bool encrypt);

  Profile profile() const { return profile_; }
  const std::array<std::uint8_t, kMaxSessionSaltLength>& salt() const { return salt_; }
  GcmCipher& gcm() { return gcm_; }
  CtrCipher& ctr() { return ctr_; }
  HmacSha1& hmac() { return hmac_; }

 private:
  Profile profile_ = Profile::aead_aes_128_gcm;
  std::array<std::uint8_t, kMaxSessionSaltLength> salt_{};
  GcmCipher gcm_;
  CtrCipher ctr_;
  HmacSha1 hmac_;
};

// Fixed-capacity SSRC -> State map; lookups remember the last hit.
template <typename State>
class StreamTable {
 public:
  State* find(std::uint32_t ssrc) {
    if (last_ < count_ && ssrcs_[last_] == ssrc) return &states_[last_];
    for (std::size_t i = 0; i < count_; ++i) {
      if (ssrcs_[i] == ssrc) {
        last_ = i;
        return &states_[i];
      }
    }
    return nullptr;
  }
  const State* find(std::uint32_t ssrc) const {
    for (std::size_t i = 0; i < count_; ++i) {
      if (ssrcs_[i] == ssrc) return &states_[i];
    }
    return nullptr;
  }
  // nullptr when full.
  State* insert(std::uint32_t ssrc, const State& state) {
    if (count_ == kMaxStreams) return nullptr;
    ssrcs_[count_] = ssrc;
    states_[count_] = state;
    last_ = count_;
    return &states_[count_++];
  }
  bool full() const { return count_ == kMaxStreams; }

 private:
  std::array<std::uint32_t, kMaxStreams> ssrcs_{};
  std::array<State, kMaxStreams> states_{};
  std::size_t count_ = 0;
  std::size_t last_ = 0;
};

// Highest 48-bit packet index seen (ROC << 16 | SEQ) and a replay bitmap below it
// (bit n set: index highest - n was accepted).
struct ReplayState {
  std::uint64_t highest = 0;
  std::uint64_t window = 0;
};

}  // namespace detail

// RFC 3711 section 3.3.1: the packet index for sequence number `seq` given the highest index
// seen so far, or nullopt once the 48-bit index space is exhausted (rekey required).
std::optional<std::uint64_t> estimate_packet_index(std::uint64_t highest, std::uint16_t seq);

// Protects RTP (EVP). One per guest session.
class SrtpSender {
 public:
  static Result<SrtpSender, Reason> create(const MasterKey& master);
  static Result<SrtpSender, Reason> create(Profile profile,
                                           std::span<const std::uint8_t> master_key,
                                           std::span<const std::uint8_t> master_salt);
  // Skips the KDF (used by the RFC 7714 test vectors, which give session keys).
  static Result<SrtpSender, Reason> from_session_keys(const SessionKeys& keys);

  Profile profile() const { return crypto_.profile(); }

  // Encrypts the payload of the RTP packet packet_buffer[0, rtp_length) in place and appends
  // the tag; packet_buffer must hold srtp_overhead(profile()) more bytes. Returns the SRTP
  // length. The ROC follows the sequence numbers sent per SSRC (RFC 3711 section 3.3.1); a
  // sequence number sent again reuses its index, so it must carry the same packet.
  Result<std::size_t, Reason> protect(std::span<std::uint8_t> packet_buffer,
                                      std::size_t rtp_length);

  // The ROC of the highest index sent on ssrc, nullopt before its first packet.
  std::optional<std::uint32_t> rollover_counter(std::uint32_t ssrc) const;

 private:
  SrtpSender() = default;
  detail::PacketCrypto crypto_;
  detail::StreamTable<std::uint64_t> streams_;  // highest index sent per SSRC
};

// Unprotects SRTP (EVP) with replay protection (64-packet window, RFC 3711 section 3.3.2).
// A new SSRC is learned from its first authentic packet, with ROC 0.
class SrtpReceiver {
 public:
  static Result<SrtpReceiver, Reason> create(const MasterKey& master);
  static Result<SrtpReceiver, Reason> create(Profile profile,
                                             std::span<const std::uint8_t> master_key,
                                             std::span<const std::uint8_t> master_salt);
  static Result<SrtpReceiver, Reason> from_session_keys(const SessionKeys& keys);

  Profile profile() const { return crypto_.profile(); }

  // Authenticates and decrypts the SRTP packet in place; returns the RTP length. On failure
  // the packet must be dropped (with GCM its payload has been overwritten).
  Result<std::size_t, Reason> unprotect(std::span<std::uint8_t> packet);

  std::optional<std::uint32_t> rollover_counter(std::uint32_t ssrc) const;

 private:
  SrtpReceiver() = default;
  detail::PacketCrypto crypto_;
  detail::StreamTable<detail::ReplayState> streams_;
};

// Protects RTCP (EVP), RFC 3711 section 3.4 / RFC 7714 section 9.2: always encrypted (E = 1),
// SRTCP index per SSRC starting at 0.
class SrtcpSender {
 public:
  static Result<SrtcpSender, Reason> create(const MasterKey& master);
  static Result<SrtcpSender, Reason> create(Profile profile,
                                            std::span<const std::uint8_t> master_key,
                                            std::span<const std::uint8_t> master_salt);

  Profile profile() const { return crypto_.profile(); }

  // Protects the (compound) RTCP packet packet_buffer[0, rtcp_length) in place; packet_buffer
  // must hold srtcp_overhead(profile()) more bytes. Returns the SRTCP length.
  Result<std::size_t, Reason> protect(std::span<std::uint8_t> packet_buffer,
                                      std::size_t rtcp_length);

 private:
  SrtcpSender() = default;
  detail::PacketCrypto crypto_;
  detail::StreamTable<std::uint32_t> streams_;  // next SRTCP index per SSRC
};

// Unprotects SRTCP (EVP) with a 64-packet replay window per SSRC. Accepts E = 0 packets
// (authenticated, not encrypted).
class SrtcpReceiver {
 public:
  static Result<SrtcpReceiver, Reason> create(const MasterKey& master);
  static Result<SrtcpReceiver, Reason> create(Profile profile,
                                              std::span<const std::uint8_t> master_key,
                                              std::span<const std::uint8_t> master_salt);

  Profile profile() const { return crypto_.profile(); }

  // Returns the RTCP length.
  Result<std::size_t, Reason> unprotect(std::span<std::uint8_t> packet);

 private:
  SrtcpReceiver() = default;
  detail::PacketCrypto crypto_;
  detail::StreamTable<detail::ReplayState> streams_;
};

}  // namespace podium::sfu::srtp
