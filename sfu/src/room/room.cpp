#include "room/room.hpp"

#include <algorithm>
#include <cstring>

#include "session/session.hpp"

namespace podium::sfu {

using rtp::store16;
using rtp::store32;

OutputTimeline::Mapped OutputTimeline::map(std::uint32_t ssrc, std::uint16_t sequence,
                                           std::uint32_t timestamp,
                                           std::chrono::steady_clock::time_point now) {
  if (!source_valid_ || ssrc != source_ssrc_) {
    // A new source: its first packet follows the last output packet directly in sequence, and
    // in time by the wall clock elapsed since then (at least one 20 ms Opus frame).
    std::uint16_t first_seq = 0;
    std::uint32_t first_ts = 0;
    if (started_) {
      guard_active_ = true;
      guard_seq_ = last_seq_;
      first_seq = static_cast<std::uint16_t>(last_seq_ + 1);
      const auto elapsed =
          std::chrono::duration_cast<std::chrono::microseconds>(now - last_time_).count();
      const std::uint64_t ticks = std::max<std::uint64_t>(
          kClockRate / 50,
          static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed, 0)) * kClockRate / 1000000);
      first_ts = last_ts_ + static_cast<std::uint32_t>(ticks);
    } else {
      first_seq = sequence;
      first_ts = timestamp;
    }
    seq_delta_ = static_cast<std::uint16_t>(first_seq - sequence);
    ts_delta_ = first_ts - timestamp;
    source_ssrc_ = ssrc;
    source_valid_ = true;
  }
  Mapped out{static_cast<std::uint16_t>(sequence + seq_delta_), timestamp + ts_delta_};
  if (guard_active_) {
    // RFC 1982 serial comparison against the previous source's last output packet.
    const auto past = static_cast<std::uint16_t>(out.sequence - guard_seq_);
    if (past == 0 || past >= 0x8000) {
      out.reuses_index = true;
      return out;
    }
    if (past > kGuardSpan) guard_active_ = false;
  }
  // Track the newest output packet (RFC 3550 sequence arithmetic: within half the space ahead).
  const auto ahead = static_cast<std::uint16_t>(out.sequence - last_seq_);
  if (!started_ || (ahead != 0 && ahead < 0x8000)) {
    last_seq_ = out.sequence;
    last_ts_ = out.timestamp;
    last_time_ = now;
    started_ = true;
  }
  return out;
}

std::optional<std::uint32_t> OutputTimeline::map_timestamp(std::uint32_t ssrc,
                                                           std::uint32_t timestamp) const {
  if (!source_valid_ || ssrc != source_ssrc_) return std::nullopt;
  return timestamp + ts_delta_;
}

Session* Room::set_presenter(Session* session) {
  Session* previous = presenter_;
  presenter_ = session;
  return previous == session ? nullptr : previous;
}

void Room::add_guest(Session& session) {
  guests_.push_back(&session);
}

void Room::remove(Session& session) {
  if (presenter_ == &session) presenter_ = nullptr;
  std::erase(guests_, &session);
}

FanOutResult Room::forward_audio(const rtp::RtpHeader& header,
                                 std::span<const std::uint8_t> payload,
                                 std::optional<rtp::AudioLevel> audio_level,
                                 std::chrono::steady_clock::time_point now, int fd,
                                 MediaSendBatch& batch) {
  FanOutResult result;
  const auto mapped = timeline_.map(header.ssrc, header.sequence, header.timestamp, now);
  if (mapped.reuses_index) return result;
  for (Session* guest : guests_) {
    srtp::SrtpSender* srtp = guest->rtp_out();
    if (!srtp || !guest->remote() || guest->closing() != CloseReason::none) continue;
    const std::size_t tag = srtp::srtp_overhead(srtp->profile());
    const bool with_level = audio_level && guest->out_audio_level_id != 0;
    const std::size_t header_size = rtp::kFixedHeaderSize + (with_level ? 8 : 0);
    if (header_size + payload.size() + tag > kMaxMediaDatagram) continue;

    auto& entry = batch.next();
    std::uint8_t* p = entry.head.data();
    // RFC 3550 section 5.1, rewritten for this guest: its SSRC, its sequence and timestamp
    // offsets, its payload type; no CSRCs, no padding.
    p[0] = static_cast<std::uint8_t>(0x80 | (with_level ? 0x10 : 0));
    p[1] = static_cast<std::uint8_t>((header.marker ? 0x80 : 0) | guest->out_payload_type);
    store16(p + 2, static_cast<std::uint16_t>(mapped.sequence + guest->seq_offset));
    store32(p + 4, mapped.timestamp + guest->ts_offset);
    store32(p + 8, guest->out_ssrc);
    if (with_level) {
      // RFC 8285 section 4.2 one-byte header with one element (RFC 6464), padded to 32 bits.
      store16(p + 12, rtp::kOneByteProfile);
      store16(p + 14, 1);
      p[16] = static_cast<std::uint8_t>(guest->out_audio_level_id << 4);
      p[17] = static_cast<std::uint8_t>((audio_level->voice ? 0x80 : 0) | audio_level->level);
      p[18] = 0;
      p[19] = 0;
    }
    std::memcpy(p + header_size, payload.data(), payload.size());
    auto protected_length =
        srtp->protect(std::span<std::uint8_t>(entry.head), header_size + payload.size());
    if (!protected_length) {
      ++result.protect_errors;
      guest->mark_closing(CloseReason::srtp_failed);
      continue;  // entry not committed: the slot is reused
    }
    entry.fd = guest->send_fd(fd);
    entry.owner = guest;
    entry.destination = *guest->remote();
    entry.head_length = *protected_length;
    batch.commit();
    ++guest->packets_sent;
    guest->octets_sent += static_cast<std::uint32_t>(payload.size());
    ++result.packets;
    result.bytes += *protected_length;
  }
  return result;
}

void Room::forward_sender_report(const rtp::SenderInfo& info, int fd, MediaSendBatch& batch) {
  const auto rtp_timestamp = timeline_.map_timestamp(info.ssrc, info.rtp_timestamp);
  if (!rtp_timestamp) return;
  for (Session* guest : guests_) {
    srtp::SrtcpSender* srtcp = guest->rtcp_out();
    if (!srtcp || !guest->remote() || guest->closing() != CloseReason::none) continue;
    auto& entry = batch.next();
    std::span<std::uint8_t> out(entry.head);
    rtp::SenderInfo translated{guest->out_ssrc, info.ntp, *rtp_timestamp + guest->ts_offset,
                               guest->packets_sent, guest->octets_sent};
    std::size_t length = rtp::write_sender_report(out, translated);
    const auto& cname = guest->cname;
    length +=
        rtp::write_sdes_cname(out.subspan(length), guest->out_ssrc,
                              {reinterpret_cast<const std::uint8_t*>(cname.data()), cname.size()});
    auto protected_length = srtcp->protect(out, length);
    if (!protected_length) continue;
    entry.fd = guest->send_fd(fd);
    entry.destination = *guest->remote();
    entry.head_length = *protected_length;
    batch.commit();
  }
}

}  // namespace podium::sfu
