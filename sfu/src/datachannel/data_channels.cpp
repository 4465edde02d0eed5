#include "datachannel/data_channels.hpp"

#include <limits>

namespace podium::sfu::datachannel {

const char* to_string(ChannelError error) {
  switch (error) {
    case ChannelError::bad_dcep:
      return "bad_dcep";
    case ChannelError::stream_parity:
      return "stream_parity";
    case ChannelError::stream_in_use:
      return "stream_in_use";
    case ChannelError::unknown_stream:
      return "unknown_stream";
    case ChannelError::unknown_ppid:
      return "unknown_ppid";
    case ChannelError::count:
      break;
  }
  return "unknown";
}

DataChannels::DataChannels(const DataChannelOptions& options, DataChannelObserver& observer)
    : options_(options),
      observer_(observer),
      transport_(sctp::create_usrsctp_transport(options.sctp, *this)),
      next_stream_(options.dtls_client ? 0 : 1),
      max_send_(options.remote_max_message_size == 0 ? std::numeric_limits<std::size_t>::max()
                                                     : options.remote_max_message_size) {}

DataChannels::~DataChannels() {
  transport_.reset();
}

void DataChannels::start() {
  transport_->connect();
}

void DataChannels::receive_packet(std::span<const std::uint8_t> packet) {
  transport_->receive_packet(packet);
}

void DataChannels::close() {
  transport_->close();
}

Result<std::uint16_t, Reason> DataChannels::open(std::string_view label,
                                                 std::string_view protocol) {
  if (!connected()) return fail_reason("SCTP is not connected");
  while (channels_.contains(next_stream_)) next_stream_ += 2;
  if (next_stream_ >= 256) return fail_reason("no free stream id");
  const std::uint16_t stream = next_stream_;
  next_stream_ += 2;
  OpenMessage open;
  open.label = std::string(label);
  open.protocol = std::string(protocol);
  auto bytes = serialize_open(open);
  if (transport_->send(stream, sctp::kPpidDcep, bytes) != sctp::SendStatus::sent) {
    return fail_reason("DATA_CHANNEL_OPEN could not be sent");
  }
  channels_[stream] = Channel{open.label, open.protocol, true, true, false};
  return stream;
}

const Channel* DataChannels::channel(std::uint16_t stream) const {
  auto it = channels_.find(stream);
  return it == channels_.end() ? nullptr : &it->second;
}

std::optional<std::uint16_t> DataChannels::find(std::string_view label) const {
  for (const auto& [stream, channel] : channels_) {
    if (channel.label == label) return stream;
  }
  return std::nullopt;
}

sctp::SendStatus DataChannels::send(std::uint16_t stream, std::uint32_t ppid,
                                    std::span<const std::uint8_t> bytes) {
  if (!channels_.contains(stream) || bytes.size() > max_send_) return sctp::SendStatus::failed;
  return transport_->send(stream, ppid, bytes);
}

sctp::SendStatus DataChannels::send_text(std::uint16_t stream, std::string_view text) {
  if (text.empty()) {
    // RFC 8831 section 6.6: an empty message is one zero byte with the "empty" PPID.
    static constexpr std::uint8_t kZero[1] = {0};
    return send(stream, sctp::kPpidStringEmpty, kZero);
  }
  return send(stream, sctp::kPpidString,
              {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

sctp::SendStatus DataChannels::send_binary(std::uint16_t stream,
                                           std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) {
    static constexpr std::uint8_t kZero[1] = {0};
    return send(stream, sctp::kPpidBinaryEmpty, kZero);
  }
  return send(stream, sctp::kPpidBinary, bytes);
}

void DataChannels::on_sctp_packet(std::span<const std::uint8_t> packet) {
  observer_.on_data_packet(packet);
}

void DataChannels::on_sctp_state(sctp::State state) {
  if (state == sctp::State::connected) observer_.on_data_connected();
  if (state == sctp::State::closed) observer_.on_data_closed();
}

void DataChannels::on_sctp_writable() {
  observer_.on_data_writable();
}

void DataChannels::on_sctp_error(sctp::Error error) {
  observer_.on_sctp_error(error);
}

void DataChannels::on_sctp_stream_reset(std::uint16_t stream) {
  // RFC 8831 section 6.7: the peer reset its outgoing stream; reset ours and the channel is
  // closed.
  if (channels_.erase(stream) == 0) return;
  transport_->reset_stream(stream);
  observer_.on_channel_closed(stream);
}

void DataChannels::on_sctp_message(sctp::Message&& message) {
  switch (message.ppid) {
    case sctp::kPpidDcep:
      return handle_dcep(message);
    case sctp::kPpidString:
    case sctp::kPpidBinary:
    case sctp::kPpidStringEmpty:
    case sctp::kPpidBinaryEmpty: {
      if (!channels_.contains(message.stream)) {
        observer_.on_channel_error(ChannelError::unknown_stream);
        return;
      }
      const bool binary =
          message.ppid == sctp::kPpidBinary || message.ppid == sctp::kPpidBinaryEmpty;
      if (message.ppid == sctp::kPpidStringEmpty || message.ppid == sctp::kPpidBinaryEmpty) {
        message.size = 0;
      }
      const std::uint16_t stream = message.stream;
      observer_.on_channel_message(stream, binary, std::move(message));
      return;
    }
    default:
      observer_.on_channel_error(ChannelError::unknown_ppid);
      return;
  }
}

void DataChannels::handle_dcep(const sctp::Message& message) {
  auto kind = classify(message.bytes());
  if (!kind) {
    observer_.on_channel_error(ChannelError::bad_dcep);
    return;
  }
  if (*kind == MessageKind::ack) {
    auto it = channels_.find(message.stream);
    if (it != channels_.end()) it->second.acked = true;
    return;
  }
  auto open = parse_open(message.bytes());
  if (!open) {
    observer_.on_channel_error(ChannelError::bad_dcep);
    return;
  }
  // RFC 8832 section 6: the peer's channels use the other parity. Some stacks pick the parity
  // from their ICE role instead (aiortc 1.4); such an OPEN is counted and still accepted while
  // the stream is free, since refusing it only leaves the peer's channel hanging.
  const bool peer_is_client = !options_.dtls_client;
  if ((message.stream % 2 == 0) != peer_is_client) {
    observer_.on_channel_error(ChannelError::stream_parity);
  }
  if (channels_.contains(message.stream)) {
    observer_.on_channel_error(ChannelError::stream_in_use);
    return;
  }
  auto& channel = channels_[message.stream];
  channel = Channel{open->label, open->protocol, open->ordered(), false, true};
  // RFC 8832 section 6: acknowledge on the same stream.
  const auto ack = serialize_ack();
  transport_->send(message.stream, sctp::kPpidDcep, ack);
  observer_.on_channel_open(message.stream, channel);
}

}  // namespace podium::sfu::datachannel
