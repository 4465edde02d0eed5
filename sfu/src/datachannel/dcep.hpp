// The Data Channel Establishment Protocol (RFC 8832): DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK,
// sent with PPID 50 on the stream of the channel they open.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "podium/common/result.hpp"

namespace podium::sfu::datachannel {

// RFC 8832 section 8.2.1: message types.
inline constexpr std::uint8_t kDataChannelAck = 0x02;
inline constexpr std::uint8_t kDataChannelOpen = 0x03;

// RFC 8832 section 5.1: channel types.
enum class ChannelType : std::uint8_t {
  reliable = 0x00,
  reliable_unordered = 0x80,
  partial_reliable_rexmit = 0x01,
  partial_reliable_rexmit_unordered = 0x81,
  partial_reliable_timed = 0x02,
  partial_reliable_timed_unordered = 0x82,
};

struct OpenMessage {
  ChannelType channel_type = ChannelType::reliable;
  std::uint16_t priority = 256;  // RFC 8831 section 6.4 "normal"
  std::uint32_t reliability = 0;
  std::string label;
  std::string protocol;

  bool ordered() const { return (static_cast<std::uint8_t>(channel_type) & 0x80) == 0; }
};

enum class MessageKind : std::uint8_t { open, ack };

// The type byte of a DCEP message, or why it is not one.
Result<MessageKind, Reason> classify(std::span<const std::uint8_t> message);

// RFC 8832 section 5.1: 12-byte header, then label and protocol of the given lengths.
Result<OpenMessage, Reason> parse_open(std::span<const std::uint8_t> message);
std::vector<std::uint8_t> serialize_open(const OpenMessage& open);
// RFC 8832 section 5.2: a single byte.
inline std::vector<std::uint8_t> serialize_ack() {
  return {kDataChannelAck};
}

}  // namespace podium::sfu::datachannel
