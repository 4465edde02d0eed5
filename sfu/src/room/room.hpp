// A room: one presenter publishing Opus and the guests listening. The presenter's stream is
// decrypted once; forward_audio() rewrites it per guest (SSRC, sequence number, timestamp,
// payload type, audio-level extension id) and protects it with that guest's own SRTP context,
// queueing every copy into one sendmmsg batch.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "podium/common/udp_batch.hpp"
#include "rtp/rtp_packet.hpp"
#include "slides/slide_deck.hpp"
#include "transport/media_send_batch.hpp"

namespace podium::sfu {

class Session;

// The room's output stream, continuous across presenters: whichever presenter (or SSRC) feeds
// the room, guests see one sequence-number space without gaps and a timestamp that advances with
// wall-clock time across a switch (at least one 20 ms frame), never jumping back or ahead.
class OutputTimeline {
 public:
  static constexpr std::uint32_t kClockRate = 48000;  // Opus RTP clock (RFC 7587 section 4.1)

  struct Mapped {
    std::uint16_t sequence;
    std::uint32_t timestamp;
    // The packet maps at or before the previous source's last output sequence number (a
    // reordered early packet of a new source). Sending it would reuse an SRTP packet index,
    // i.e. an AES-GCM IV, with other content (RFC 7714 section 8.1): it must be dropped.
    bool reuses_index = false;
  };
  // Maps an input packet of source `ssrc`. A new SSRC re-anchors the mapping after the last
  // output packet. `now` is the arrival time.
  Mapped map(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t timestamp,
             std::chrono::steady_clock::time_point now);
  // The output timestamp for an input timestamp of the current source (SR translation).
  std::optional<std::uint32_t> map_timestamp(std::uint32_t ssrc, std::uint32_t timestamp) const;

 private:
  bool started_ = false;
  bool source_valid_ = false;
  std::uint32_t source_ssrc_ = 0;
  std::uint16_t seq_delta_ = 0;
  std::uint32_t ts_delta_ = 0;
  std::uint16_t last_seq_ = 0;
  std::uint32_t last_ts_ = 0;
  // After a re-anchor: the previous source's last output sequence number, below which nothing
  // may be sent again (checked until the new source is kGuardSpan packets past it).
  static constexpr std::uint16_t kGuardSpan = 0x4000;
  bool guard_active_ = false;
  std::uint16_t guard_seq_ = 0;
  std::chrono::steady_clock::time_point last_time_{};
};

// "Presenter speaking" from the RFC 6464 audio level: speaking while any packet of the last
// kHold had a level at or above kThreshold (level <= 50 -dBov).
class SpeakingDetector {
 public:
  static constexpr std::uint8_t kThreshold = 50;
  static constexpr std::chrono::milliseconds kHold{500};
  void on_level(std::uint8_t level, std::chrono::steady_clock::time_point now) {
    if (level <= kThreshold) last_loud_ = now;
  }
  bool speaking(std::chrono::steady_clock::time_point now) const {
    return last_loud_ != std::chrono::steady_clock::time_point{} && now - last_loud_ <= kHold;
  }

 private:
  std::chrono::steady_clock::time_point last_loud_{};
};

struct FanOutResult {
  std::uint32_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint32_t protect_errors = 0;
};

class Room {
 public:
  // `counters` receives the room's data-channel counts (the worker's; a private set by default).
  explicit Room(std::string name, slides::SlideLimits limits = {},
                slides::DataCounters* counters = nullptr)
      : name_(std::move(name)), slides_(limits, counters ? *counters : own_counters_) {}
  const std::string& name() const { return name_; }

  Session* presenter() const { return presenter_; }
  // Returns the previous presenter (to be closed as replaced), if any.
  Session* set_presenter(Session* session);
  void add_guest(Session& session);
  void remove(Session& session);
  const std::vector<Session*>& guests() const { return guests_; }
  bool empty() const { return presenter_ == nullptr && guests_.empty(); }

  OutputTimeline& timeline() { return timeline_; }
  // The slide deck shared by the presenter and every guest (docs/protocol.md).
  slides::SlideDeck& slides() { return slides_; }
  SpeakingDetector& speaking() { return speaking_; }

  // Queues one protected copy of the presenter's decrypted packet for every guest with keyed
  // SRTP and a remote address. `audio_level` is forwarded where the guest negotiated it. Guests
  // whose SRTP protect fails are marked closing (srtp_failed); the rest are unaffected.
  FanOutResult forward_audio(const rtp::RtpHeader& header, std::span<const std::uint8_t> payload,
                             std::optional<rtp::AudioLevel> audio_level,
                             std::chrono::steady_clock::time_point now, int fd,
                             MediaSendBatch& batch);

  // Sends each guest an SR translated from the presenter's (RFC 3550 section 7.2: the SFU is
  // the sender of each guest's stream, so the counts are that guest's own).
  void forward_sender_report(const rtp::SenderInfo& info, int fd, MediaSendBatch& batch);

 private:
  std::string name_;
  slides::DataCounters own_counters_;
  slides::SlideDeck slides_;
  Session* presenter_ = nullptr;
  std::vector<Session*> guests_;
  OutputTimeline timeline_;
  SpeakingDetector speaking_;
};

}  // namespace podium::sfu
