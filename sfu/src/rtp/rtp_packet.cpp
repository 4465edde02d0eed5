#include "rtp/rtp_packet.hpp"

#include <algorithm>
#include <cstring>

namespace podium::sfu::rtp {

Result<RtpHeader, Reason> parse_rtp(std::span<const std::uint8_t> packet) {
  // RFC 3550 section 5.1: V=2, P, X, CC, M, PT, sequence number, timestamp, SSRC.
  if (packet.size() < kFixedHeaderSize) return fail_reason("shorter than an RTP header");
  if ((packet[0] >> 6) != 2) return fail_reason("RTP version is not 2");
  const bool padding = packet[0] & 0x20;
  const bool extension = packet[0] & 0x10;
  const std::size_t csrc_count = packet[0] & 0x0F;
  RtpHeader header;
  header.marker = packet[1] & 0x80;
  header.payload_type = packet[1] & 0x7F;
  header.sequence = load16(&packet[2]);
  header.timestamp = load32(&packet[4]);
  header.ssrc = load32(&packet[8]);
  std::size_t offset = kFixedHeaderSize + 4 * csrc_count;
  if (packet.size() < offset) return fail_reason("CSRC list beyond the packet");
  if (extension) {
    // Section 5.3.1: a 16-bit profile-defined word and a length in 32-bit words.
    if (packet.size() < offset + 4) return fail_reason("extension header beyond the packet");
    header.extension_profile = load16(&packet[offset]);
    const std::size_t words = load16(&packet[offset + 2]);
    if (packet.size() < offset + 4 + 4 * words) return fail_reason("extension beyond the packet");
    header.extensions = packet.subspan(offset + 4, 4 * words);
    offset += 4 + 4 * words;
  }
  std::size_t end = packet.size();
  if (padding) {
    // Section 5.1: the last octet counts the padding octets, itself included.
    const std::size_t pad = packet.back();
    if (pad == 0 || pad > end - offset) return fail_reason("bad RTP padding");
    end -= pad;
  }
  header.header_size = offset;
  header.payload_size = end - offset;
  return header;
}

std::optional<std::span<const std::uint8_t>> find_one_byte_extension(const RtpHeader& header,
                                                                     std::uint8_t id) {
  if (header.extension_profile != kOneByteProfile || id == 0 || id > 14) return std::nullopt;
  auto data = header.extensions;
  std::size_t i = 0;
  // RFC 8285 section 4.2: ID (4 bits), L (4 bits, length - 1), data; 0 bytes are padding;
  // ID 15 ends the walk.
  while (i < data.size()) {
    const std::uint8_t byte = data[i];
    if (byte == 0) {
      ++i;
      continue;
    }
    const std::uint8_t element_id = byte >> 4;
    const std::size_t length = (byte & 0x0F) + 1u;
    if (element_id == 15) break;
    if (i + 1 + length > data.size()) break;
    if (element_id == id) return data.subspan(i + 1, length);
    i += 1 + length;
  }
  return std::nullopt;
}

std::optional<AudioLevel> audio_level(const RtpHeader& header, std::uint8_t id) {
  auto element = find_one_byte_extension(header, id);
  if (!element || element->empty()) return std::nullopt;
  // RFC 6464 section 3: V (1 bit) then the level in -dBov (7 bits).
  return AudioLevel{static_cast<std::uint8_t>((*element)[0] & 0x7F), ((*element)[0] & 0x80) != 0};
}

std::optional<RtcpWalker::Item> RtcpWalker::next() {
  if (rest_.empty() || error_) return std::nullopt;
  // RFC 3550 section 6.4.1: V=2, P, count, PT, length in 32-bit words minus one.
  if (rest_.size() < 4 || (rest_[0] >> 6) != 2) {
    error_ = true;
    return std::nullopt;
  }
  const std::size_t size = (std::size_t{load16(&rest_[2])} + 1) * 4;
  if (size > rest_.size()) {
    error_ = true;
    return std::nullopt;
  }
  Item item{RtcpHeader{static_cast<std::uint8_t>(rest_[0] & 0x1F), rest_[1], size},
            rest_.first(size)};
  rest_ = rest_.subspan(size);
  return item;
}

Result<SenderInfo, Reason> parse_sender_report(std::span<const std::uint8_t> packet) {
  if (packet.size() < 28 || packet[1] != kSenderReport) return fail_reason("not a sender report");
  SenderInfo info;
  info.ssrc = load32(&packet[4]);
  info.ntp = std::uint64_t{load32(&packet[8])} << 32 | load32(&packet[12]);
  info.rtp_timestamp = load32(&packet[16]);
  info.packet_count = load32(&packet[20]);
  info.octet_count = load32(&packet[24]);
  return info;
}

std::size_t write_sender_report(std::span<std::uint8_t> out, const SenderInfo& info) {
  constexpr std::size_t kSize = 28;  // header, SSRC, 20 bytes of sender info, no blocks
  if (out.size() < kSize) return 0;
  out[0] = 0x80;
  out[1] = kSenderReport;
  store16(&out[2], kSize / 4 - 1);
  store32(&out[4], info.ssrc);
  store32(&out[8], static_cast<std::uint32_t>(info.ntp >> 32));
  store32(&out[12], static_cast<std::uint32_t>(info.ntp));
  store32(&out[16], info.rtp_timestamp);
  store32(&out[20], info.packet_count);
  store32(&out[24], info.octet_count);
  return kSize;
}

std::size_t write_receiver_report(std::span<std::uint8_t> out, std::uint32_t sender_ssrc,
                                  const ReportBlock* block) {
  const std::size_t size = 8 + (block ? 24 : 0);
  if (out.size() < size) return 0;
  out[0] = static_cast<std::uint8_t>(0x80 | (block ? 1 : 0));
  out[1] = kReceiverReport;
  store16(&out[2], static_cast<std::uint16_t>(size / 4 - 1));
  store32(&out[4], sender_ssrc);
  if (block) {
    std::uint8_t* b = &out[8];
    store32(b, block->ssrc);
    const std::int32_t lost = std::clamp(block->cumulative_lost, -0x800000, 0x7FFFFF);
    store32(b + 4, std::uint32_t{block->fraction_lost} << 24 |
                       (static_cast<std::uint32_t>(lost) & 0xFFFFFF));
    store32(b + 8, block->extended_highest_sequence);
    store32(b + 12, block->jitter);
    store32(b + 16, block->last_sr);
    store32(b + 20, block->delay_since_sr);
  }
  return size;
}

std::size_t write_sdes_cname(std::span<std::uint8_t> out, std::uint32_t ssrc,
                             std::span<const std::uint8_t> cname) {
  const std::size_t name = std::min<std::size_t>(cname.size(), 255);
  // Header, SSRC, CNAME item (type, length, text), then a null item and padding to 32 bits.
  const std::size_t used = 4 + 4 + 2 + name + 1;
  const std::size_t size = (used + 3) / 4 * 4;
  if (out.size() < size) return 0;
  out[0] = 0x81;
  out[1] = kSourceDescription;
  store16(&out[2], static_cast<std::uint16_t>(size / 4 - 1));
  store32(&out[4], ssrc);
  out[8] = 1;  // CNAME
  out[9] = static_cast<std::uint8_t>(name);
  if (name) std::memcpy(&out[10], cname.data(), name);
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(10 + name),
            out.begin() + static_cast<std::ptrdiff_t>(size), 0);
  return size;
}

