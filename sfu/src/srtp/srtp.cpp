#include "srtp/srtp.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace podium::sfu::srtp {

namespace {

constexpr std::size_t kRtpFixedHeader = 12;  // RFC 3550 section 5.1
constexpr std::size_t kRtcpFixedHeader = 8;  // V/P/RC, PT, length, SSRC: never encrypted
constexpr std::uint64_t kMaxRoc = 0xffffffffu;
constexpr std::uint32_t kMaxSrtcpIndex = 0x7fffffffu;
constexpr std::uint32_t kSrtcpEncrypted = 0x80000000u;  // E flag (RFC 3711 section 3.4)

std::uint16_t load16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t load32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
void store32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
// XORs the low `n` bytes of v, big-endian, into p[0, n).
void xor_be(std::uint8_t* p, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) p[n - 1 - i] ^= static_cast<std::uint8_t>(v >> (8 * i));
}

struct RtpHeader {
  std::size_t length = 0;  // fixed header + CSRCs + extension
  std::uint32_t ssrc = 0;
  std::uint16_t seq = 0;
};

// RFC 3550 section 5.1 and 5.3.1: the header, CSRC list and extension stay in clear text.
Result<RtpHeader, Reason> parse_rtp_header(std::span<const std::uint8_t> p) {
  if (p.size() < kRtpFixedHeader) return fail_reason("RTP packet shorter than 12 bytes");
  if ((p[0] >> 6) != 2) return fail_reason("RTP version is not 2");
  std::size_t length = kRtpFixedHeader + 4 * std::size_t{p[0] & 0x0fu};
  if (p[0] & 0x10u) {
    if (p.size() < length + 4) return fail_reason("RTP header extension truncated");
    length += 4 + 4 * std::size_t{load16(&p[length + 2])};
  }
  if (length > p.size()) return fail_reason("RTP header longer than the packet");
  return RtpHeader{length, load32(&p[8]), load16(&p[2])};
}

// RFC 7714 section 8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt.
std::array<std::uint8_t, detail::kGcmIvLength> gcm_rtp_iv(const std::uint8_t* salt,
                                                          std::uint32_t ssrc, std::uint64_t index) {
  std::array<std::uint8_t, detail::kGcmIvLength> iv{};
  for (std::size_t i = 0; i < iv.size(); ++i) iv[i] = salt[i];
  xor_be(&iv[2], ssrc, 4);
  xor_be(&iv[6], index, 6);  // ROC || SEQ is the 48-bit index
  return iv;
}

// RFC 7714 section 9.1: IV = (0x0000 || SSRC || 0x0000 || 0 || SRTCP index) XOR salt.
std::array<std::uint8_t, detail::kGcmIvLength> gcm_rtcp_iv(const std::uint8_t* salt,
                                                           std::uint32_t ssrc,
                                                           std::uint32_t index) {
  std::array<std::uint8_t, detail::kGcmIvLength> iv{};
  for (std::size_t i = 0; i < iv.size(); ++i) iv[i] = salt[i];
  xor_be(&iv[2], ssrc, 4);
  xor_be(&iv[8], index, 4);
  return iv;
}

// RFC 3711 section 4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16); for SRTCP i is
// the SRTCP index (section 4.1).
std::array<std::uint8_t, detail::kCtrIvLength> ctr_iv(const std::uint8_t* salt, std::uint32_t ssrc,
                                                      std::uint64_t index) {
  std::array<std::uint8_t, detail::kCtrIvLength> iv{};
  for (std::size_t i = 0; i < 14; ++i) iv[i] = salt[i];
  xor_be(&iv[4], ssrc, 4);
  xor_be(&iv[8], index, 6);
  return iv;
}

// RFC 3711 section 3.3.2: nullopt if `index` may be processed, else why not.
std::optional<Reason> replay_check(const detail::ReplayState& s, std::uint64_t index,
                                   const char* too_old, const char* replayed) {
  if (index > s.highest) return std::nullopt;
  const std::uint64_t delta = s.highest - index;
  if (delta >= kReplayWindow) return Reason{too_old};
  if ((s.window >> delta) & 1u) return Reason{replayed};
  return std::nullopt;
}

