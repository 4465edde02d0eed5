// RFC 8656 section 7: Allocate and Refresh.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include <boost/asio/ip/udp.hpp>

#include "podium/common/random.hpp"
#include "podium/monitoring/logging.hpp"
#include "podium/stun/attributes.hpp"
#include "podium/stun/message_builder.hpp"
#include "turn/tcp_relay.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

std::chrono::seconds granted_lifetime(const config::RelayConfig& config,
                                      const stun::MessageView& message) {
  // Section 7.2 step 6 / 7.3: the requested LIFETIME, capped at the maximum; without one (or
  // below it) the default.
  auto requested = message.u32(stun::AttributeType::kLifetime);
  if (!requested) return config.default_lifetime;
  auto seconds = std::chrono::seconds(*requested);
  if (seconds > config.max_lifetime) return config.max_lifetime;
  if (seconds < config.default_lifetime) return config.default_lifetime;
  return seconds;
}

namespace {

constexpr std::uint8_t kProtocolUdp = 17;
constexpr std::uint8_t kProtocolTcp = 6;

// Section 7.2 step 4 (DONT-FRAGMENT): the relayed socket sets the DF bit (IPv4) or does not
// fragment (IPv6) by doing path MTU discovery on every datagram.
void set_dont_fragment(boost::asio::ip::udp::socket& socket) {
  boost::system::error_code ec;
  const auto local = socket.local_endpoint(ec);
  if (ec) return;
  if (local.address().is_v6()) {
    int pmtu = IPV6_PMTUDISC_DO;
    ::setsockopt(socket.native_handle(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
  } else {
    int pmtu = IP_PMTUDISC_DO;
    ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
  }
}

}  // namespace

bool Worker::bind_relayed_socket(boost::asio::ip::udp::socket& socket, bool v6, bool even_port,
                                 bool reserve_next, std::optional<std::uint64_t>& new_reservation) {
  auto& pool = shared_.relay_addresses;
  const auto protocol = v6 ? boost::asio::ip::udp::v6() : boost::asio::ip::udp::v4();
  boost::system::error_code ec;
  const std::size_t attempts = std::min<std::size_t>(pool.size(v6), 256);
  for (std::size_t i = 0; i < attempts; ++i) {
    const auto candidate = pool.next(v6);
    const std::uint16_t port = candidate.port();
    if (even_port && ((port & 1) || port == 65535)) continue;
    if (socket.is_open()) socket.close(ec);
    socket.open(protocol, ec);
    if (ec) return false;
    socket.bind(candidate, ec);
    if (ec) continue;
    if (reserve_next) {
      boost::asio::ip::udp::socket next(io_);
      next.open(protocol, ec);
      if (!ec) next.bind({candidate.address(), static_cast<std::uint16_t>(port + 1)}, ec);
      if (ec) continue;
      new_reservation = shared_.reservations.put(next.release(), now_);
    }
    return true;
  }
  if (socket.is_open()) socket.close(ec);
  return false;
}

void Worker::handle_allocate(const Inbound& in) {
  // Section 7.2 step 1: authenticate (every Allocate needs long-term credentials).
  auto auth = authenticate(in);
  if (!auth) return;
  const auto& message = in.message;

  // Step 2: an existing allocation on this 5-tuple: a retransmission gets the same answer,
  // anything else a 437.
  if (auto* existing = find_allocation(in.tuple)) {
    if (existing->allocate_transaction != message.transaction_id()) {
      return reply_error(in, 437, &auth->key);
    }
    // Fall through to answer the retransmission below.
    stun::MessageBuilder builder(scratch_);
    builder.start(stun::Method::kAllocate, stun::Class::kSuccessResponse, message.transaction_id());
    builder.add_xor_address(
        stun::AttributeType::kXorRelayedAddress,
        stun::Address{existing->relayed_address.ip(), existing->relayed_address.port()});
    if (existing->additional_socket.is_open()) {
      builder.add_xor_address(
          stun::AttributeType::kXorRelayedAddress,
          stun::Address{existing->additional_address.ip(), existing->additional_address.port()});
    }
    auto remaining = std::chrono::duration_cast<std::chrono::seconds>(existing->expires - now_);
    builder.add_u32(stun::AttributeType::kLifetime,
                    static_cast<std::uint32_t>(std::max<std::int64_t>(0, remaining.count())));
    builder.add_xor_address(stun::AttributeType::kXorMappedAddress,
                            stun::Address{in.tuple.client.ip(), in.tuple.client.port()});
    builder.add_message_integrity(existing->key);
    if (message.has(stun::AttributeType::kFingerprint)) builder.add_fingerprint();
    if (auto bytes = builder.finish()) send_to_client(in.link, in.tuple.client, *bytes, {}, 0);
    return;
  }

  // A draining relay (SIGTERM, POST /admin/drain) keeps its allocations but takes no new ones:
  // 508 Insufficient Capacity (RFC 8656 section 7.2 step 8) sends the client elsewhere.
  if (shared_.draining.load(std::memory_order_relaxed)) {
    return reply_error(in, 508, &auth->key);
  }

  // Step 3: REQUESTED-TRANSPORT must be present (400) and UDP (442).
  auto transport_attr = message.find(stun::AttributeType::kRequestedTransport);
  if (!transport_attr) return reply_error(in, 400, &auth->key);
  auto transport = stun::decode_requested_transport(*transport_attr);
  if (!transport) return reply_error(in, 400, &auth->key);
  // RFC 8016 section 3.1: MOBILITY-TICKET (empty) asks for a ticket; without relay.mobility, or
  // on a client transport that cannot move (TCP, TLS, DTLS: the allocation ends with the
  // connection), or for a TCP allocation, the request is refused with 405 (Mobility Forbidden).
  const bool mobility = message.has(stun::AttributeType::kMobilityTicket);
  if (mobility && (!policy_->config.mobility || in.tuple.transport != ClientTransport::udp ||
                   *transport == kProtocolTcp)) {
    return reply_error(in, 405, &auth->key);
  }

  // RFC 6062 section 5.1: TCP (6) makes a TCP allocation (turn/tcp_relay.cpp).
  if (*transport == kProtocolTcp) return tcp_relay_->handle_allocate(in, *auth);
  if (*transport != kProtocolUdp) return reply_error(in, 442, &auth->key);

  // Step 4: DONT-FRAGMENT is honoured by setting the relayed socket's DF bit (below).
  const bool dont_fragment = message.has(stun::AttributeType::kDontFragment);

  // Steps 5-6: RESERVATION-TOKEN (use a port reserved earlier) or EVEN-PORT (an even port,
  // with the R bit also reserving the next one). Both together are a 400.
  std::optional<std::uint64_t> reservation_token;
  if (auto token = message.find(stun::AttributeType::kReservationToken)) {
    if (token->value.size() != 8 || message.has(stun::AttributeType::kEvenPort)) {
      return reply_error(in, 400, &auth->key);
    }
    std::uint64_t value;
    std::memcpy(&value, token->value.data(), 8);
    reservation_token = value;
  }
  bool even_port = false;
  bool reserve_next = false;
  if (auto even = message.find(stun::AttributeType::kEvenPort)) {
    auto reserve = stun::decode_even_port(*even);
    if (!reserve) return reply_error(in, 400, &auth->key);
    even_port = true;
    reserve_next = *reserve;
  }

  // RFC 8656 section 7.2 step 7 (RFC 6156): REQUESTED-ADDRESS-FAMILY picks the relay addresses
  // of that family (440 if there are none); without it, IPv4 when the relay has an IPv4 address.
  // A RESERVATION-TOKEN already fixes the family, so both together are a 400.
  auto& pool = shared_.relay_addresses;
  bool want_v6 = pool.default_v6();
  const auto family_attr = message.find(stun::AttributeType::kRequestedAddressFamily);
  if (family_attr) {
    auto family = stun::decode_address_family(*family_attr);
    if (!family || reservation_token) return reply_error(in, 400, &auth->key);
    want_v6 = *family == stun::AddressFamily::kIPv6;
    if (!pool.offers(want_v6)) return reply_error(in, 440, &auth->key);
  }
  // ADDITIONAL-ADDRESS-FAMILY asks for a dual-stack allocation: an IPv6 relayed address besides
  // the IPv4 one. IPv6 is its only valid value, and it does not combine with
  // REQUESTED-ADDRESS-FAMILY or RESERVATION-TOKEN (400). A relay without addresses of one of
  // the families allocates the other alone and names the missing one in ADDRESS-ERROR-CODE.
  bool dual_stack = false;
  std::optional<stun::AddressFamily> missing_family;
  auto additional = message.find(stun::AttributeType::kAdditionalAddressFamily);
  const bool draft_code_points = !additional;
  if (!additional) additional = message.find(stun::AttributeType::kAdditionalAddressFamilyDraft);
  if (additional) {
    auto family = stun::decode_address_family(*additional);
    if (!family || *family != stun::AddressFamily::kIPv6 || family_attr || reservation_token) {
      return reply_error(in, 400, &auth->key);
    }
    dual_stack = pool.offers(false) && pool.offers(true);
    if (!dual_stack) {
      missing_family = pool.offers(false) ? stun::AddressFamily::kIPv6 : stun::AddressFamily::kIPv4;
    }
  }

  // Step 8: quotas (486 per user, 508 when the relay is full).
  auto quota = shared_.quota.acquire(auth->quota_user);
  if (quota != policy::QuotaResult::ok) {
    int code = policy::stun_error_code(quota);
    (code == 486 ? shared_.metrics.quota_refusal_user() : shared_.metrics.quota_refusal_total())
        .Increment();
    return reply_error(in, code, &auth->key);
  }

  // Obtain a relayed transport address from relay.relay_ports.
  auto allocation = std::make_unique<Allocation>(io_);
  auto protocol = want_v6 ? boost::asio::ip::udp::v6() : boost::asio::ip::udp::v4();
  boost::system::error_code ec;
  bool bound = false;
  std::optional<std::uint64_t> new_reservation;
  if (reservation_token) {
    int fd = shared_.reservations.take(*reservation_token);
    if (fd >= 0) {
      // The reserved socket's own family (the relay may have addresses of both).
      sockaddr_storage name{};
      socklen_t length = sizeof(name);
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&name), &length) == 0) {
        if (name.ss_family == AF_INET6) protocol = boost::asio::ip::udp::v6();
        allocation->relay_socket.assign(protocol, fd, ec);
        bound = !ec;
      } else {
        ::close(fd);
      }
    }
  } else {
    bound = bind_relayed_socket(allocation->relay_socket, want_v6, even_port, reserve_next,
                                new_reservation);
  }
  // The IPv6 socket of a dual-stack allocation: any port (EVEN-PORT is about the first).
  std::optional<std::uint64_t> no_reservation;
  if (bound && dual_stack &&
      !bind_relayed_socket(allocation->additional_socket, true, false, false, no_reservation)) {
    dual_stack = false;
    missing_family = stun::AddressFamily::kIPv6;  // no free IPv6 port: 508 for that family
  }
  if (!bound) {
    shared_.quota.release(auth->quota_user);
    shared_.metrics.quota_refusal_total().Increment();
    return reply_error(in, 508, &auth->key);
  }
  for (auto* socket : {&allocation->relay_socket, &allocation->additional_socket}) {
    if (!socket->is_open()) continue;
    socket->non_blocking(true, ec);
    if (dont_fragment) set_dont_fragment(*socket);
  }
  const auto local = allocation->relay_socket.local_endpoint(ec);
  const auto lifetime = granted_lifetime(policy_->config, message);

  allocation->id = random_token(6);
  allocation->five_tuple = in.tuple;
  allocation->link = in.link;
  allocation->username.assign(auth->username);
  allocation->quota_user.assign(auth->quota_user);
  allocation->key = auth->key;
  allocation->allocate_transaction = message.transaction_id();
  // XOR-RELAYED-ADDRESS: the address the socket is bound to, or external_ip (behind a NAT).
  const auto advertised = shared_.external_ip ? *shared_.external_ip : local.address();
  allocation->relayed_address = SocketAddress::from(advertised, local.port());
  if (dual_stack) {
    // external_ip names one address, so a dual-stack allocation advertises its IPv6 socket's own.
    const auto local6 = allocation->additional_socket.local_endpoint(ec);
    allocation->additional_address = SocketAddress::from(local6.address(), local6.port());
  }
  allocation->expires = now_ + lifetime;
  allocation->created = std::chrono::system_clock::now();
  allocation->bandwidth = policy::TokenBucket::for_bandwidth(policy_->config.allocation_bandwidth);
  allocation->permissions.reserve(4);

  // Step 9: the success response.
  stun::MessageBuilder builder(scratch_);
  builder.start(stun::Method::kAllocate, stun::Class::kSuccessResponse, message.transaction_id());
  builder.add_xor_address(stun::AttributeType::kXorRelayedAddress,
                          stun::Address{advertised, local.port()});
  if (dual_stack) {
    builder.add_xor_address(
        stun::AttributeType::kXorRelayedAddress,
        stun::Address{allocation->additional_address.ip(), allocation->additional_address.port()});
  } else if (missing_family) {
    // 440: the relay has no address of that family; 508: none of its ports was free.
    const bool configured = pool.offers(*missing_family == stun::AddressFamily::kIPv6);
    builder.add_address_error_code(
        *missing_family, configured ? 508 : 440,
        configured ? "Insufficient Capacity" : "Address Family not Supported",
        draft_code_points ? stun::AttributeType::kAddressErrorCodeDraft
                          : stun::AttributeType::kAddressErrorCode);
  }
  builder.add_u32(stun::AttributeType::kLifetime, static_cast<std::uint32_t>(lifetime.count()));
  builder.add_xor_address(stun::AttributeType::kXorMappedAddress,
                          stun::Address{in.tuple.client.ip(), in.tuple.client.port()});
  if (new_reservation) {
    std::array<std::uint8_t, 8> token;
    std::memcpy(token.data(), &*new_reservation, 8);
    builder.add_raw(stun::AttributeType::kReservationToken, token);
  }
  if (mobility) {
    allocation->mobility_ticket = shared_.mobility.issue(index_, in.tuple);
    builder.add_string(stun::AttributeType::kMobilityTicket, allocation->mobility_ticket);
  }
  if (!policy_->config.software.empty()) {
    builder.add_string(stun::AttributeType::kSoftware, policy_->config.software);
  }
  builder.add_message_integrity(auth->key);
  if (message.has(stun::AttributeType::kFingerprint)) builder.add_fingerprint();
  auto bytes = builder.finish();

  auto& stored = *allocation;
  allocations_.emplace(in.tuple, std::move(allocation));
  arm_relay(stored);
  if (stored.additional_socket.is_open()) arm_relay(stored, true);
  shared_.metrics.allocations_active(in.tuple.transport).Increment();
  shared_.metrics.allocations_created(in.tuple.transport).Increment();
  count_response(stun::Method::kAllocate, 200);
  auto logger = log::get("relay");
  log::with(*logger, spdlog::level::info, "allocation", stored.id,
            "user {} from {} over {}: relayed {} for {}s", stored.username,
            in.tuple.client.to_string(), to_string(in.tuple.transport),
            stored.relayed_address.to_string(), lifetime.count());
  if (bytes) send_to_client(in.link, in.tuple.client, *bytes, {}, 0);
}

