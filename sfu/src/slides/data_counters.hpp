// Counters of the data-channel path, kept as plain integers on the media thread and added to the
// Prometheus families once a second with the rest of WorkerCounters.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "datachannel/data_channels.hpp"
#include "sctp/sctp_transport.hpp"
#include "slides/slide_protocol.hpp"

namespace podium::sfu::slides {

inline constexpr std::size_t kPresenter = 0;
inline constexpr std::size_t kGuest = 1;

enum class Skip : std::uint8_t {
  superseded,  // a guest never got a slide's `show`: a newer one came first
  evicted,     // a slide left the store before the guest had it
  count
};

// Slide delivery time (s): the presenter's last byte (or the guest's join, if later) → the
// guest's SCTP acknowledgement of the slide's last byte.
inline const std::vector<double>& delivery_buckets() {
  static const std::vector<double> buckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                              2.5,  5,     10,   20,  30,   60,  120};
  return buckets;
}
// Per-guest queued bytes, sampled every second.
inline const std::vector<double>& queue_buckets() {
  static const std::vector<double> buckets = {0,       16 << 10, 64 << 10, 256 << 10, 512 << 10,
                                              1 << 20, 2 << 20,  4 << 20,  8 << 20,   16 << 20};
  return buckets;
}

struct BucketCounts {
  explicit BucketCounts(const std::vector<double>& bounds)
      : bounds(&bounds), counts(bounds.size() + 1, 0.0) {}
  void observe(double value) {
    std::size_t i = 0;
    while (i < bounds->size() && value > (*bounds)[i]) ++i;
    counts[i] += 1;
    sum += value;
    any = true;
  }
  const std::vector<double>* bounds;
  std::vector<double> counts;
  double sum = 0;
  bool any = false;
};

struct DataCounters {
  std::uint64_t slides_received = 0;
  std::uint64_t slides_delivered = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(Skip::count)> slides_skipped{};
  // [direction: 0 in, 1 out][role: presenter, guest]
  std::array<std::array<std::uint64_t, 2>, 2> message_bytes{};
  std::array<std::array<std::uint64_t, 2>, 2> messages{};
  std::array<std::array<std::uint64_t, 2>, 2> sctp_bytes{};
  std::array<std::uint64_t, static_cast<std::size_t>(sctp::Error::count)> sctp_errors{};
  std::array<std::uint64_t, static_cast<std::size_t>(datachannel::ChannelError::count)>
      channel_errors{};
  std::array<std::uint64_t, static_cast<std::size_t>(ProtocolError::count)> protocol_errors{};
  std::array<std::uint64_t, 2> channels_opened{};  // by the peer, by the SFU
  BucketCounts delivery{delivery_buckets()};
  BucketCounts queue{queue_buckets()};
};

}  // namespace podium::sfu::slides