void replay_accept(detail::ReplayState& s, std::uint64_t index) {
  if (index > s.highest) {
    const std::uint64_t shift = index - s.highest;
    s.window = shift >= kReplayWindow ? 1u : (s.window << shift) | 1u;
    s.highest = index;
  } else {
    s.window |= std::uint64_t{1} << (s.highest - index);
  }
}

}  // namespace

std::optional<std::uint64_t> estimate_packet_index(std::uint64_t highest, std::uint16_t seq) {
  const std::int64_t roc = static_cast<std::int64_t>(highest >> 16);
  const std::int64_t s_l = static_cast<std::int64_t>(highest & 0xffffu);
  const std::int64_t s = seq;
  std::int64_t v = roc;
  if (s_l < 0x8000) {
    if (s - s_l > 0x8000) v = roc - 1;
  } else if (s_l - 0x8000 > s) {
    v = roc + 1;
  }
  if (v < 0) v = 0;  // no cycle before the first: a large jump ahead instead
  if (static_cast<std::uint64_t>(v) > kMaxRoc) return std::nullopt;
  return (static_cast<std::uint64_t>(v) << 16) | seq;
}

namespace detail {

PacketCrypto::~PacketCrypto() {
  OPENSSL_cleanse(salt_.data(), salt_.size());
}

Result<Ok, Reason> PacketCrypto::init(const SessionKeys& keys, bool encrypt) {
  profile_ = keys.profile;
  salt_ = keys.salt;
  const std::span<const std::uint8_t, 16> key(keys.encryption_key);
  if (profile_ == Profile::aead_aes_128_gcm) {
    if (!gcm_.init(key, encrypt)) return fail_reason("OpenSSL AES-128-GCM setup failed");
  } else {
    if (!ctr_.init(key)) return fail_reason("OpenSSL AES-128-CTR setup failed");
    if (!hmac_.init(keys.auth_key)) return fail_reason("OpenSSL HMAC-SHA1 setup failed");
  }
  return Ok{};
}

}  // namespace detail

// ---- SrtpSender ----

Result<SrtpSender, Reason> SrtpSender::from_session_keys(const SessionKeys& keys) {
  SrtpSender s;
  auto init = s.crypto_.init(keys, true);
  if (!init) return fail(init.error());
  return s;
}

Result<SrtpSender, Reason> SrtpSender::create(Profile profile,
                                              std::span<const std::uint8_t> master_key,
                                              std::span<const std::uint8_t> master_salt) {
  auto keys = derive_session_keys(profile, master_key, master_salt, KeyUse::srtp);
  if (!keys) return fail(keys.error());
  return from_session_keys(*keys);
}

Result<SrtpSender, Reason> SrtpSender::create(const MasterKey& master) {
  return create(master.profile, master.key_bytes(), master.salt_bytes());
}

Result<std::size_t, Reason> SrtpSender::protect(std::span<std::uint8_t> buffer,
                                                std::size_t rtp_length) {
  const std::size_t tag_length = srtp_overhead(profile());
  if (rtp_length > buffer.size() || buffer.size() - rtp_length < tag_length) {
    return fail_reason("no room for the SRTP tag");
  }
  const auto packet = buffer.first(rtp_length);
  const auto header = parse_rtp_header(packet);
  if (!header) return fail(header.error());

  std::uint64_t* highest = streams_.find(header->ssrc);
  std::uint64_t index = header->seq;  // a new SSRC starts at ROC 0
  if (highest != nullptr) {
    const auto estimate = estimate_packet_index(*highest, header->seq);
    if (!estimate) return fail_reason("SRTP packet index exhausted: rekey required");
    index = *estimate;
  } else if (streams_.full()) {
    return fail_reason("too many SSRCs in one SRTP session");
  }

  const auto payload = packet.subspan(header->length);
  std::uint8_t* tag = buffer.data() + rtp_length;
  const std::uint8_t* salt = crypto_.salt().data();
  if (profile() == Profile::aead_aes_128_gcm) {
    // RFC 7714 section 8.2: AAD is the whole header including CSRCs and extension.
    if (!crypto_.gcm().seal(gcm_rtp_iv(salt, header->ssrc, index), packet.first(header->length), {},
                            payload, tag)) {
      return fail_reason("OpenSSL AES-GCM encryption failed");
    }
  } else {
    // RFC 3711 section 4.2: tag = HMAC(auth portion || ROC), authenticated after encryption.
    std::uint8_t roc[4];
    store32(roc, static_cast<std::uint32_t>(index >> 16));
    std::array<std::uint8_t, detail::kSha1Length> mac;
    if (!crypto_.ctr().apply(ctr_iv(salt, header->ssrc, index), payload) ||
        !crypto_.hmac().compute(packet, roc, mac)) {
      return fail_reason("OpenSSL AES-CM/HMAC-SHA1 protection failed");
    }
    for (std::size_t i = 0; i < kHmacSha1_80TagLength; ++i) tag[i] = mac[i];
  }

  if (highest == nullptr) {
    streams_.insert(header->ssrc, index);
  } else if (index > *highest) {
    *highest = index;
  }
  return rtp_length + tag_length;
}

