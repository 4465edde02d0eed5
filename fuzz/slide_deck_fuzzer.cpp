// libFuzzer entry for a room's slide deck (sfu/src/slides/slide_deck.hpp) as the presenter drives
// it: a sequence of text and binary messages on the presenter's `slides` channel, the presenter
// leaving, and timer ticks, into a deck with no guests and no presenter channel (so the deck
// sends nothing). Nothing may crash, and after every step the store must respect its limits.
//
// Input framing:
//   byte 0, byte 1   limits: max_slide_bytes = 256 << (b0 % 8) (256 B..32 KiB),
//                    max_room_bytes = max_slide_bytes * (1 + b1 % 8)
//   then records     [op: 1 byte][length: 2 bytes, big-endian][payload]
//     op % 5 == 0    text message, `length` bytes of payload
//     op % 5 == 1    binary message, `length` bytes of payload
//     op % 5 == 2    binary message of `length` zero bytes (no payload: big slides, small inputs)
//     op % 5 == 3    the presenter leaves (no payload)
//     op % 5 == 4    a 20 ms tick and a queue sample (no payload)
// A record whose payload runs past the end is cut short to what is there.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "slides/data_counters.hpp"
#include "slides/slide_deck.hpp"

namespace {

using namespace podium::sfu;
using namespace podium::sfu::slides;

void check(bool condition) {
  if (!condition) std::abort();
}

sctp::Message message(const std::uint8_t* bytes, std::size_t size, bool zero) {
  sctp::Message m;
  m.stream = 0;
  m.ppid = zero ? 53 : 51;
  if (size > 0) {
    auto data = std::make_shared<std::uint8_t[]>(size);  // value-initialised: zeros
    if (!zero) std::memcpy(data.get(), bytes, size);
    m.data = std::move(data);
  }
  m.size = size;
  return m;
}

void check_store(const SlideDeck& deck, const SlideLimits& limits) {
  const SlideStore& store = deck.store();
  check(store.reserved_bytes() <= limits.max_room_bytes);
  std::uint64_t reserved = 0;
  std::size_t incomplete = 0;
  std::set<std::string> ids;
  std::uint64_t serial = 0;
  bool current_stored = store.current() == nullptr;
  for (const auto& slide : store.slides()) {
    check(slide != nullptr && !slide->removed);
    check(slide->header.size <= limits.max_slide_bytes);
    check(slide->received <= slide->header.size);
    std::uint64_t chunks = 0;
    for (const Chunk& chunk : slide->chunks) {
      check(chunk.size > 0 && chunk.data != nullptr);
      chunks += chunk.size;
    }
    check(chunks == slide->received);
    check(slide->serial > serial);  // upload order
    serial = slide->serial;
    check(ids.insert(slide->header.id).second);
    if (!slide->complete()) ++incomplete;
    check(slide->delivered_to == 0);  // no guests
    reserved += slide->header.size;
    current_stored |= slide == store.current();
  }
  check(reserved == store.reserved_bytes());
  check(incomplete <= 1);  // only the slide being uploaded
  check(current_stored);
  check(deck.guests() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  SlideLimits limits;
  limits.max_slide_bytes = std::uint64_t{256} << (data[0] % 8);
  limits.max_room_bytes = limits.max_slide_bytes * (1 + data[1] % 8);
  DataCounters counters;
  SlideDeck deck(limits, counters);
  deck.set_presenter(nullptr, 0);

  auto now = Clock::time_point{} + std::chrono::hours(1);
  std::size_t at = 2;
  std::uint64_t messages = 0;
  while (at < size) {
    const std::uint8_t op = data[at++] % 5;
    std::size_t length = 0;
    if (at < size) length = std::size_t{data[at++]} << 8;
    if (at < size) length |= data[at++];
    switch (op) {
      case 0:
      case 1: {
        length = std::min(length, size - at);
        deck.on_presenter_message(op == 1, message(data + at, length, false), now);
        at += length;
        ++messages;
        break;
      }
      case 2:
        deck.on_presenter_message(true, message(nullptr, length, true), now);
        ++messages;
        break;
      case 3:
        deck.presenter_left(nullptr);
        break;
      default:
        now += std::chrono::milliseconds(20);
        deck.on_tick(now);
        deck.sample_queues();
        break;
    }
    check_store(deck, limits);
    check(counters.messages[0][kPresenter] == messages);
    // No presenter channel and no guests: nothing can have been sent.
    check(counters.messages[1][kPresenter] == 0 && counters.messages[1][kGuest] == 0);
  }
  return 0;
}
