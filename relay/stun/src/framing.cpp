#include "podium/stun/framing.hpp"

#include "byte_io.hpp"
#include "podium/stun/channel_data.hpp"
#include "podium/stun/constants.hpp"

namespace podium::stun {

Result<size_t, Reason> next_frame_length(std::span<const uint8_t> buffered, size_t max_stun_frame) {
  if (buffered.size() < 4) return size_t{0};
  const uint16_t first = detail::load_u16(buffered.data());
  const size_t length = detail::load_u16(buffered.data() + 2);
  switch (first >> 14) {
    case 0b00: {
      // RFC 8489 §6.2.2: STUN over a stream is self-delimiting through its length field.
      if (length % 4 != 0) return fail_reason("length not a multiple of 4");
      if (buffered.size() >= 8 && detail::load_u32(buffered.data() + 4) != kMagicCookie) {
        return fail_reason("bad magic cookie");
      }
      const size_t frame = kHeaderSize + length;
      if (frame > max_stun_frame) return fail_reason("STUN message too large");
      return frame;
    }
    case 0b01:
      // RFC 8656 §12.5: ChannelData frames are padded to 4 bytes over streams.
      if (!is_acceptable_channel_number(first)) return fail_reason("reserved channel number");
      return kChannelDataHeaderSize + padded_length(length);
    default:
      return fail_reason("neither STUN nor ChannelData");
  }
}

}  // namespace podium::stun