std::optional<std::uint32_t> SrtpSender::rollover_counter(std::uint32_t ssrc) const {
  const std::uint64_t* highest = streams_.find(ssrc);
  if (highest == nullptr) return std::nullopt;
  return static_cast<std::uint32_t>(*highest >> 16);
}

// ---- SrtpReceiver ----

Result<SrtpReceiver, Reason> SrtpReceiver::from_session_keys(const SessionKeys& keys) {
  SrtpReceiver r;
  auto init = r.crypto_.init(keys, false);
  if (!init) return fail(init.error());
  return r;
}

Result<SrtpReceiver, Reason> SrtpReceiver::create(Profile profile,
                                                  std::span<const std::uint8_t> master_key,
                                                  std::span<const std::uint8_t> master_salt) {
  auto keys = derive_session_keys(profile, master_key, master_salt, KeyUse::srtp);
  if (!keys) return fail(keys.error());
  return from_session_keys(*keys);
}

Result<SrtpReceiver, Reason> SrtpReceiver::create(const MasterKey& master) {
  return create(master.profile, master.key_bytes(), master.salt_bytes());
}

Result<std::size_t, Reason> SrtpReceiver::unprotect(std::span<std::uint8_t> packet) {
  const std::size_t tag_length = srtp_overhead(profile());
  if (packet.size() < kRtpFixedHeader + tag_length) return fail_reason("SRTP packet too short");
  const std::size_t rtp_length = packet.size() - tag_length;
  const auto rtp = packet.first(rtp_length);
  const auto header = parse_rtp_header(rtp);
  if (!header) return fail(header.error());

  detail::ReplayState* state = streams_.find(header->ssrc);
  std::uint64_t index = header->seq;  // RFC 3711 section 3.3.1: first packet, ROC 0
  if (state != nullptr) {
    const auto estimate = estimate_packet_index(state->highest, header->seq);
    if (!estimate) return fail_reason("SRTP packet index exhausted: rekey required");
    index = *estimate;
    if (auto why = replay_check(*state, index, "SRTP packet too old for the replay window",
                                "SRTP packet replayed")) {
      return fail(*why);
    }
  } else if (streams_.full()) {
    return fail_reason("too many SSRCs in one SRTP session");
  }

  const auto payload = rtp.subspan(header->length);
  const std::uint8_t* tag = packet.data() + rtp_length;
  const std::uint8_t* salt = crypto_.salt().data();
  if (profile() == Profile::aead_aes_128_gcm) {
    if (!crypto_.gcm().open(gcm_rtp_iv(salt, header->ssrc, index), rtp.first(header->length), {},
                            payload, tag)) {
      return fail_reason("SRTP authentication failed");
    }
  } else {
    std::uint8_t roc[4];
    store32(roc, static_cast<std::uint32_t>(index >> 16));
    std::array<std::uint8_t, detail::kSha1Length> mac;
    if (!crypto_.hmac().compute(rtp, roc, mac)) return fail_reason("OpenSSL HMAC-SHA1 failed");
    if (CRYPTO_memcmp(mac.data(), tag, kHmacSha1_80TagLength) != 0) {
      return fail_reason("SRTP authentication failed");
    }
    if (!crypto_.ctr().apply(ctr_iv(salt, header->ssrc, index), payload)) {
      return fail_reason("OpenSSL AES-CM decryption failed");
    }
  }

  if (state == nullptr) {
    streams_.insert(header->ssrc, detail::ReplayState{index, 1});
  } else {
    replay_accept(*state, index);
  }
  return rtp_length;
}

