// RTP and RTCP as the forwarding path reads and rewrites them (RFC 3550), with one-byte header
// extensions (RFC 8285 section 4.2). Views over caller memory; parsing never allocates and
// returns a reason instead of throwing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "podium/common/result.hpp"

namespace podium::sfu::rtp {

inline constexpr std::size_t kFixedHeaderSize = 12;       // RFC 3550 section 5.1
inline constexpr std::uint16_t kOneByteProfile = 0xBEDE;  // RFC 8285 section 4.2

inline std::uint16_t load16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
inline std::uint32_t load32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
inline void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

struct RtpHeader {
  bool marker = false;
  std::uint8_t payload_type = 0;
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::size_t header_size = 0;   // fixed header + CSRCs + extension block
  std::size_t payload_size = 0;  // without padding
  // The extension block's elements (after the 4-byte profile/length word), when present.
  std::uint16_t extension_profile = 0;
  std::span<const std::uint8_t> extensions;
};

// Parses an RTP packet (RFC 3550 section 5.1). Padding (P bit) is removed from payload_size.
Result<RtpHeader, Reason> parse_rtp(std::span<const std::uint8_t> packet);

// The data of one-byte extension element `id` (RFC 8285 section 4.2), if present.
std::optional<std::span<const std::uint8_t>> find_one_byte_extension(const RtpHeader& header,
                                                                     std::uint8_t id);

// RFC 6464 section 3: the level (0 loudest .. 127 silence, in -dBov) and the voice flag.
struct AudioLevel {
  std::uint8_t level = 127;
  bool voice = false;
};
std::optional<AudioLevel> audio_level(const RtpHeader& header, std::uint8_t id);

// ---------------------------------------------------------------------------------------------
// RTCP (RFC 3550 section 6.4, RFC 4585 section 6.1)

enum RtcpType : std::uint8_t {
  kSenderReport = 200,
  kReceiverReport = 201,
  kSourceDescription = 202,
  kBye = 203,
  kApp = 204,
  kTransportFeedback = 205,  // RFC 4585 RTPFB (generic NACK is FMT 1)
  kPayloadFeedback = 206,    // RFC 4585 PSFB
  kExtendedReport = 207,     // RFC 3611
};

struct RtcpHeader {
  std::uint8_t count = 0;  // RC / SC / FMT
  std::uint8_t type = 0;
  std::size_t size = 0;  // whole packet in bytes, (length + 1) * 4
};

// Walks a compound RTCP packet; each call yields one packet, nullopt at the end. A malformed
// length ends the walk with error() set.
class RtcpWalker {
 public:
  explicit RtcpWalker(std::span<const std::uint8_t> compound) : rest_(compound) {}
  struct Item {
    RtcpHeader header;
    std::span<const std::uint8_t> packet;  // the whole packet, header included
  };
  std::optional<Item> next();
  bool error() const { return error_; }

 private:
  std::span<const std::uint8_t> rest_;
  bool error_ = false;
};

// RFC 3550 section 6.4.1: the sender info of an SR.
struct SenderInfo {
  std::uint32_t ssrc = 0;
  std::uint64_t ntp = 0;  // 64-bit NTP timestamp
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packet_count = 0;
  std::uint32_t octet_count = 0;
};
Result<SenderInfo, Reason> parse_sender_report(std::span<const std::uint8_t> packet);

// RFC 3550 section 6.4.1: one report block.
struct ReportBlock {
  std::uint32_t ssrc = 0;
  std::uint8_t fraction_lost = 0;
  std::int32_t cumulative_lost = 0;  // 24-bit signed
  std::uint32_t extended_highest_sequence = 0;
  std::uint32_t jitter = 0;
  std::uint32_t last_sr = 0;         // middle 32 bits of the last SR's NTP timestamp
  std::uint32_t delay_since_sr = 0;  // 1/65536 s
};

// Writers return the bytes written, 0 when `out` is too small.
std::size_t write_sender_report(std::span<std::uint8_t> out, const SenderInfo& info);
std::size_t write_receiver_report(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                                  const ReportBlock* block);
// An SDES packet with one chunk carrying the CNAME item (RFC 3550 section 6.5.1).
std::size_t write_sdes_cname(std::span<std::uint8_t> out, std::uint32_t ssrc,
                             std::span<const std::uint8_t> cname);

// RFC 3550 appendix A.1 and A.8: reception statistics of one incoming stream, giving the report
// block the SFU sends back to the presenter.
class ReceiveStatistics {
 public:
  void on_packet(std::uint16_t sequence, std::uint32_t rtp_timestamp, std::uint32_t arrival_rtp);
  void on_sender_report(std::uint64_t ntp, std::uint64_t arrival_us);
  // Fills the block and starts a new reporting interval.
  ReportBlock report(std::uint32_t ssrc, std::uint64_t now_us);
  bool started() const { return started_; }

 private:
  bool started_ = false;
  std::uint16_t max_seq_ = 0;
  std::uint32_t cycles_ = 0;  // shifted count of sequence number cycles
  std::uint32_t base_seq_ = 0;
  std::uint32_t received_ = 0;
  std::uint32_t expected_prior_ = 0;
  std::uint32_t received_prior_ = 0;
  std::int64_t transit_ = 0;
  double jitter_ = 0;
  std::uint32_t last_sr_ = 0;
  std::uint64_t last_sr_arrival_us_ = 0;
};

}  // namespace podium::sfu::rtp
