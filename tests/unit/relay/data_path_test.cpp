// The relay's packet path, end to end through a real RelayServer: it makes no heap allocation
// (operator new is counted process-wide while ChannelData crosses both ways), and the
// per-allocation bandwidth cap drops what exceeds its token bucket.
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

// A RelayServer with one allocation whose channel 0x4001 is bound to a peer socket.
struct RelayWithChannel {
  explicit RelayWithChannel(config::Rate bandwidth = {}) {
    config::RelayConfig relay;
    relay.listen = {*config::parse_listen_url("udp://127.0.0.1:0")};
    relay.realm = "test";
    relay.users = {{"alice", "secret"}};
    relay.allow_peers = {*config::parse_cidr("127.0.0.0/8")};
    relay.relay_ports = {40000, 40999};
    relay.workers = 1;
    relay.allocation_bandwidth = bandwidth;
    server = std::make_unique<relay::RelayServer>(relay, metrics);
    server->start();
    const auto listener = server->listeners().at(0).endpoint;
    client =
        TurnClient{udp_socket("127.0.0.1"), endpoint(listener.address, listener.port), {}, {}, {}};
    peer = udp_socket("127.0.0.2");
  }
  ~RelayWithChannel() {
    server->stop();
    ::close(client.fd);
    ::close(peer);
  }

  // Allocate (after the 401 challenge) and bind channel 0x4001 to the peer.
  bool set_up() {
    const auto peer_addr = local_of(peer);
    const stun::Address peer_address{boost::asio::ip::make_address("127.0.0.2"),
                                     ntohs(peer_addr.sin_port)};
    std::array<std::uint8_t, 512> out{};
    auto challenge = client.transact(client.request(
        out, stun::Method::kAllocate, [](auto& b) { b.add_requested_transport(17); }));
    if (!challenge) return false;
    client.nonce = std::string(*challenge->string(stun::AttributeType::kNonce));
    client.key = relay::auth::long_term_key("alice", "test", "secret");
    auto allocated = client.transact(client.request(
        out, stun::Method::kAllocate, [](auto& b) { b.add_requested_transport(17); }));
    if (!allocated || allocated->cls() != stun::Class::kSuccessResponse) return false;
    auto relayed = allocated->xor_address(stun::AttributeType::kXorRelayedAddress);
    if (!relayed) return false;
    relayed_addr = endpoint(relayed->ip, relayed->port);
    auto bound = client.transact(client.request(out, stun::Method::kChannelBind, [&](auto& b) {
      b.add_channel_number(0x4001);
      b.add_xor_address(stun::AttributeType::kXorPeerAddress, peer_address);
    }));
    return bound && bound->cls() == stun::Class::kSuccessResponse;
  }

  // Sends `packets` ChannelData to the peer, each echoed back by the peer; counts arrivals.
  int round_trip(int packets) {
    std::array<std::uint8_t, 4 + 160> channel_data{0x40, 0x01, 0x00, 160};
    std::array<std::uint8_t, 2048> in{};
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
  }

  // Sends `packets` ChannelData without waiting; returns how many the peer got.
  int flood_to_peer(int packets) {
    std::array<std::uint8_t, 4 + 1000> channel_data{0x40, 0x01, 0x03, 0xe8};
    for (int i = 0; i < packets; ++i) {
      ::sendto(client.fd, channel_data.data(), channel_data.size(), 0,
               reinterpret_cast<const sockaddr*>(&client.server), sizeof(client.server));
      if (i % 50 == 49) ::usleep(1000);  // stay within socket buffers
    }
    timeval tv{0, 300000};
    ::setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::array<std::uint8_t, 2048> in{};
    int received = 0;
    while (::recv(peer, in.data(), in.size(), 0) == 1000) ++received;
    return received;
  }

  monitoring::Metrics metrics{"test"};
  std::unique_ptr<relay::RelayServer> server;
  TurnClient client{};
  int peer = -1;
  sockaddr_in relayed_addr{};
};

TEST(RelayDataPath, RelaysWithoutHeapAllocation) {
  RelayWithChannel relay;
  ASSERT_TRUE(relay.set_up());
  ASSERT_EQ(relay.round_trip(200), 400);  // warm-up: handler memory, socket buffers

  std::uint64_t allocations = 0;
  int received = 0;
  {
    podium::testing::CountAllocations counter;
    received = relay.round_trip(5000);
    allocations = counter.count();
  }
  EXPECT_EQ(received, 10000);
  EXPECT_EQ(allocations, 0u) << "heap allocations while relaying 10000 packets";
  {
    podium::testing::CountAllocations counter;  // the counter itself sees an allocation
    auto probe = std::make_unique<int>(1);
    EXPECT_EQ(counter.count(), 1u);
  }
}

TEST(RelayDataPath, BandwidthCapDropsTheExcess) {
  // 800 kbit/s = 100 kB/s with a 64 KiB burst: of 1 MB sent at once, about the burst passes.
  RelayWithChannel relay(config::Rate{800'000});
  ASSERT_TRUE(relay.set_up());
  const int received = relay.flood_to_peer(1000);
  EXPECT_GT(received, 40);
  EXPECT_LT(received, 300);
  // The drops are counted (flushed to the registry within a second).
  ::usleep(1'200'000);
  auto text = relay.metrics.serialize();
  EXPECT_NE(text.find("podium_relay_dropped_packets_total{reason=\"bandwidth\"} "),
            std::string::npos);
  EXPECT_EQ(text.find("podium_relay_dropped_packets_total{reason=\"bandwidth\"} 0\n"),
            std::string::npos)
      << text;
}

}  // namespace
