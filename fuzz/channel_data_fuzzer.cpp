// libFuzzer entry for ChannelData and stream framing: parse the input as a datagram, then
// split it as a TCP stream the way the relay's stream reader does, re-encoding each frame.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "podium/stun/channel_data.hpp"
#include "podium/stun/framing.hpp"
#include "podium/stun/message.hpp"

namespace {

using namespace podium::stun;

void check(bool condition) {
  if (!condition) std::abort();
}

void round_trip(const ChannelDataView& frame, Framing framing) {
  static std::array<uint8_t, kChannelDataHeaderSize + kMaxChannelDataPayload + 3> buffer;
  auto encoded = encode_channel_data(buffer, frame.channel, frame.payload, framing);
  // Numbers from RFC 5766's wider range are accepted from clients but never encoded.
  if (!is_valid_channel_number(frame.channel)) return check(!encoded.ok());
  check(encoded.ok());
  auto again = parse_channel_data(*encoded, framing);
  check(again.ok());
  check(again->channel == frame.channel && again->payload.size() == frame.payload.size());
  check(std::memcmp(again->payload.data(), frame.payload.data(), frame.payload.size()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);

  if (auto datagram = parse_channel_data(input, Framing::kDatagram)) {
    check(datagram->frame_size <= size);
    round_trip(*datagram, Framing::kDatagram);
  }

  // Stream: consume whole frames until the data runs out or the stream is broken.
  while (!input.empty()) {
    auto needed = next_frame_length(input);
    if (!needed || *needed == 0 || *needed > input.size()) break;
    const auto frame = input.first(*needed);
    if ((frame[0] & 0xC0) == 0x40) {
      auto parsed = parse_channel_data(frame, Framing::kStream);
      check(parsed.ok());
      check(parsed->frame_size == *needed);
      round_trip(*parsed, Framing::kStream);
    } else {
      (void)MessageView::parse(frame);
    }
    input = input.subspan(*needed);
  }
  return 0;
}
