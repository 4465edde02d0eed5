#include "slides/slide_deck.hpp"

#include <algorithm>

namespace podium::sfu::slides {

namespace {
// Binary messages to guests stay small next to any send buffer (sfu.slides.guest_queue is at
// least 256 KiB) so a message always fits once SCTP has room; 64 KiB is also what every browser
// accepts.
constexpr std::size_t kMaxGuestMessage = 64 * 1024;
// The least a feed keeps queued ahead of acknowledgements, and the most one pump() hands to
// SCTP: the media thread's work per guest and call stays small, so it gets back to reading the
// socket (the presenter's upload, the guests' SACKs) between guests.
constexpr std::size_t kMinFeedAhead = 256 * 1024;
constexpr std::size_t kMaxPerPump = 256 * 1024;
constexpr std::size_t kIn = 0;
constexpr std::size_t kOut = 1;
}  // namespace

void SlideDeck::count_out(std::size_t role, std::size_t bytes) {
  ++counters_->messages[kOut][role];
  counters_->message_bytes[kOut][role] += bytes;
}

void SlideDeck::to_presenter(std::string_view text) {
  if (!presenter_) return;
  // Small control messages; a presenter whose buffer is full just misses a progress update.
  if (presenter_->send_text(presenter_stream_, text) == sctp::SendStatus::sent) {
    count_out(kPresenter, text.size());
  }
}

void SlideDeck::refuse(const ParseError& error) {
  ++counters_->protocol_errors[static_cast<std::size_t>(error.error)];
  to_presenter(error_message(error));
}

// ---------------------------------------------------------------------------------------------
// Presenter

void SlideDeck::set_presenter(datachannel::DataChannels* channels, std::uint16_t stream) {
  if (presenter_ && presenter_ != channels) presenter_left(presenter_);
  presenter_ = channels;
  presenter_stream_ = stream;
  guests_dirty_ = true;  // the new presenter learns the guest count at the next tick
  // What the room already has, so that a presenter who reconnects skips those uploads.
  std::vector<DeckEntry> stored;
  for (const auto& slide : store_.slides()) {
    if (slide->complete()) stored.push_back({slide->header.id, slide->header.size});
  }
  const auto& current = store_.current();
  to_presenter(deck_message(stored, current ? std::string_view(current->header.id) : ""));
  presenter_changed();
}

// Guests learn of the change from their feed, between slides (never inside one's bytes).
void SlideDeck::presenter_changed() {
  for (auto& [channels, feed] : feeds_) feed.idle = false;
}

void SlideDeck::presenter_left(datachannel::DataChannels* channels) {
  if (channels != presenter_) return;
  presenter_ = nullptr;
  refused_remaining_ = 0;
  presenter_changed();
  if (uploading_) {
    discard(uploading_);
    uploading_ = nullptr;
  }
}

// A slide that will never complete leaves the store; guests that had started it get `cancel`.
void SlideDeck::discard(const std::shared_ptr<Slide>& slide) {
  store_.remove(slide);
  for (auto& [channels, feed] : feeds_) {
    if (feed.active != slide) continue;
    if (feed.header_sent) feed.cancel = slide->header.id;
    feed.active = nullptr;
  }
}

void SlideDeck::on_presenter_message(bool binary, sctp::Message&& message, Clock::time_point now) {
  ++counters_->messages[kIn][kPresenter];
  counters_->message_bytes[kIn][kPresenter] += message.size;
  if (binary) {
    std::size_t size = message.size;
    if (refused_remaining_ > 0) {  // the bytes of a slide that was refused
      const auto swallowed = std::min<std::uint64_t>(refused_remaining_, size);
      refused_remaining_ -= swallowed;
      return;
    }
    if (!uploading_) return refuse({ProtocolError::bytes_without_slide, {}});
    Slide& slide = *uploading_;
    const std::uint64_t room = slide.header.size - slide.received;
    if (size > room) {
      refuse({ProtocolError::beyond_size, {}});
      size = static_cast<std::size_t>(room);
    }
    if (size > 0) {
      slide.chunks.push_back(Chunk{std::move(message.data), size});
      slide.received += size;
    }
    if (slide.complete()) {
      slide.completed_at = now;
      ++counters_->slides_received;
      to_presenter(stored_message(slide.header.id, slide.header.size));
      uploading_ = nullptr;
    }
    pump_all(now);
    return;
  }

  std::string_view text(reinterpret_cast<const char*>(message.data.get()), message.size);
  auto parsed = parse_presenter_message(text);
  if (!parsed) return refuse(parsed.error());
  if (auto* header = std::get_if<SlideHeader>(&*parsed)) {
    if (uploading_) {
      refuse({ProtocolError::slide_incomplete, {}});
      discard(uploading_);
      uploading_ = nullptr;
    }
    refused_remaining_ = 0;
    const std::uint64_t declared = header->size;
    std::vector<std::shared_ptr<Slide>> evicted;
    auto added = store_.add(std::move(*header), evicted);
    // Evicted slides are complete: a guest already streaming one finishes it (its feed holds
    // a reference); the others never start it.
    for (const auto& slide : evicted) {
      counters_->slides_skipped[static_cast<std::size_t>(Skip::evicted)] +=
          feeds_.size() - std::min(feeds_.size(), slide->delivered_to);
    }
    if (!added) {
      refused_remaining_ = declared;
      return refuse({added.error(), {}});
    }
    uploading_ = *added;
    if (uploading_->complete()) {  // an empty slide
      uploading_->completed_at = now;
      ++counters_->slides_received;
      to_presenter(stored_message(uploading_->header.id, 0));
      uploading_ = nullptr;
    }
    pump_all(now);
    return;
  }
  const auto& show = std::get<Show>(*parsed);
  auto slide = store_.find(show.id);
  if (!slide) return refuse({ProtocolError::unknown_slide, {}});
  const std::uint64_t previous = store_.show_sequence();
  store_.show(slide);
  // Guests that never got the previous `show` now skip it: the newest one wins.
  if (previous != 0) {
    for (const auto& [channels, feed] : feeds_) {
      if (feed.shown_sequence != previous) {
        ++counters_->slides_skipped[static_cast<std::size_t>(Skip::superseded)];
      }
    }
  }
  pump_all(now);
}

// ---------------------------------------------------------------------------------------------
// Guests

void SlideDeck::add_guest(datachannel::DataChannels& channels, std::uint16_t stream,
                          Clock::time_point now) {
  auto& feed = feeds_[&channels];
  feed = GuestFeed{};
  feed.channels = &channels;
  feed.stream = stream;
  feed.joined = now;
  feed.feed_ahead = kMinFeedAhead;
  guests_dirty_ = true;
  pump(feed, now);
}

void SlideDeck::remove_guest(datachannel::DataChannels& channels) {
  auto it = feeds_.find(&channels);
  if (it == feeds_.end()) return;
  for (const auto& slide : store_.slides()) {
    if (slide->delivered_to > 0 && it->second.sent.contains(slide->serial)) {
      // Counted only once acknowledged: pending ones were never added.
      bool pending = false;
      for (const auto& p : it->second.pending) pending |= p.slide == slide;
      if (!pending) {
        --slide->delivered_to;
        slide->delivered_dirty = true;
      }
    }
  }
  feeds_.erase(it);
  guests_dirty_ = true;
}

void SlideDeck::on_guest_writable(datachannel::DataChannels& channels, Clock::time_point now) {
  auto it = feeds_.find(&channels);
  if (it != feeds_.end()) pump(it->second, now);
}

void SlideDeck::on_guest_message(datachannel::DataChannels& channels, std::uint16_t stream) {
  ++counters_->protocol_errors[static_cast<std::size_t>(ProtocolError::guest_message)];
  const auto text = error_message({ProtocolError::guest_message, {}});
  if (channels.send_text(stream, text) == sctp::SendStatus::sent) count_out(kGuest, text.size());
}

void SlideDeck::pump_all(Clock::time_point now) {
  for (auto& [channels, feed] : feeds_) pump(feed, now);
}

// The next slide a guest should receive: the current one first, then the rest of the deck in
// upload order.
std::shared_ptr<Slide> SlideDeck::next_slide(const GuestFeed& feed) const {
  const auto& current = store_.current();
  if (current && !feed.sent.contains(current->serial)) return current;
  for (const auto& slide : store_.slides()) {
    if (!feed.sent.contains(slide->serial)) return slide;
  }
  return nullptr;
}

void SlideDeck::start(GuestFeed& feed, std::shared_ptr<Slide> slide) {
  feed.active = std::move(slide);
  feed.header_sent = false;
  feed.offset = 0;
  feed.chunk = 0;
  feed.chunk_offset = 0;
}

void SlideDeck::pump(GuestFeed& feed, Clock::time_point now) {
  auto& channels = *feed.channels;
  if (!channels.connected()) return;
  feed.idle = false;
  std::size_t budget = kMaxPerPump;
  for (;;) {
    if (!feed.cancel.empty()) {
      const auto message = cancel_message(feed.cancel);
      if (channels.send_text(feed.stream, message) != sctp::SendStatus::sent) return;
      count_out(kGuest, message.size());
      feed.cancel.clear();
    }
    const std::int8_t live = presenter_ != nullptr ? 1 : 0;
    if (feed.presenter_told != live && (!feed.active || !feed.header_sent)) {
      const auto message = presenter_message(live == 1);
      if (channels.send_text(feed.stream, message) != sctp::SendStatus::sent) return;
      count_out(kGuest, message.size());
      feed.presenter_told = live;
    }
    if (!feed.active) {
      const auto& current = store_.current();
      if (current && feed.sent.contains(current->serial) &&
          feed.shown_sequence != store_.show_sequence()) {
        // docs/protocol.md: a `show` follows its slide's last byte.
        const auto text = show_message(current->header.id);
        if (channels.send_text(feed.stream, text) != sctp::SendStatus::sent) return;
        count_out(kGuest, text.size());
        feed.shown_sequence = store_.show_sequence();
        continue;
      }
      auto next = next_slide(feed);
      if (!next) {
        feed.idle = true;
        break;
      }
      start(feed, std::move(next));
    }
    Slide& slide = *feed.active;
    if (!feed.header_sent) {
      const auto text = slide_message(slide.header);
      if (channels.send_text(feed.stream, text) != sctp::SendStatus::sent) return;
      count_out(kGuest, text.size());
      feed.header_sent = true;
    }
    while (feed.offset < slide.received) {
      if (budget == 0 || channels.buffered() >= feed.feed_ahead) {
        // Continued when SCTP has sent half of it (on_guest_writable), or at the next tick.
        channels.set_buffered_low(feed.feed_ahead / 2);
        check_acknowledged(feed, now);
        return;
      }
      const Chunk& chunk = slide.chunks[feed.chunk];
      const std::size_t length =
          std::min({chunk.size - feed.chunk_offset, channels.max_send_message(), kMaxGuestMessage});
      std::span<const std::uint8_t> bytes(chunk.data.get() + feed.chunk_offset, length);
      if (channels.send_binary(feed.stream, bytes) != sctp::SendStatus::sent) {
        check_acknowledged(feed, now);
        return;
      }
      count_out(kGuest, length);
      budget -= std::min(budget, length);
      feed.offset += length;
      feed.total_sent += length;
      feed.chunk_offset += length;
      if (feed.chunk_offset == chunk.size) {
        ++feed.chunk;
        feed.chunk_offset = 0;
      }
    }
    if (!slide.complete()) break;  // waiting for the presenter's next bytes
    feed.sent.insert(slide.serial);
    feed.pending.push_back(PendingDelivery{feed.active, feed.total_sent});
    feed.active = nullptr;
  }
  check_acknowledged(feed, now);
}

// A slide counts as delivered once SCTP has the guest's acknowledgement for its last byte.
void SlideDeck::check_acknowledged(GuestFeed& feed, Clock::time_point now) {
  if (feed.pending.empty()) return;
  const std::uint64_t buffered = feed.channels->buffered();
  const std::uint64_t acknowledged = feed.total_sent - std::min(feed.total_sent, buffered);
  while (!feed.pending.empty() && feed.pending.front().end <= acknowledged) {
    auto& slide = *feed.pending.front().slide;
    ++counters_->slides_delivered;
    const auto start = std::max(slide.completed_at, feed.joined);
    counters_->delivery.observe(std::chrono::duration<double>(now - start).count());
    if (!slide.removed) {
      ++slide.delivered_to;
      slide.delivered_dirty = true;
    }
    feed.pending.pop_front();
  }
}

void SlideDeck::on_tick(Clock::time_point now) {
  for (auto& [channels, feed] : feeds_) {
    if (!feed.pending.empty()) check_acknowledged(feed, now);
    // Keep the queue full even when no SACK reported room (the stack's estimate can lag).
    if (!feed.idle) pump(feed, now);
  }
  if (!presenter_) return;
  if (guests_dirty_) {
    guests_dirty_ = false;
    to_presenter(guests_message(feeds_.size()));
  }
  for (const auto& slide : store_.slides()) {
    if (!slide->delivered_dirty) continue;
    slide->delivered_dirty = false;
    to_presenter(delivered_message(slide->header.id, slide->delivered_to, feeds_.size()));
  }
}

void SlideDeck::sample_queues() {
  for (auto& [channels, feed] : feeds_) {
    const std::uint64_t buffered = channels->buffered();
    counters_->queue.observe(static_cast<double>(buffered));
    const std::uint64_t acknowledged = feed.total_sent - std::min(feed.total_sent, buffered);
    const std::uint64_t per_second = acknowledged - feed.acknowledged_mark;
    feed.acknowledged_mark = acknowledged;
    const std::size_t queue = channels->writable() + static_cast<std::size_t>(buffered);
    feed.feed_ahead = static_cast<std::size_t>(
        std::clamp<std::uint64_t>(per_second / 2, kMinFeedAhead, std::max(queue, kMinFeedAhead)));
  }
}

}  // namespace podium::sfu::slides
