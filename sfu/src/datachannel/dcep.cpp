#include "datachannel/dcep.hpp"

namespace podium::sfu::datachannel {

namespace {

std::uint16_t read16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}
std::uint32_t read32(std::span<const std::uint8_t> bytes, std::size_t at) {
  return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
         (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
}
bool known_channel_type(std::uint8_t type) {
  switch (type) {
    case 0x00:
    case 0x80:
    case 0x01:
    case 0x81:
    case 0x02:
    case 0x82:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<MessageKind, Reason> classify(std::span<const std::uint8_t> message) {
  if (message.empty()) return fail_reason("empty DCEP message");
  switch (message[0]) {
    case kDataChannelOpen:
      return MessageKind::open;
    case kDataChannelAck:
      return MessageKind::ack;
    default:
      return fail_reason("unknown DCEP message type");
  }
}

Result<OpenMessage, Reason> parse_open(std::span<const std::uint8_t> message) {
  // RFC 8832 section 5.1: type(1) channel type(1) priority(2) reliability(4) label length(2)
  // protocol length(2), label, protocol.
  constexpr std::size_t kHeader = 12;
  if (message.size() < kHeader) return fail_reason("DATA_CHANNEL_OPEN shorter than its header");
  if (message[0] != kDataChannelOpen) return fail_reason("not a DATA_CHANNEL_OPEN");
  if (!known_channel_type(message[1])) return fail_reason("unknown channel type");
  const std::size_t label_length = read16(message, 8);
  const std::size_t protocol_length = read16(message, 10);
  if (message.size() != kHeader + label_length + protocol_length) {
    return fail_reason("DATA_CHANNEL_OPEN lengths do not match the message");
  }
  OpenMessage open;
  open.channel_type = static_cast<ChannelType>(message[1]);
  open.priority = read16(message, 2);
  open.reliability = read32(message, 4);
  const auto* text = reinterpret_cast<const char*>(message.data() + kHeader);
  open.label.assign(text, label_length);
  open.protocol.assign(text + label_length, protocol_length);
  return open;
}

std::vector<std::uint8_t> serialize_open(const OpenMessage& open) {
  std::vector<std::uint8_t> out;
  out.reserve(12 + open.label.size() + open.protocol.size());
  out.push_back(kDataChannelOpen);
  out.push_back(static_cast<std::uint8_t>(open.channel_type));
  out.push_back(static_cast<std::uint8_t>(open.priority >> 8));
  out.push_back(static_cast<std::uint8_t>(open.priority));
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(open.reliability >> shift));
  }
  const auto label = static_cast<std::uint16_t>(std::min<std::size_t>(open.label.size(), 0xffff));
  const auto protocol =
      static_cast<std::uint16_t>(std::min<std::size_t>(open.protocol.size(), 0xffff));
  out.push_back(static_cast<std::uint8_t>(label >> 8));
  out.push_back(static_cast<std::uint8_t>(label));
  out.push_back(static_cast<std::uint8_t>(protocol >> 8));
  out.push_back(static_cast<std::uint8_t>(protocol));
  out.insert(out.end(), open.label.begin(), open.label.begin() + label);
  out.insert(out.end(), open.protocol.begin(), open.protocol.begin() + protocol);
  return out;
}

}  // namespace podium::sfu::datachannel
