// Several relay addresses (relay.relay_ip as a list): the (address, port) pairs handed out, the
// capacity they give, the peer policy's own addresses, and real Allocates through a RelayServer
// getting relayed sockets bound to the advertised address of the requested family.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/credentials.hpp"
#include "podium/config/config.hpp"
#include "podium/monitoring/metrics.hpp"
#include "podium/relay/relay_server.hpp"
#include "podium/stun/attributes.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "turn/shared_state.hpp"

namespace {

using namespace podium;
using boost::asio::ip::address;
using boost::asio::ip::make_address;

std::vector<address> addresses(std::initializer_list<const char*> texts) {
  std::vector<address> out;
  for (const char* text : texts) out.push_back(make_address(text));
  return out;
}

TEST(RelayAddressPool, EveryPairOncePerCycleAlternatingAddresses) {
  relay::RelayAddressPool pool(addresses({"10.0.0.1", "10.0.0.2", "10.0.0.3"}), {50000, 50003});
  ASSERT_EQ(pool.size(false), 12u);
  ASSERT_EQ(pool.size(true), 0u);
  std::set<std::pair<std::string, unsigned>> seen;
  std::string previous;
  for (int i = 0; i < 12; ++i) {
    const auto candidate = pool.next(false);
    EXPECT_GE(candidate.port(), 50000);
    EXPECT_LE(candidate.port(), 50003);
    EXPECT_NE(candidate.address().to_string(), previous) << "consecutive candidates alternate";
    previous = candidate.address().to_string();
    seen.insert({previous, candidate.port()});
  }
  EXPECT_EQ(seen.size(), 12u) << "one cycle visits every (address, port) pair once";
  const auto again = pool.next(false);
  EXPECT_EQ(seen.count({again.address().to_string(), again.port()}), 1u);
}

TEST(RelayAddressPool, FamiliesAndDefault) {
  relay::RelayAddressPool mixed(addresses({"2001:db8::1", "10.0.0.1", "2001:db8::2"}),
                                {50000, 50009});
  EXPECT_TRUE(mixed.offers(false));
  EXPECT_TRUE(mixed.offers(true));
  EXPECT_FALSE(mixed.default_v6()) << "RFC 8656: IPv4 when the Allocate names no family";
  EXPECT_EQ(mixed.size(false), 10u);
  EXPECT_EQ(mixed.size(true), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(mixed.next(true).address().is_v6());
    EXPECT_TRUE(mixed.next(false).address().is_v4());
  }
  relay::RelayAddressPool v6_only(addresses({"::1"}), {50000, 50000});
  EXPECT_FALSE(v6_only.offers(false));
  EXPECT_TRUE(v6_only.default_v6()) << "an IPv6-only relay keeps relaying over IPv6";
  EXPECT_EQ(v6_only.next(true), boost::asio::ip::udp::endpoint(make_address("::1"), 50000));
}

config::RelayConfig relay_config(const std::string& keys) {
  return *config::load_string("relay:\n  listen: [udp://127.0.0.1:3478]\n  users: {a: b}\n" + keys,
                              "test.yaml")
              .relay;
}

TEST(RelayCapacity, AddressesTimesPortsCappedByMaxAllocations) {
  // Default relay address (the listener's) and the default 49152-65535.
  EXPECT_EQ(relay::allocation_capacity(relay_config("")), 16384u);
  EXPECT_EQ(relay::allocation_capacity(relay_config("  relay_ip: 127.0.0.1\n")), 16384u);
  EXPECT_EQ(relay::allocation_capacity(relay_config("  relay_ip: [127.0.0.1]\n")), 16384u);
  const std::string two = "  relay_ip: [127.0.0.1, 127.0.0.2]\n  relay_ports: 1024-65535\n";
  EXPECT_EQ(relay::allocation_capacity(relay_config(two)), 2u * 64512u);
  EXPECT_EQ(relay::allocation_capacity(relay_config(two + "  max_allocations: 100000\n")), 100000u);
  EXPECT_EQ(relay::allocation_capacity(relay_config(two + "  max_allocations: 200000\n")),
            2u * 64512u);
  EXPECT_EQ(relay::allocation_capacity(
                relay_config("  relay_ip: [127.0.0.1, '::1', 127.0.0.3]\n  relay_ports: 5-14\n")),
            30u);
}

TEST(RelayCapacity, EveryListedAddressIsTheRelaysOwn) {
  const auto relay = relay_config(
      "  relay_ip: [203.0.113.1, 203.0.113.2, '2001:db8::7']\n  relay_ports: 50000-50099\n");
  const relay::RelayPolicy policy(relay);
  using relay::policy::PeerRefusal;
  for (const char* own : {"203.0.113.1", "203.0.113.2", "2001:db8::7"}) {
    // Another allocation on this relay is a fine peer; anything else on the address is not.
    EXPECT_EQ(policy.peer_policy.check(make_address(own), 50042), PeerRefusal::none) << own;
    EXPECT_EQ(policy.peer_policy.check(make_address(own), 22), PeerRefusal::relay_own_address)
        << own;
  }
  EXPECT_EQ(policy.peer_policy.check(make_address("203.0.113.3"), 22), PeerRefusal::none);
}

// ---- real Allocates through a RelayServer --------------------------------------------------

// A UDP socket bound to `ip`:`port` (port 0: any), or -1.
int bound_udp(const address& ip, std::uint16_t port) {
  const int family = ip.is_v6() ? AF_INET6 : AF_INET;
  int fd = ::socket(family, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  boost::asio::ip::udp::endpoint endpoint(ip, port);
  if (::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// Whether something already holds `ip`:`port` (UDP).
bool in_use(const address& ip, std::uint16_t port) {
  int fd = bound_udp(ip, port);
  if (fd >= 0) ::close(fd);
  return fd < 0;
}

// A port p with p and p + 1 free on every one of `ips`.
std::uint16_t free_pair(const std::vector<address>& ips) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto p = static_cast<std::uint16_t>(42000 + (std::rand() % 8000) * 2);
    bool free = true;
    for (const auto& ip : ips) free = free && !in_use(ip, p) && !in_use(ip, p + 1);
    if (free) return p;
  }
  return 0;
}

struct Answer {
  stun::Class cls = stun::Class::kRequest;
  std::uint16_t error = 0;
  std::optional<stun::Address> relayed;
};

class Relay {
 public:
  Relay(const std::vector<address>& relay_ips, config::PortRange ports) {
    config::RelayConfig relay;
    relay.listen = {*config::parse_listen_url("udp://127.0.0.1:0")};
    relay.realm = "test";
    relay.users = {{"alice", "secret"}};
    relay.relay_ip = relay_ips.front();
    relay.extra_relay_ips.assign(relay_ips.begin() + 1, relay_ips.end());
    relay.relay_ports = ports;
    relay.workers = 1;
    server_ = std::make_unique<relay::RelayServer>(relay, metrics_);
    server_->start();
    const auto listener = server_->listeners().at(0).endpoint;
    server_endpoint_ = {listener.address, listener.port};
  }
  ~Relay() {
    server_->stop();
    for (int fd : clients_) ::close(fd);
  }

  // A two-step Allocate (401, then with credentials) from a fresh client socket.
  Answer allocate(std::optional<stun::AddressFamily> family = std::nullopt) {
    const int fd = bound_udp(make_address("127.0.0.1"), 0);
    clients_.push_back(fd);
    std::string nonce;
    Answer answer;
    for (int step = 0; step < 2; ++step) {
      std::array<std::uint8_t, 512> out{};
      stun::MessageBuilder builder(out);
      stun::TransactionId id{};
      for (auto& b : id) b = static_cast<std::uint8_t>(std::rand());
      builder.start(stun::Method::kAllocate, stun::Class::kRequest, id);
      builder.add_requested_transport(17);
      if (family) builder.add_address_family(stun::AttributeType::kRequestedAddressFamily, *family);
      if (!nonce.empty()) {
        builder.add_username("alice");
        builder.add_realm("test");
        builder.add_nonce(nonce);
        builder.add_message_integrity(relay::auth::long_term_key("alice", "test", "secret"));
      }
      auto request = *builder.finish();
      ::sendto(fd, request.data(), request.size(), 0, server_endpoint_.data(),
               static_cast<socklen_t>(server_endpoint_.size()));
      std::array<std::uint8_t, 2048> in{};
      const ssize_t n = ::recv(fd, in.data(), in.size(), 0);
      if (n <= 0) return answer;
      auto parsed =
          stun::MessageView::parse(std::span<const std::uint8_t>(in.data(), std::size_t(n)));
      if (!parsed) return answer;
      answer.cls = parsed->cls();
      answer.error = 0;
      if (auto code = parsed->find(stun::AttributeType::kErrorCode)) {
        if (auto decoded = stun::decode_error_code(*code)) answer.error = decoded->code;
      }
      if (auto relayed = parsed->xor_address(stun::AttributeType::kXorRelayedAddress)) {
        answer.relayed = *relayed;
      }
      if (step == 0) {
        auto text = parsed->string(stun::AttributeType::kNonce);
        if (!text) return answer;
        nonce = std::string(*text);
      }
    }
    return answer;
  }

 private:
  monitoring::Metrics metrics_{"test"};
  std::unique_ptr<relay::RelayServer> server_;
  boost::asio::ip::udp::endpoint server_endpoint_;
  std::vector<int> clients_;
};

TEST(RelayAddresses, AllocationsFillEveryAddressPortPairThen508) {
  const auto ips = addresses({"127.0.0.1", "127.0.0.2"});
  const std::uint16_t port = free_pair(ips);
  ASSERT_NE(port, 0) << "no free port pair";
  Relay relay(ips, {port, static_cast<std::uint16_t>(port + 1)});
  std::set<std::pair<std::string, unsigned>> relayed;
  for (int i = 0; i < 4; ++i) {
    Answer answer = relay.allocate();
    ASSERT_EQ(answer.cls, stun::Class::kSuccessResponse)
        << "allocation " << i << " error " << answer.error;
    ASSERT_TRUE(answer.relayed);
    // The advertised address is the one the relayed socket is bound to.
    EXPECT_TRUE(in_use(answer.relayed->ip, answer.relayed->port))
        << answer.relayed->ip.to_string() << ":" << answer.relayed->port;
    relayed.insert({answer.relayed->ip.to_string(), answer.relayed->port});
  }
  const std::set<std::pair<std::string, unsigned>> expected = {
      {"127.0.0.1", port}, {"127.0.0.1", port + 1}, {"127.0.0.2", port}, {"127.0.0.2", port + 1}};
  EXPECT_EQ(relayed, expected);
  Answer full = relay.allocate();
  EXPECT_EQ(full.cls, stun::Class::kErrorResponse);
  EXPECT_EQ(full.error, 508);
}

TEST(RelayAddresses, RequestedAddressFamilyPicksTheAddress) {
  if (in_use(make_address("::1"), 0)) GTEST_SKIP() << "no IPv6 loopback here";
  const auto ips = addresses({"::1", "127.0.0.1"});
  const std::uint16_t port = free_pair(ips);
  ASSERT_NE(port, 0) << "no free port pair";
  Relay relay(ips, {port, static_cast<std::uint16_t>(port + 1)});
  Answer v4 = relay.allocate();  // no REQUESTED-ADDRESS-FAMILY: IPv4 although ::1 is first
  ASSERT_EQ(v4.cls, stun::Class::kSuccessResponse) << v4.error;
  EXPECT_EQ(v4.relayed->ip, make_address("127.0.0.1"));
  Answer v6 = relay.allocate(stun::AddressFamily::kIPv6);
  ASSERT_EQ(v6.cls, stun::Class::kSuccessResponse) << v6.error;
  EXPECT_EQ(v6.relayed->ip, make_address("::1"));
  EXPECT_TRUE(in_use(v6.relayed->ip, v6.relayed->port));
  Answer explicit_v4 = relay.allocate(stun::AddressFamily::kIPv4);
  ASSERT_EQ(explicit_v4.cls, stun::Class::kSuccessResponse) << explicit_v4.error;
  EXPECT_EQ(explicit_v4.relayed->ip, make_address("127.0.0.1"));

  Relay v6_only(addresses({"::1"}), {port, port});
  Answer refused = v6_only.allocate(stun::AddressFamily::kIPv4);
  EXPECT_EQ(refused.cls, stun::Class::kErrorResponse);
  EXPECT_EQ(refused.error, 440);
}

}  // namespace
