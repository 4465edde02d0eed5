// The packet path: Send indications and ChannelData from clients (RFC 8656 sections 10.2 and
// 12.4), Data indications and ChannelData towards clients (sections 10.3 and 12.5). No heap
// allocation and no lock per packet: headers are written into the send batch's headroom and
// payloads are sent straight from the receive buffers.
#include "podium/stun/channel_data.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/xor_address.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

namespace {
// Data indication (section 10.3) up to the DATA attribute's value: header, XOR-PEER-ADDRESS and
// the DATA attribute header. The payload and its padding follow from elsewhere.
Result<std::span<const std::uint8_t>, Reason> write_data_indication_head(
    std::span<std::uint8_t> out, const stun::TransactionId& transaction, const stun::Address& peer,
    std::size_t payload_size) {
  stun::MessageBuilder builder(out);
  builder.start(stun::Method::kData, stun::Class::kIndication, transaction);
  builder.add_xor_address(stun::AttributeType::kXorPeerAddress, peer);
  if (!builder.ok() || builder.size() + stun::kAttributeHeaderSize > out.size()) {
    return fail_reason("no room for the Data indication header");
  }
  std::size_t size = builder.size();
  const std::size_t message_length =
      size - stun::kHeaderSize + stun::kAttributeHeaderSize + stun::padded_length(payload_size);
  if (message_length > stun::kMaxBodySize) return fail_reason("payload too large");
  const auto data_type = stun::to_underlying(stun::AttributeType::kData);
  out[size + 0] = static_cast<std::uint8_t>(data_type >> 8);
  out[size + 1] = static_cast<std::uint8_t>(data_type);
  out[size + 2] = static_cast<std::uint8_t>(payload_size >> 8);
  out[size + 3] = static_cast<std::uint8_t>(payload_size);
  out[2] = static_cast<std::uint8_t>(message_length >> 8);
  out[3] = static_cast<std::uint8_t>(message_length);
  return std::span<const std::uint8_t>(out.first(size + stun::kAttributeHeaderSize));
}

std::uint64_t nanos(SteadyTime t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}
}  // namespace

void Worker::handle_send_indication(const Inbound& in, Allocation& allocation) {
  const auto& message = in.message;
  // Section 10.2: XOR-PEER-ADDRESS and DATA must be present; a peer without permission, or
  // refused by policy, is silently dropped (indications are never answered).
  auto peer_attr = message.find(stun::AttributeType::kXorPeerAddress);
  auto data = message.find(stun::AttributeType::kData);
  if (!peer_attr || !data) {
    ++counters_.drops[static_cast<std::size_t>(Drop::malformed)];
    return;
  }
  auto decoded = stun::decode_xor_address(*peer_attr, message.transaction_id());
  if (!decoded) {
    ++counters_.drops[static_cast<std::size_t>(Drop::malformed)];
    return;
  }
  auto address = decoded->normalized();
  auto peer = SocketAddress::from(address.ip, address.port);
  if (!allocation.find_permission(peer)) {
    ++counters_.drops[static_cast<std::size_t>(Drop::no_permission)];
    return;
  }
  if (!check_peer(in, address)) {
    ++counters_.drops[static_cast<std::size_t>(Drop::peer_refused)];
    return;
  }
  send_to_peer(allocation, peer, data->value);
}

void Worker::handle_channel_data(Allocation& allocation, std::span<const std::uint8_t> bytes) {
  // Section 12.4: over TCP/TLS frames are padded; over UDP padding is optional.
  auto framing = is_datagram(allocation.five_tuple.transport) ? stun::Framing::kDatagram
                                                              : stun::Framing::kStream;
  auto channel_data = stun::parse_channel_data(bytes, framing);
  if (!channel_data) {
    ++counters_.drops[static_cast<std::size_t>(Drop::malformed)];
    return;
  }
  auto* binding = allocation.find_channel(channel_data->channel);
  if (!binding) {
    ++counters_.drops[static_cast<std::size_t>(Drop::unknown_channel)];
    return;
  }
  // A bound channel implies a permission, which may have lapsed separately.
  if (!allocation.find_permission(binding->peer)) {
    ++counters_.drops[static_cast<std::size_t>(Drop::no_permission)];
    return;
  }
  send_to_peer(allocation, binding->peer, channel_data->payload);
}

void Worker::send_to_peer(Allocation& allocation, const SocketAddress& peer,
                          std::span<const std::uint8_t> payload) {
  if (!allocation.bandwidth.unlimited() &&
      !allocation.bandwidth.consume(payload.size(), nanos(now_))) {
    ++counters_.drops[static_cast<std::size_t>(Drop::bandwidth)];
    return;
  }
  // A dual-stack allocation sends through the relayed socket of the peer's family.
  auto& entry = send_->next();
  entry.fd = allocation.socket_for(peer.is_v6()).native_handle();
  entry.destination = peer;
  entry.payload = payload;
  send_->commit();
  allocation.bytes_to_peer += payload.size();
  ++counters_.packets_client_to_peer;
  counters_.bytes_client_to_peer += payload.size();
}

void Worker::relay_to_client(Allocation& allocation, const SocketAddress& peer,
                             std::span<const std::uint8_t> payload) {
  // Section 10.3 / 12.5: data from a peer without a permission is dropped.
  if (!allocation.find_permission(peer)) {
    ++counters_.drops[static_cast<std::size_t>(Drop::no_permission)];
    return;
  }
  if (!allocation.bandwidth.unlimited() &&
      !allocation.bandwidth.consume(payload.size(), nanos(now_))) {
    ++counters_.drops[static_cast<std::size_t>(Drop::bandwidth)];
    return;
  }
  const bool stream = !is_datagram(allocation.five_tuple.transport);
  std::array<std::uint8_t, 64> head{};
  std::span<const std::uint8_t> header;
  std::size_t padding = 0;
  if (auto* binding = allocation.find_channel(peer)) {
    // ChannelData (section 12.4): channel number and length, then the payload, padded to 4
    // bytes over TCP/TLS.
    if (payload.size() > stun::kMaxChannelDataPayload) return;
    head[0] = static_cast<std::uint8_t>(binding->number >> 8);
    head[1] = static_cast<std::uint8_t>(binding->number);
    head[2] = static_cast<std::uint8_t>(payload.size() >> 8);
    head[3] = static_cast<std::uint8_t>(payload.size());
    header = std::span<const std::uint8_t>(head.data(), stun::kChannelDataHeaderSize);
    if (stream) padding = stun::padded_length(payload.size()) - payload.size();
  } else {
    // Data indication: header, XOR-PEER-ADDRESS and the DATA attribute header; the payload
    // follows from the receive buffer, then the attribute padding.
    stun::TransactionId transaction{};
    next_transaction_id(transaction);
    auto written = write_data_indication_head(
        head, transaction, stun::Address{peer.ip(), peer.port()}, payload.size());
    if (!written) {
      ++counters_.drops[static_cast<std::size_t>(Drop::malformed)];
      return;
    }
    header = *written;
    padding = stun::padded_length(payload.size()) - payload.size();
  }
  send_to_client(allocation.link, allocation.five_tuple.client, header, payload, padding);
  allocation.bytes_to_client += payload.size();
  ++counters_.packets_peer_to_client;
  counters_.bytes_peer_to_client += payload.size();
}

}  // namespace podium::relay
