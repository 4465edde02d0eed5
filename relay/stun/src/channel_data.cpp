#include "podium/stun/channel_data.hpp"

#include <cstring>

#include "byte_io.hpp"
#include "podium/stun/constants.hpp"

namespace podium::stun {

Result<ChannelDataView, Reason> parse_channel_data(std::span<const uint8_t> bytes,
                                                   Framing framing) {
  if (bytes.size() < kChannelDataHeaderSize) return fail_reason("ChannelData header truncated");
  const uint16_t channel = detail::load_u16(bytes.data());
  // RFC 8656 §12.4: the first two bits are 0b01 for ChannelData.
  if ((channel & 0xC000) != 0x4000) return fail_reason("not a ChannelData message");
  if (!is_acceptable_channel_number(channel)) return fail_reason("reserved channel number");
  const size_t length = detail::load_u16(bytes.data() + 2);
  const size_t available = bytes.size() - kChannelDataHeaderSize;
  if (length > available) return fail_reason("ChannelData payload truncated");
  size_t frame_size = kChannelDataHeaderSize + length;
  // RFC 8656 §12.5: over TCP and TLS the frame is padded to a multiple of 4.
  if (framing == Framing::kStream) {
    frame_size = kChannelDataHeaderSize + padded_length(length);
    if (frame_size > bytes.size()) return fail_reason("ChannelData padding truncated");
  }
  return ChannelDataView{channel, bytes.subspan(kChannelDataHeaderSize, length), frame_size};
}

Result<std::span<const uint8_t>, Reason> finish_channel_data(std::span<uint8_t> buffer,
                                                             uint16_t channel, size_t payload_size,
                                                             Framing framing) {
  if (!is_valid_channel_number(channel)) return fail_reason("channel number out of range");
  if (payload_size > kMaxChannelDataPayload) return fail_reason("ChannelData payload too large");
  const size_t frame_size =
      kChannelDataHeaderSize +
      (framing == Framing::kStream ? padded_length(payload_size) : payload_size);
  if (frame_size > buffer.size()) return fail_reason("buffer too small for ChannelData");
  detail::store_u16(buffer.data(), channel);
  detail::store_u16(buffer.data() + 2, static_cast<uint16_t>(payload_size));
  const size_t padding_start = kChannelDataHeaderSize + payload_size;
  std::memset(buffer.data() + padding_start, 0, frame_size - padding_start);
  return std::span<const uint8_t>(buffer.first(frame_size));
}

Result<std::span<const uint8_t>, Reason> encode_channel_data(std::span<uint8_t> buffer,
                                                             uint16_t channel,
                                                             std::span<const uint8_t> payload,
                                                             Framing framing) {
  if (payload.size() > kMaxChannelDataPayload) {
    return fail_reason("ChannelData payload too large");
  }
  if (buffer.size() < kChannelDataHeaderSize + payload.size()) {
    return fail_reason("buffer too small for ChannelData");
  }
  if (!payload.empty()) {
    std::memmove(buffer.data() + kChannelDataHeaderSize, payload.data(), payload.size());
  }
  return finish_channel_data(buffer, channel, payload.size(), framing);
}

}  // namespace podium::stun