void Worker::close_relayed_family(Allocation& allocation, bool v6) {
  boost::system::error_code ec;
  allocation.socket_for(v6).close(ec);
  const auto permissions = std::erase_if(
      allocation.permissions, [v6](const Permission& p) { return p.peer.is_v6() == v6; });
  const auto channels = std::erase_if(
      allocation.channels, [v6](const ChannelBinding& c) { return c.peer.is_v6() == v6; });
  shared_.metrics.permissions_active().Decrement(static_cast<double>(permissions));
  shared_.metrics.channels_active().Decrement(static_cast<double>(channels));
}

void Worker::handle_refresh(const Inbound& in, Allocation& allocation) {
  const auto& message = in.message;
  // RFC 8656 section 7.3: REQUESTED-ADDRESS-FAMILY that does not match the allocation is a 443.
  std::optional<bool> family_v6;
  if (auto family_attr = message.find(stun::AttributeType::kRequestedAddressFamily)) {
    auto family = stun::decode_address_family(*family_attr);
    if (!family) return reply_error(in, 400, &allocation.key);
    family_v6 = *family == stun::AddressFamily::kIPv6;
    if (!allocation.serves(*family_v6)) return reply_error(in, 443, &allocation.key);
  }
  std::uint32_t granted = 0;
  auto requested = message.u32(stun::AttributeType::kLifetime);
  const auth::Key key = allocation.key;
  const bool both_open =
      allocation.relay_socket.is_open() && allocation.additional_socket.is_open();
  if (requested && *requested == 0 && family_v6 && both_open) {
    // Section 7.3: on a dual-stack allocation, LIFETIME 0 with REQUESTED-ADDRESS-FAMILY deletes
    // the relayed address of that family only, with its permissions and channels.
    close_relayed_family(allocation, *family_v6);
  } else if (requested && *requested == 0) {
    // A LIFETIME of 0 deletes the allocation.
    shared_.metrics.allocations_deleted().Increment();
    delete_allocation(allocation, "refreshed with lifetime 0");
  } else {
    auto lifetime = granted_lifetime(policy_->config, message);
    allocation.expires = now_ + lifetime;
    granted = static_cast<std::uint32_t>(lifetime.count());
  }
  stun::MessageBuilder builder(scratch_);
  builder.start(stun::Method::kRefresh, stun::Class::kSuccessResponse, message.transaction_id());
  builder.add_u32(stun::AttributeType::kLifetime, granted);
  // RFC 8016 section 3.2: a Refresh with MOBILITY-TICKET on the allocation's own 5-tuple (a
  // retransmission after a move, or a client refreshing as usual) gets the current ticket.
  if (granted != 0 && message.has(stun::AttributeType::kMobilityTicket) &&
      !allocation.mobility_ticket.empty()) {
    builder.add_string(stun::AttributeType::kMobilityTicket, allocation.mobility_ticket);
  }
  builder.add_message_integrity(key);
  if (message.has(stun::AttributeType::kFingerprint)) builder.add_fingerprint();
  count_response(stun::Method::kRefresh, 200);
  if (auto bytes = builder.finish()) send_to_client(in.link, in.tuple.client, *bytes, {}, 0);
}

}  // namespace podium::relay
