// Telling apart the protocols multiplexed on one 5-tuple by the first byte (RFC 7983 §7):
// the SFU's ICE-lite port carries STUN, DTLS, RTP/RTCP and, via a TURN server, ChannelData.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "podium/stun/constants.hpp"

namespace podium::stun {

enum class PacketKind : uint8_t { kStun, kZrtp, kDtls, kTurnChannel, kRtp, kUnknown };

// RFC 7983: 0-3 STUN, 16-19 ZRTP, 20-63 DTLS, 64-79 TURN channel, 128-191 RTP/RTCP.
constexpr PacketKind classify_first_byte(uint8_t b) {
  if (b <= 3) return PacketKind::kStun;
  if (b >= 16 && b <= 19) return PacketKind::kZrtp;
  if (b >= 20 && b <= 63) return PacketKind::kDtls;
  if (b >= 64 && b <= 79) return PacketKind::kTurnChannel;
  if (b >= 128 && b <= 191) return PacketKind::kRtp;
  return PacketKind::kUnknown;
}

constexpr PacketKind classify_packet(std::span<const uint8_t> packet) {
  return packet.empty() ? PacketKind::kUnknown : classify_first_byte(packet[0]);
}

// RTCP rather than RTP on a muxed port (RFC 5761 §4): packet types 192-223 in byte 1.
constexpr bool is_rtcp(std::span<const uint8_t> packet) {
  return packet.size() >= 2 && packet[1] >= 192 && packet[1] <= 223;
}

// Cheap pre-check before MessageView::parse: a 20-byte header with zero top bits, the magic
// cookie and a length (multiple of 4) that matches the datagram.
constexpr bool looks_like_stun(std::span<const uint8_t> packet) {
  if (packet.size() < kHeaderSize || (packet[0] & 0xC0) != 0) return false;
  const size_t length = (size_t{packet[2]} << 8) | packet[3];
  const uint32_t cookie = (uint32_t{packet[4]} << 24) | (uint32_t{packet[5]} << 16) |
                          (uint32_t{packet[6]} << 8) | uint32_t{packet[7]};
  return length % 4 == 0 && kHeaderSize + length == packet.size() && cookie == kMagicCookie;
}

}  // namespace podium::stun
