// The data-channel and slide metrics of the SFU (docs/metrics.md § Slides), flushed from
// DataCounters once a second by SfuMetrics.
#pragma once

#include <array>
#include <cstdint>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "slides/data_counters.hpp"

namespace podium::sfu::slides {

class DataMetrics {
 public:
  explicit DataMetrics(prometheus::Registry& registry);
  void flush(DataCounters& counters, std::size_t slides_stored, std::uint64_t stored_bytes);

 private:
  prometheus::Counter* received_;
  prometheus::Counter* delivered_;
  std::array<prometheus::Counter*, static_cast<std::size_t>(Skip::count)> skipped_{};
  std::array<std::array<prometheus::Counter*, 2>, 2> message_bytes_{};
  std::array<std::array<prometheus::Counter*, 2>, 2> messages_{};
  std::array<std::array<prometheus::Counter*, 2>, 2> sctp_bytes_{};
  std::array<prometheus::Counter*, static_cast<std::size_t>(sctp::Error::count)> sctp_errors_{};
  std::array<prometheus::Counter*, static_cast<std::size_t>(datachannel::ChannelError::count)>
      channel_errors_{};
  std::array<prometheus::Counter*, static_cast<std::size_t>(ProtocolError::count)>
      protocol_errors_{};
  std::array<prometheus::Counter*, 2> channels_opened_{};
  prometheus::Histogram* delivery_;
  prometheus::Histogram* queue_;
  prometheus::Gauge* stored_;
  prometheus::Gauge* stored_bytes_;
};

}  // namespace podium::sfu::slides
