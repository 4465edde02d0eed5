// RFC 8656 section 9 (CreatePermission) and section 11 (ChannelBind), with the peer policy that
// keeps the relay from being used to reach internal networks.
#include "podium/monitoring/logging.hpp"
#include "podium/stun/attributes.hpp"
#include "podium/stun/channel_data.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/xor_address.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

namespace {

constexpr auto kPermissionLifetime = std::chrono::seconds(300);  // section 9
constexpr auto kChannelLifetime = std::chrono::seconds(600);     // section 12
// Bounds on per-allocation state, so one client cannot grow the relay's memory without limit.
constexpr std::size_t kMaxPermissions = 64;
constexpr std::size_t kMaxChannels = 64;

}  // namespace

// The SSRF defence: refuses loopback, private, link-local and the relay's own addresses
// unless relay.allow_peers says otherwise. Counted by reason.
bool Worker::check_peer(const Inbound& in, const stun::Address& peer) {
  (void)in;
  auto refusal = policy_->peer_policy.check(peer.ip, peer.port);
  if (refusal == policy::PeerRefusal::none) return true;
  ++counters_.peer_refusals[static_cast<std::size_t>(refusal)];
  return false;
}

void Worker::handle_create_permission(const Inbound& in, Allocation& allocation) {
  const auto& message = in.message;
  // Section 9.2 step 1: at least one XOR-PEER-ADDRESS, each decodable (else 400) and of the
  // family of one of the allocation's relayed addresses (else 443); every one must be acceptable
  // (else 403) before any is installed.
  std::array<SocketAddress, stun::MessageView::kMaxAttributes> peers;
  std::size_t count = 0;
  for (auto attribute : message.find_all(stun::AttributeType::kXorPeerAddress)) {
    auto peer = stun::decode_xor_address(attribute, message.transaction_id());
    if (!peer) return reply_error(in, 400, &allocation.key);
    auto address = peer->normalized();
    if (!allocation.serves(address.ip.is_v6())) {
      return reply_error(in, 443, &allocation.key);
    }
    if (!check_peer(in, address)) return reply_error(in, 403, &allocation.key);
    peers[count++] = SocketAddress::from(address.ip, address.port);
  }
  if (count == 0) return reply_error(in, 400, &allocation.key);

  // Step 2: install or refresh each permission for 300 seconds.
  for (std::size_t i = 0; i < count; ++i) {
    if (auto* existing = allocation.find_permission(peers[i])) {
      existing->expires = now_ + kPermissionLifetime;
    } else {
      if (allocation.permissions.size() >= kMaxPermissions) {
        return reply_error(in, 508, &allocation.key);
      }
      allocation.permissions.push_back({peers[i], now_ + kPermissionLifetime});
      shared_.metrics.permissions_active().Increment();
    }
  }
  stun::MessageBuilder builder(scratch_);
  builder.start(stun::Method::kCreatePermission, stun::Class::kSuccessResponse,
                message.transaction_id());
  builder.add_message_integrity(allocation.key);
  if (message.has(stun::AttributeType::kFingerprint)) builder.add_fingerprint();
  count_response(stun::Method::kCreatePermission, 200);
  if (auto bytes = builder.finish()) send_to_client(in.link, in.tuple.client, *bytes, {}, 0);
}

void Worker::handle_channel_bind(const Inbound& in, Allocation& allocation) {
  const auto& message = in.message;
  // Section 11.2: CHANNEL-NUMBER in 0x4000-0x4FFF (up to 0x7FFF, as RFC 5766 allowed) and one
  // XOR-PEER-ADDRESS, else 400.
  auto channel_attr = message.find(stun::AttributeType::kChannelNumber);
  if (!channel_attr) return reply_error(in, 400, &allocation.key);
  auto number = stun::decode_channel_number(*channel_attr);
  if (!number || !stun::is_acceptable_channel_number(*number)) {
    return reply_error(in, 400, &allocation.key);
  }
  auto peer_attr = message.find(stun::AttributeType::kXorPeerAddress);
  if (!peer_attr) return reply_error(in, 400, &allocation.key);
  auto decoded = stun::decode_xor_address(*peer_attr, message.transaction_id());
  if (!decoded) return reply_error(in, 400, &allocation.key);
  auto address = decoded->normalized();
  if (!allocation.serves(address.ip.is_v6())) {
    return reply_error(in, 443, &allocation.key);
  }
  if (!check_peer(in, address)) return reply_error(in, 403, &allocation.key);
  const auto peer = SocketAddress::from(address.ip, address.port);

  // The channel must not be bound to another peer, nor the peer to another channel (400).
  auto* by_number = allocation.find_channel(*number);
  auto* by_peer = allocation.find_channel(peer);
  if ((by_number && !(by_number->peer == peer)) || (by_peer && by_peer->number != *number)) {
    return reply_error(in, 400, &allocation.key);
  }
  if (by_number) {
    by_number->expires = now_ + kChannelLifetime;
  } else {
    if (allocation.channels.size() >= kMaxChannels) return reply_error(in, 508, &allocation.key);
    allocation.channels.push_back(ChannelBinding{*number, peer, now_ + kChannelLifetime});
    shared_.metrics.channels_active().Increment();
  }
  // Binding a channel also installs or refreshes the permission for the peer's IP.
  if (auto* permission = allocation.find_permission(peer)) {
    permission->expires = now_ + kPermissionLifetime;
  } else {
    allocation.permissions.push_back(Permission{peer, now_ + kPermissionLifetime});
    shared_.metrics.permissions_active().Increment();
  }
  log::with(*log::get("relay"), spdlog::level::debug, "allocation", allocation.id,
            "channel {:#06x} bound to {}", *number, peer.to_string());
  stun::MessageBuilder builder(scratch_);
  builder.start(stun::Method::kChannelBind, stun::Class::kSuccessResponse,
                message.transaction_id());
  builder.add_message_integrity(allocation.key);
  if (message.has(stun::AttributeType::kFingerprint)) builder.add_fingerprint();
  count_response(stun::Method::kChannelBind, 200);
  if (auto bytes = builder.finish()) send_to_client(in.link, in.tuple.client, *bytes, {}, 0);
}

}  // namespace podium::relay
