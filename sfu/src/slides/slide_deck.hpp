// The slides of one room (docs/protocol.md): the presenter's uploads go into the room's
// SlideStore once; every guest has a GuestFeed that streams the stored chunks into that guest's
// SCTP association at the pace its acknowledgements allow, bounded by the guest's send buffer.
// A guest that cannot keep up only fills its own buffer; when the presenter shows a newer slide
// the feed moves to it (and its `show`) before older slides it has not started.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "datachannel/data_channels.hpp"
#include "slides/data_counters.hpp"
#include "slides/slide_store.hpp"

namespace podium::sfu::slides {

class SlideDeck {
 public:
  SlideDeck(SlideLimits limits, DataCounters& counters) : store_(limits), counters_(&counters) {}

  // --- The presenter's `slides` channel (opened by the presenter).
  void set_presenter(datachannel::DataChannels* channels, std::uint16_t stream);
  // The presenter session is gone (or its SCTP closed): an upload in progress is discarded.
  void presenter_left(datachannel::DataChannels* channels);
  void on_presenter_message(bool binary, sctp::Message&& message, Clock::time_point now);

  // --- Guests: the channel the SFU opened to each.
  void add_guest(datachannel::DataChannels& channels, std::uint16_t stream, Clock::time_point now);
  void remove_guest(datachannel::DataChannels& channels);
  // A guest's SCTP has room again.
  void on_guest_writable(datachannel::DataChannels& channels, Clock::time_point now);
  // Anything a guest sends on its slides channel is refused.
  void on_guest_message(datachannel::DataChannels& channels, std::uint16_t stream);

  // Every tick: acknowledged deliveries, coalesced `guests` / `delivered` to the presenter.
  void on_tick(Clock::time_point now);
  // Every second: each guest's queued bytes into the histogram, and its feed-ahead window.
  void sample_queues();

  const SlideStore& store() const { return store_; }
  std::size_t guests() const { return feeds_.size(); }

 private:
  struct PendingDelivery {
    std::shared_ptr<Slide> slide;
    std::uint64_t end = 0;  // the feed's total_sent after the slide's last byte
  };
  struct GuestFeed {
    datachannel::DataChannels* channels = nullptr;
    std::uint16_t stream = 0;
    Clock::time_point joined{};
    std::unordered_set<std::uint64_t> sent;  // serials whose every byte went to SCTP
    std::shared_ptr<Slide> active;           // the slide being streamed
    bool header_sent = false;
    std::uint64_t offset = 0;
    std::size_t chunk = 0;
    std::size_t chunk_offset = 0;
    std::uint64_t shown_sequence = 0;  // the store's show sequence of the last `show` sent
    std::string cancel;                // id of a discarded slide whose bytes had started
    std::int8_t presenter_told = -1;   // the `presenter` state last sent (-1: none yet)
    std::uint64_t total_sent = 0;      // bytes of slide payload handed to SCTP
    std::deque<PendingDelivery> pending;
    bool idle = false;  // nothing left to send until the deck changes
    // How far ahead of the guest's acknowledgements the feed fills SCTP: half a second of what
    // it acknowledged in the last second, between kMinFeedAhead and the guest queue. A fast
    // guest keeps a deep queue; a slow one does not pin megabytes of copies in the SFU.
    std::uint64_t acknowledged_mark = 0;  // acknowledged bytes at the last sample
    std::size_t feed_ahead = 0;
  };

  void pump(GuestFeed& feed, Clock::time_point now);
  void pump_all(Clock::time_point now);
  void check_acknowledged(GuestFeed& feed, Clock::time_point now);
  std::shared_ptr<Slide> next_slide(const GuestFeed& feed) const;
  void start(GuestFeed& feed, std::shared_ptr<Slide> slide);
  void discard(const std::shared_ptr<Slide>& slide);
  void refuse(const ParseError& error);
  void to_presenter(std::string_view text);
  void presenter_changed();
  void count_out(std::size_t role, std::size_t bytes);

  SlideStore store_;
  DataCounters* counters_;
  datachannel::DataChannels* presenter_ = nullptr;
  std::uint16_t presenter_stream_ = 0;
  std::shared_ptr<Slide> uploading_;
  std::uint64_t refused_remaining_ = 0;  // bytes of a refused slide still to swallow
  std::unordered_map<datachannel::DataChannels*, GuestFeed> feeds_;
  bool guests_dirty_ = false;
};

}  // namespace podium::sfu::slides
