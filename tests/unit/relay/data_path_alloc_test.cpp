// The relay's packet path makes no heap allocation: a real RelayServer relays ChannelData both
// ways between a client and a peer socket while operator new is counted process-wide.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include <gtest/gtest.h>

#include "allocation_counter.hpp"

#include "auth/credentials.hpp"
#include "podium/config/config.hpp"
#include "podium/monitoring/metrics.hpp"
#include "podium/relay/relay_server.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/xor_address.hpp"

namespace {

using namespace podium;

int udp_socket(const char* ip) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip, &addr.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

sockaddr_in endpoint(const boost::asio::ip::address& ip, std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  auto bytes = ip.to_v4().to_bytes();
  std::memcpy(&addr.sin_addr, bytes.data(), 4);
  return addr;
}

sockaddr_in local_of(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return addr;
}

struct TurnClient {
  int fd;
  sockaddr_in server;
  std::array<std::uint8_t, 2048> buffer{};
  std::string nonce;
  relay::auth::Key key{};

  std::optional<stun::MessageView> transact(std::span<const std::uint8_t> request) {
    ::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&server),
             sizeof(server));
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) return std::nullopt;
    auto parsed = stun::MessageView::parse(std::span<const std::uint8_t>(buffer.data(), n));
    if (!parsed) return std::nullopt;
    return *parsed;
  }

  std::span<const std::uint8_t> request(std::array<std::uint8_t, 512>& out, stun::Method method,
                                        auto&& add) {
    stun::MessageBuilder builder(out);
    stun::TransactionId id{};
    for (auto& b : id) b = static_cast<std::uint8_t>(std::rand());
    builder.start(method, stun::Class::kRequest, id);
    add(builder);
    if (!nonce.empty()) {
      builder.add_username("alice");
      builder.add_realm("test");
      builder.add_nonce(nonce);
      builder.add_message_integrity(key);
    }
    return *builder.finish();
  }
};

TEST(RelayDataPath, RelaysWithoutHeapAllocation) {
  config::RelayConfig relay;
  relay.listen = {*config::parse_listen_url("udp://127.0.0.1:0")};
  relay.realm = "test";
  relay.users = {{"alice", "secret"}};
  relay.allow_peers = {*config::parse_cidr("127.0.0.0/8")};
  relay.relay_ports = {40000, 40999};
  relay.workers = 1;
  monitoring::Metrics metrics("test");
  relay::RelayServer server(relay, metrics);
  server.start();
  const auto listener = server.listeners().at(0).endpoint;

  TurnClient client{udp_socket("127.0.0.1"), endpoint(listener.address, listener.port), {}, {}, {}};
  int peer = udp_socket("127.0.0.2");
  const auto peer_addr = local_of(peer);
  const stun::Address peer_address{boost::asio::ip::make_address("127.0.0.2"),
                                   ntohs(peer_addr.sin_port)};
  std::array<std::uint8_t, 512> out{};

  // Allocate: the 401 challenge, then with credentials.
  auto challenge = client.transact(client.request(out, stun::Method::kAllocate, [](auto& b) {
    b.add_requested_transport(17);
  }));
  ASSERT_TRUE(challenge);
  client.nonce = std::string(*challenge->string(stun::AttributeType::kNonce));
  client.key = relay::auth::long_term_key("alice", "test", "secret");
  auto allocated = client.transact(client.request(out, stun::Method::kAllocate, [](auto& b) {
    b.add_requested_transport(17);
  }));
  ASSERT_TRUE(allocated);
  ASSERT_EQ(allocated->cls(), stun::Class::kSuccessResponse);
  auto relayed = allocated->xor_address(stun::AttributeType::kXorRelayedAddress);
  ASSERT_TRUE(relayed);
  auto bound = client.transact(client.request(out, stun::Method::kChannelBind, [&](auto& b) {
    b.add_channel_number(0x4001);
    b.add_xor_address(stun::AttributeType::kXorPeerAddress, peer_address);
  }));
  ASSERT_TRUE(bound);
  ASSERT_EQ(bound->cls(), stun::Class::kSuccessResponse);

  const auto relayed_addr = endpoint(relayed->ip, relayed->port);
  std::array<std::uint8_t, 4 + 160> channel_data{0x40, 0x01, 0x00, 160};
  std::array<std::uint8_t, 2048> in{};
  auto round_trip = [&](int packets) {
    int received = 0;
    for (int i = 0; i < packets; ++i) {
      ::sendto(client.fd, channel_data.data(), channel_data.size(), 0,
               reinterpret_cast<const sockaddr*>(&client.server), sizeof(client.server));
      if (::recv(peer, in.data(), in.size(), 0) == 160) ++received;
      ::sendto(peer, in.data(), 160, 0, reinterpret_cast<const sockaddr*>(&relayed_addr),
               sizeof(relayed_addr));
      if (::recv(client.fd, in.data(), in.size(), 0) == 4 + 160) ++received;
    }
    return received;
  };
  ASSERT_EQ(round_trip(200), 400);  // warm-up: handler memory, socket buffers

  std::uint64_t allocations = 0;
  int received = 0;
  {
    podium::testing::CountAllocations counter;
    received = round_trip(5000);
    allocations = counter.count();
  }
  EXPECT_EQ(received, 10000);
  EXPECT_EQ(allocations, 0u) << "heap allocations while relaying 10000 packets";
  {
    podium::testing::CountAllocations counter;  // the counter itself sees an allocation
    auto probe = std::make_unique<int>(1);
    EXPECT_EQ(counter.count(), 1u);
  }

  server.stop();
  ::close(client.fd);
  ::close(peer);
}

}  // namespace
