// ChannelData messages (RFC 8656 §12.4, §12.5): a 4-byte header (channel number, length)
// followed by application data, sent on a channel bound with ChannelBind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>

#include "podium/common/result.hpp"

namespace podium::stun {

// RFC 8656 §12: 0x4000-0x4FFF are channel numbers; 0x5000-0x7FFF are reserved.
inline constexpr uint16_t kMinChannelNumber = 0x4000;
inline constexpr uint16_t kMaxChannelNumber = 0x4FFF;
inline constexpr size_t kChannelDataHeaderSize = 4;
inline constexpr size_t kMaxChannelDataPayload = 0xFFFF;

constexpr bool is_valid_channel_number(uint16_t channel) {
  return channel >= kMinChannelNumber && channel <= kMaxChannelNumber;
}

// What a server accepts from clients: RFC 5766 allowed 0x4000-0x7FFF and clients still pick
// from it (coturn's turnutils_uclient among them), so decoding takes the wider range while
// encoding stays within RFC 8656's. Both start with the bits 01, so RFC 7983 demultiplexing is
// the same either way.
inline constexpr uint16_t kMaxLegacyChannelNumber = 0x7FFF;
constexpr bool is_acceptable_channel_number(uint16_t channel) {
  return channel >= kMinChannelNumber && channel <= kMaxLegacyChannelNumber;
}

// Datagram: UDP/DTLS, where padding is optional. Stream: TCP/TLS, where each frame is padded
// to a multiple of 4 bytes (RFC 8656 §12.5).
enum class Framing : uint8_t { kDatagram, kStream };

struct ChannelDataView {
  uint16_t channel = 0;
  std::span<const uint8_t> payload;
  // Header + payload, plus the padding for stream framing: where the next frame starts.
  size_t frame_size = 0;
};

// Parses the frame at the start of `bytes`. Over datagrams any bytes after the payload are
// padding and ignored; over streams `bytes` must hold the whole padded frame.
Result<ChannelDataView, Reason> parse_channel_data(std::span<const uint8_t> bytes,
                                                   Framing framing = Framing::kDatagram);
// The view would dangle: parsing a temporary container is a compile-time error.
template <std::ranges::range R>
requires(!std::ranges::borrowed_range<R>) Result<ChannelDataView, Reason> parse_channel_data(
    R&& temporary, Framing = Framing::kDatagram)
= delete;

// Writes the header into buffer[0..4) for a payload already placed at buffer[4..4+size) and,
// for stream framing, zero padding after it. Returns the frame to send.
Result<std::span<const uint8_t>, Reason> finish_channel_data(std::span<uint8_t> buffer,
                                                             uint16_t channel, size_t payload_size,
                                                             Framing framing = Framing::kDatagram);
// Copies `payload` after the header, then finish_channel_data().
Result<std::span<const uint8_t>, Reason> encode_channel_data(std::span<uint8_t> buffer,
                                                             uint16_t channel,
                                                             std::span<const uint8_t> payload,
                                                             Framing framing = Framing::kDatagram);

}  // namespace podium::stun