std::optional<std::uint32_t> SrtpReceiver::rollover_counter(std::uint32_t ssrc) const {
  const detail::ReplayState* state = streams_.find(ssrc);
  if (state == nullptr) return std::nullopt;
  return static_cast<std::uint32_t>(state->highest >> 16);
}

// ---- SrtcpSender ----

Result<SrtcpSender, Reason> SrtcpSender::create(Profile profile,
                                                std::span<const std::uint8_t> master_key,
                                                std::span<const std::uint8_t> master_salt) {
  auto keys = derive_session_keys(profile, master_key, master_salt, KeyUse::srtcp);
  if (!keys) return fail(keys.error());
  SrtcpSender s;
  auto init = s.crypto_.init(*keys, true);
  if (!init) return fail(init.error());
  return s;
}

Result<SrtcpSender, Reason> SrtcpSender::create(const MasterKey& master) {
  return create(master.profile, master.key_bytes(), master.salt_bytes());
}

Result<std::size_t, Reason> SrtcpSender::protect(std::span<std::uint8_t> buffer,
                                                 std::size_t rtcp_length) {
  const std::size_t tag_length = srtp_overhead(profile());
  if (rtcp_length > buffer.size() || buffer.size() - rtcp_length < tag_length + kSrtcpIndexLength) {
    return fail_reason("no room for the SRTCP trailer");
  }
  if (rtcp_length < kRtcpFixedHeader) return fail_reason("RTCP packet shorter than 8 bytes");
  std::uint8_t* p = buffer.data();
  if ((p[0] >> 6) != 2) return fail_reason("RTCP version is not 2");
  const std::uint32_t ssrc = load32(p + 4);

  std::uint32_t* next = streams_.find(ssrc);
  if (next == nullptr) {
    next = streams_.insert(ssrc, 0);  // RFC 3711 section 3.4: the first index is 0
    if (next == nullptr) return fail_reason("too many SSRCs in one SRTCP session");
  }
  if (*next > kMaxSrtcpIndex) return fail_reason("SRTCP index exhausted: rekey required");
  const std::uint32_t index = *next;
  std::uint8_t trailer[kSrtcpIndexLength];
  store32(trailer, kSrtcpEncrypted | index);

  const auto header = buffer.first(kRtcpFixedHeader);
  const auto body = buffer.subspan(kRtcpFixedHeader, rtcp_length - kRtcpFixedHeader);
  const std::uint8_t* salt = crypto_.salt().data();
  if (profile() == Profile::aead_aes_128_gcm) {
    // RFC 7714 section 9.2 / 17: AAD = header || E+index; layout body || tag || E+index.
    if (!crypto_.gcm().seal(gcm_rtcp_iv(salt, ssrc, index), header, trailer, body,
                            p + rtcp_length)) {
      return fail_reason("OpenSSL AES-GCM encryption failed");
    }
    std::copy(trailer, trailer + kSrtcpIndexLength, p + rtcp_length + tag_length);
  } else {
    // RFC 3711 section 3.4: body || E+index || tag, the tag over everything before it.
    std::copy(trailer, trailer + kSrtcpIndexLength, p + rtcp_length);
    std::array<std::uint8_t, detail::kSha1Length> mac;
    if (!crypto_.ctr().apply(ctr_iv(salt, ssrc, index), body) ||
        !crypto_.hmac().compute(buffer.first(rtcp_length + kSrtcpIndexLength), {}, mac)) {
      return fail_reason("OpenSSL AES-CM/HMAC-SHA1 protection failed");
    }
    std::copy(mac.begin(), mac.begin() + kHmacSha1_80TagLength,
              p + rtcp_length + kSrtcpIndexLength);
  }
  ++*next;
  return rtcp_length + tag_length + kSrtcpIndexLength;
}