void ReceiveStatistics::on_packet(std::uint16_t seq, std::uint32_t rtp_timestamp,
                                  std::uint32_t arrival_rtp) {
  // RFC 3550 appendix A.1, without the probation: the stream is already authenticated.
  if (!started_) {
    started_ = true;
    max_seq_ = seq;
    base_seq_ = seq;
    cycles_ = 0;
    received_ = 0;
    expected_prior_ = received_prior_ = 0;
    transit_ = static_cast<std::int64_t>(arrival_rtp) - rtp_timestamp;
  }
  const std::uint16_t delta = static_cast<std::uint16_t>(seq - max_seq_);
  if (delta < 3000) {
    if (seq < max_seq_) cycles_ += 1u << 16;  // wrapped
    max_seq_ = seq;
  } else if (delta <= 65536 - 100) {
    // A large jump: the sender restarted its sequence. Resynchronise (A.1's bad_seq, simplified).
    base_seq_ = seq;
    max_seq_ = seq;
    cycles_ = 0;
    received_ = 0;
    expected_prior_ = received_prior_ = 0;
  }
  ++received_;
  // Appendix A.8: interarrival jitter in timestamp units.
  const std::int64_t transit = static_cast<std::int32_t>(arrival_rtp - rtp_timestamp);
  std::int64_t d = transit - transit_;
  transit_ = transit;
  if (d < 0) d = -d;
  if (d < (1 << 24)) jitter_ += (static_cast<double>(d) - jitter_) / 16.0;
}

void ReceiveStatistics::on_sender_report(std::uint64_t ntp, std::uint64_t arrival_us) {
  last_sr_ = static_cast<std::uint32_t>(ntp >> 16);  // middle 32 bits
  last_sr_arrival_us_ = arrival_us;
}

ReportBlock ReceiveStatistics::report(std::uint32_t ssrc, std::uint64_t now_us) {
  ReportBlock block;
  block.ssrc = ssrc;
  const std::uint32_t extended_max = cycles_ + max_seq_;
  const std::uint32_t expected = extended_max - base_seq_ + 1;
  block.extended_highest_sequence = extended_max;
  block.cumulative_lost = static_cast<std::int32_t>(expected - received_);
  // Appendix A.3: fraction lost over the interval since the last report.
  const std::uint32_t expected_interval = expected - expected_prior_;
  const std::uint32_t received_interval = received_ - received_prior_;
  expected_prior_ = expected;
  received_prior_ = received_;
  const std::int64_t lost_interval =
      static_cast<std::int64_t>(expected_interval) - static_cast<std::int64_t>(received_interval);
  if (expected_interval != 0 && lost_interval > 0) {
    block.fraction_lost = static_cast<std::uint8_t>((lost_interval << 8) / expected_interval);
  }
  block.jitter = static_cast<std::uint32_t>(jitter_);
  if (last_sr_arrival_us_ != 0) {
    block.last_sr = last_sr_;
    block.delay_since_sr =
        static_cast<std::uint32_t>((now_us - last_sr_arrival_us_) * 65536 / 1000000);
  }
  return block;
}

}  // namespace podium::sfu::rtp
