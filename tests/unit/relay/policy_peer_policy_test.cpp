#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "policy/peer_policy.hpp"

namespace {

using boost::asio::ip::make_address;
using podium::config::Cidr;
using podium::config::Endpoint;
using podium::relay::policy::PeerPolicy;
using podium::relay::policy::PeerRefusal;

Cidr cidr(const char* network, unsigned prefix) {
  return Cidr{make_address(network), prefix};
}

PeerRefusal check(const PeerPolicy& policy, const char* address) {
  return policy.check(make_address(address));
}

TEST(PolicyPeer, DefaultRangesRefusedWithReason) {
  const PeerPolicy policy;
  const std::vector<std::pair<const char*, PeerRefusal>> cases = {
      {"0.0.0.0", PeerRefusal::unspecified},
      {"0.1.2.3", PeerRefusal::unspecified},
      {"127.0.0.1", PeerRefusal::loopback},
      {"127.255.255.254", PeerRefusal::loopback},
      {"10.0.0.1", PeerRefusal::private_network},
      {"10.255.255.255", PeerRefusal::private_network},
      {"172.16.0.1", PeerRefusal::private_network},
      {"172.31.255.255", PeerRefusal::private_network},
      {"192.168.1.1", PeerRefusal::private_network},
      {"100.64.0.1", PeerRefusal::cgnat},
      {"100.127.255.255", PeerRefusal::cgnat},
      {"169.254.169.254", PeerRefusal::link_local},
      {"169.254.0.1", PeerRefusal::link_local},
      {"224.0.0.1", PeerRefusal::multicast},
      {"239.255.255.250", PeerRefusal::multicast},
      {"255.255.255.255", PeerRefusal::broadcast},
      {"240.0.0.1", PeerRefusal::reserved},
      {"::", PeerRefusal::unspecified},
      {"::1", PeerRefusal::loopback},
      {"fc00::1", PeerRefusal::unique_local},
      {"fd12:3456::1", PeerRefusal::unique_local},
      {"fe80::1", PeerRefusal::link_local},
      {"febf::1", PeerRefusal::link_local},
      {"fec0::1", PeerRefusal::unique_local},
      {"ff02::1", PeerRefusal::multicast},
      {"::ffff:127.0.0.1", PeerRefusal::loopback},
      {"::ffff:10.1.2.3", PeerRefusal::private_network},
      {"::ffff:169.254.169.254", PeerRefusal::link_local},
      {"::ffff:0.0.0.0", PeerRefusal::unspecified},
      {"::127.0.0.1", PeerRefusal::loopback},
      {"::10.1.2.3", PeerRefusal::private_network},
      {"64:ff9b::127.0.0.1", PeerRefusal::loopback},
      {"64:ff9b::a9fe:a9fe", PeerRefusal::link_local},
      {"64:ff9b::192.168.0.1", PeerRefusal::private_network},
      {"2002:7f00:1::1", PeerRefusal::loopback},
      {"2002:a00:1::1", PeerRefusal::private_network},
  };
  for (const auto& [address, refusal] : cases) {
    EXPECT_EQ(check(policy, address), refusal) << address;
    EXPECT_EQ(policy.check(make_address(address), 3478), refusal) << address;
  }
}

TEST(PolicyPeer, EdgesOfRangesAllowed) {
  const PeerPolicy policy;
  for (const char* address :
       {"9.255.255.255", "11.0.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255",
        "192.169.0.0", "100.63.255.255", "100.128.0.0", "169.253.255.255", "169.255.0.0",
        "223.255.255.255", "1.0.0.0", "128.0.0.0", "126.255.255.255", "fbff::1", "fe7f::1"}) {
    EXPECT_EQ(check(policy, address), PeerRefusal::none) << address;
  }
}

TEST(PolicyPeer, PublicAddressesAllowed) {
  const PeerPolicy policy;
  for (const char* address : {"8.8.8.8", "1.1.1.1", "203.0.113.10", "2001:4860::8888",
                              "2606:4700:4700::1111", "64:ff9b::8.8.8.8", "2002:808:808::1"}) {
    EXPECT_EQ(check(policy, address), PeerRefusal::none) << address;
    EXPECT_TRUE(policy.allowed(make_address(address), 443)) << address;
  }
}

TEST(PolicyPeer, MappedFormOfPublicAddressRefused) {
  const PeerPolicy policy;
  EXPECT_EQ(check(policy, "::ffff:8.8.8.8"), PeerRefusal::ipv4_mapped);
  EXPECT_EQ(check(policy, "::8.8.8.8"), PeerRefusal::ipv4_mapped);
}

TEST(PolicyPeer, AllowPeersCarvesExceptions) {
  PeerPolicy::Options options;
  options.allow_peers = {cidr("127.0.0.0", 8), cidr("fd00::", 8), cidr("10.1.0.0", 16)};
  const PeerPolicy policy(options);
  EXPECT_EQ(check(policy, "127.0.0.1"), PeerRefusal::none);
  EXPECT_EQ(policy.check(make_address("127.0.0.1"), 8080), PeerRefusal::none);
  EXPECT_EQ(check(policy, "fd00::1"), PeerRefusal::none);
  EXPECT_EQ(check(policy, "fc00::1"), PeerRefusal::unique_local);
  EXPECT_EQ(check(policy, "10.1.2.3"), PeerRefusal::none);
  EXPECT_EQ(check(policy, "10.2.0.1"), PeerRefusal::private_network);
  // The mapped spelling is still never forwarded.
  EXPECT_EQ(check(policy, "::ffff:127.0.0.1"), PeerRefusal::ipv4_mapped);
}

TEST(PolicyPeer, DenyPeersAlwaysWins) {
  PeerPolicy::Options options;
  options.allow_peers = {cidr("127.0.0.0", 8), cidr("10.0.0.0", 8)};
  options.deny_peers = {cidr("127.0.0.1", 32), cidr("10.9.0.0", 16), cidr("8.8.8.0", 24),
                        cidr("2001:4860::", 32)};
  options.trusted_endpoints = {Endpoint{make_address("127.0.0.1"), 50000}};
  const PeerPolicy policy(options);
  EXPECT_EQ(check(policy, "127.0.0.1"), PeerRefusal::denied_by_config);
  EXPECT_EQ(policy.check(make_address("127.0.0.1"), 50000), PeerRefusal::denied_by_config);
  EXPECT_EQ(check(policy, "127.0.0.2"), PeerRefusal::none);
  EXPECT_EQ(check(policy, "10.9.1.1"), PeerRefusal::denied_by_config);
  EXPECT_EQ(check(policy, "10.8.1.1"), PeerRefusal::none);
  EXPECT_EQ(check(policy, "8.8.8.8"), PeerRefusal::denied_by_config);
  EXPECT_EQ(check(policy, "::ffff:8.8.8.8"), PeerRefusal::denied_by_config);
  EXPECT_EQ(check(policy, "64:ff9b::8.8.8.8"), PeerRefusal::denied_by_config);
  EXPECT_EQ(check(policy, "2001:4860::8888"), PeerRefusal::denied_by_config);
  EXPECT_EQ(check(policy, "2001:4861::8888"), PeerRefusal::none);
}

TEST(PolicyPeer, MappedIpv6CidrActsAsIpv4) {
  PeerPolicy::Options options;
  options.deny_peers = {cidr("::ffff:1.2.3.0", 120)};
  const PeerPolicy policy(options);
  EXPECT_EQ(check(policy, "1.2.3.4"), PeerRefusal::denied_by_config);
  EXPECT_EQ(check(policy, "1.2.4.4"), PeerRefusal::none);
}

TEST(PolicyPeer, OwnAddressesRefusedOnAnyPort) {
  PeerPolicy::Options options;
  options.own_addresses = {make_address("203.0.113.1"), make_address("2001:db8::1"),
                           make_address("::ffff:198.51.100.1"), make_address("0.0.0.0")};
  options.allow_peers = {cidr("203.0.113.0", 24)};  // does not override own addresses
  const PeerPolicy policy(options);
  EXPECT_EQ(check(policy, "203.0.113.1"), PeerRefusal::relay_own_address);
  EXPECT_EQ(policy.check(make_address("203.0.113.1"), 3478), PeerRefusal::relay_own_address);
  EXPECT_EQ(policy.check(make_address("203.0.113.1"), 50000), PeerRefusal::relay_own_address);
  EXPECT_EQ(check(policy, "203.0.113.2"), PeerRefusal::none);
  EXPECT_EQ(check(policy, "2001:db8::1"), PeerRefusal::relay_own_address);
  EXPECT_EQ(check(policy, "2001:db8::2"), PeerRefusal::none);
  EXPECT_EQ(check(policy, "198.51.100.1"), PeerRefusal::relay_own_address);
  EXPECT_EQ(check(policy, "::ffff:203.0.113.1"), PeerRefusal::relay_own_address);
  EXPECT_EQ(check(policy, "64:ff9b::203.0.113.1"), PeerRefusal::relay_own_address);
  EXPECT_EQ(check(policy, "0.0.0.0"), PeerRefusal::unspecified);
}

TEST(PolicyPeer, TrustedEndpointsExactPort) {
  // The SFU of this process listens on the relay's own public address and on loopback.
  PeerPolicy::Options options;
  options.own_addresses = {make_address("203.0.113.1")};
  options.trusted_endpoints = {Endpoint{make_address("203.0.113.1"), 50000},
                               Endpoint{make_address("127.0.0.1"), 50000},
                               Endpoint{make_address("fd00::5"), 0}};
  const PeerPolicy policy(options);
  // CreatePermission (no port): the address is let through because a trusted endpoint has it.
  EXPECT_EQ(check(policy, "203.0.113.1"), PeerRefusal::none);
  EXPECT_EQ(check(policy, "127.0.0.1"), PeerRefusal::none);
  // Send / ChannelBind: only the trusted port.
  EXPECT_EQ(policy.check(make_address("203.0.113.1"), 50000), PeerRefusal::none);
  EXPECT_EQ(policy.check(make_address("203.0.113.1"), 3478), PeerRefusal::relay_own_address);
  EXPECT_EQ(policy.check(make_address("127.0.0.1"), 50000), PeerRefusal::none);
  EXPECT_EQ(policy.check(make_address("127.0.0.1"), 8080), PeerRefusal::loopback);
  EXPECT_EQ(policy.check(make_address("fd00::5"), 1234), PeerRefusal::none);  // port 0 = any
  EXPECT_EQ(policy.check(make_address("fd00::6"), 1234), PeerRefusal::unique_local);
}

TEST(PolicyPeer, RawForms) {
  const PeerPolicy policy;
  EXPECT_EQ(policy.check_v4(0x7f000001), PeerRefusal::loopback);
  EXPECT_EQ(policy.check_v4(0x08080808, 53), PeerRefusal::none);
  std::array<std::uint8_t, 16> v6{};
  v6[15] = 1;
  EXPECT_EQ(policy.check_v6(v6), PeerRefusal::loopback);
}

TEST(PolicyPeer, OptionsFromRelayConfig) {
  podium::config::RelayConfig relay;
  relay.listen = {podium::config::ListenUrl{podium::config::Transport::udp,
                                            Endpoint{make_address("0.0.0.0"), 3478}},
                  podium::config::ListenUrl{podium::config::Transport::tcp,
                                            Endpoint{make_address("203.0.113.1"), 3478}}};
  relay.relay_ip = make_address("203.0.113.2");
  relay.external_ip = make_address("198.51.100.9");
  relay.allow_peers = {cidr("10.0.0.0", 8)};
  relay.deny_peers = {cidr("8.8.8.8", 32)};
  const auto own = PeerPolicy::own_addresses(relay);
  ASSERT_EQ(own.size(), 3u);
  const PeerPolicy policy(PeerPolicy::options_from(relay));
  // Own addresses are refused on every port outside relay_ports (3478 here)...
  EXPECT_EQ(policy.check(make_address("203.0.113.1"), 3478), PeerRefusal::relay_own_address);
  EXPECT_EQ(policy.check(make_address("203.0.113.2"), 22), PeerRefusal::relay_own_address);
  EXPECT_EQ(policy.check(make_address("198.51.100.9"), 9464), PeerRefusal::relay_own_address);
  // ...but a relayed port is another allocation on this relay (both peers behind TURN), and a
  // permission carries no port.
  EXPECT_EQ(policy.check(make_address("198.51.100.9"), 50000), PeerRefusal::none);
  EXPECT_EQ(check(policy, "203.0.113.2"), PeerRefusal::none);
  EXPECT_EQ(check(policy, "10.0.0.1"), PeerRefusal::none);
  EXPECT_EQ(check(policy, "8.8.8.8"), PeerRefusal::denied_by_config);
}

// relay.trusted_peers (where `podium serve` puts its SFU): that exact address and port pass even
// on the relay's own address outside relay_ports or in a denied-by-default range; other ports
// of the same address do not; deny_peers still wins.
TEST(PolicyPeer, TrustedPeersFromRelayConfig) {
  podium::config::RelayConfig relay;
  relay.listen = {podium::config::ListenUrl{podium::config::Transport::udp,
                                            Endpoint{make_address("127.0.0.1"), 3478}}};
  relay.relay_ports = {49152, 65535};
  relay.trusted_peers = {Endpoint{make_address("127.0.0.1"), 40000},
                         Endpoint{make_address("10.1.2.3"), 0}};
  relay.deny_peers = {cidr("10.1.2.0", 24)};
  const PeerPolicy policy(PeerPolicy::options_from(relay));
  EXPECT_EQ(policy.check(make_address("127.0.0.1"), 40000), PeerRefusal::none);
  EXPECT_EQ(policy.check(make_address("127.0.0.1"), 40001), PeerRefusal::relay_own_address);
  EXPECT_EQ(policy.check(make_address("127.0.0.1")), PeerRefusal::none);  // CreatePermission
  EXPECT_EQ(policy.check(make_address("10.1.2.3"), 5), PeerRefusal::denied_by_config);
}

TEST(PolicyPeer, InterfaceAddressesIncludeLoopback) {
  const auto addresses = PeerPolicy::interface_addresses();
  bool loopback = false;
  for (const auto& address : addresses) loopback = loopback || address.is_loopback();
  EXPECT_TRUE(addresses.empty() || loopback);
}

TEST(PolicyPeer, InvalidPrefixThrows) {
  PeerPolicy::Options options;
  options.deny_peers = {cidr("10.0.0.0", 33)};
  EXPECT_THROW(PeerPolicy{options}, std::invalid_argument);
}

TEST(PolicyPeer, RefusalNames) {
  EXPECT_EQ(to_string(PeerRefusal::none), "none");
  EXPECT_EQ(to_string(PeerRefusal::private_network), "private_network");
  EXPECT_EQ(to_string(PeerRefusal::relay_own_address), "relay_own_address");
  EXPECT_EQ(to_string(PeerRefusal::denied_by_config), "denied_by_config");
  EXPECT_EQ(to_string(PeerRefusal::ipv4_mapped), "ipv4_mapped");
  EXPECT_EQ(to_string(PeerRefusal::cgnat), "cgnat");
}

}  // namespace