// ---- SrtcpReceiver ----

Result<SrtcpReceiver, Reason> SrtcpReceiver::create(Profile profile,
                                                    std::span<const std::uint8_t> master_key,
                                                    std::span<const std::uint8_t> master_salt) {
  auto keys = derive_session_keys(profile, master_key, master_salt, KeyUse::srtcp);
  if (!keys) return fail(keys.error());
  SrtcpReceiver r;
  auto init = r.crypto_.init(*keys, false);
  if (!init) return fail(init.error());
  return r;
}

Result<SrtcpReceiver, Reason> SrtcpReceiver::create(const MasterKey& master) {
  return create(master.profile, master.key_bytes(), master.salt_bytes());
}

Result<std::size_t, Reason> SrtcpReceiver::unprotect(std::span<std::uint8_t> packet) {
  const std::size_t tag_length = srtp_overhead(profile());
  const std::size_t overhead = tag_length + kSrtcpIndexLength;
  if (packet.size() < kRtcpFixedHeader + overhead) return fail_reason("SRTCP packet too short");
  const std::size_t rtcp_length = packet.size() - overhead;
  std::uint8_t* p = packet.data();
  if ((p[0] >> 6) != 2) return fail_reason("RTCP version is not 2");
  const bool gcm = profile() == Profile::aead_aes_128_gcm;
  const std::uint8_t* trailer = gcm ? p + rtcp_length + tag_length : p + rtcp_length;
  const std::uint8_t* tag = gcm ? p + rtcp_length : p + rtcp_length + kSrtcpIndexLength;
  const std::uint32_t word = load32(trailer);
  const bool encrypted = (word & kSrtcpEncrypted) != 0;
  const std::uint32_t index = word & kMaxSrtcpIndex;
  const std::uint32_t ssrc = load32(p + 4);

  detail::ReplayState* state = streams_.find(ssrc);
  if (state != nullptr) {
    if (auto why = replay_check(*state, index, "SRTCP packet too old for the replay window",
                                "SRTCP packet replayed")) {
      return fail(*why);
    }
  } else if (streams_.full()) {
    return fail_reason("too many SSRCs in one SRTCP session");
  }

  const auto rtcp = packet.first(rtcp_length);
  const auto body = encrypted ? rtcp.subspan(kRtcpFixedHeader) : rtcp.subspan(rtcp_length);
  const auto aad = encrypted ? rtcp.first(kRtcpFixedHeader) : rtcp;
  const std::uint8_t* salt = crypto_.salt().data();
  if (gcm) {
    // RFC 7714 section 9.3: with E = 0 the whole packet is AAD and nothing is encrypted.
    if (!crypto_.gcm().open(gcm_rtcp_iv(salt, ssrc, index), aad,
                            std::span<const std::uint8_t>(trailer, kSrtcpIndexLength), body, tag)) {
      return fail_reason("SRTCP authentication failed");
    }
  } else {
    std::array<std::uint8_t, detail::kSha1Length> mac;
    if (!crypto_.hmac().compute(packet.first(rtcp_length + kSrtcpIndexLength), {}, mac)) {
      return fail_reason("OpenSSL HMAC-SHA1 failed");
    }
    if (CRYPTO_memcmp(mac.data(), tag, kHmacSha1_80TagLength) != 0) {
      return fail_reason("SRTCP authentication failed");
    }
    if (!crypto_.ctr().apply(ctr_iv(salt, ssrc, index), body)) {
      return fail_reason("OpenSSL AES-CM decryption failed");
    }
  }

  if (state == nullptr) {
    streams_.insert(ssrc, detail::ReplayState{index, 1});
  } else {
    replay_accept(*state, index);
  }
  return rtcp_length;
}

}  // namespace podium::sfu::srtp
