// A room's deck: every slide's bytes stored once, as reference-counted chunks exactly as they
// arrived from the presenter, shared by every guest that reads them. Bounded per slide and per
// room; when a new slide does not fit, the least recently used slides (uploaded or shown) are
// evicted, never the current one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "podium/common/result.hpp"
#include "slides/slide_protocol.hpp"

namespace podium::sfu::slides {

using Clock = std::chrono::steady_clock;

struct Chunk {
  std::shared_ptr<const std::uint8_t[]> data;
  std::size_t size = 0;
};

struct Slide {
  SlideHeader header;
  std::uint64_t serial = 0;  // upload order within the room
  std::vector<Chunk> chunks;
  std::uint64_t received = 0;
  Clock::time_point completed_at{};  // the presenter's last byte
  std::uint64_t last_used = 0;       // store's use clock at upload or show
  std::size_t delivered_to = 0;      // guests in the room who have every byte
  bool delivered_dirty = false;      // a `delivered` message is due
  bool removed = false;              // evicted or discarded: no new guest starts it

  bool complete() const { return received == header.size; }
};

struct SlideLimits {
  std::uint64_t max_slide_bytes = 50u << 20;
  std::uint64_t max_room_bytes = 256u << 20;
};

class SlideStore {
 public:
  explicit SlideStore(SlideLimits limits) : limits_(limits) {}

  // Stores a new (empty) slide, reserving its declared size. Slides evicted to make room are
  // appended to `evicted`.
  Result<std::shared_ptr<Slide>, ProtocolError> add(SlideHeader header,
                                                    std::vector<std::shared_ptr<Slide>>& evicted);
  std::shared_ptr<Slide> find(std::string_view id) const;
  void remove(const std::shared_ptr<Slide>& slide);

  // Makes `slide` the current one; returns the show sequence number.
  std::uint64_t show(const std::shared_ptr<Slide>& slide);
  const std::shared_ptr<Slide>& current() const { return current_; }
  std::uint64_t show_sequence() const { return show_sequence_; }

  // In upload order.
  const std::vector<std::shared_ptr<Slide>>& slides() const { return slides_; }
  std::uint64_t reserved_bytes() const { return reserved_; }
  const SlideLimits& limits() const { return limits_; }

 private:
  SlideLimits limits_;
  std::vector<std::shared_ptr<Slide>> slides_;
  std::shared_ptr<Slide> current_;
  std::uint64_t reserved_ = 0;
  std::uint64_t next_serial_ = 1;
  std::uint64_t use_clock_ = 0;
  std::uint64_t show_sequence_ = 0;
};

}  // namespace podium::sfu::slides
