// Which peer addresses the relay may send to: the SSRF defence for CreatePermission, ChannelBind
// and Send (RFC 8656 section 9 lets the server refuse a peer with 403 Forbidden).
//
// Default refused ranges (each with its own PeerRefusal for metrics):
//   IPv4  0.0.0.0/8 unspecified, 127.0.0.0/8 loopback, 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16
//         private_network, 100.64.0.0/10 cgnat, 169.254.0.0/16 link_local (cloud metadata
//         169.254.169.254), 224.0.0.0/4 multicast, 255.255.255.255/32 broadcast,
//         240.0.0.0/4 reserved
//   IPv6  ::/128 unspecified, ::1/128 loopback, fc00::/7 unique_local, fec0::/10 (deprecated
//         site-local) unique_local, fe80::/10 link_local, ff00::/8 multicast
//   IPv6 forms that carry an IPv4 address are judged by that address:
//         ::ffff:0:0/96 (IPv4-mapped) and ::/96 (IPv4-compatible) give the embedded address's
//         refusal, and are refused as ipv4_mapped even when it is public (such addresses never
//         appear on the wire; a peer should be given in its IPv4 form);
//         64:ff9b::/96 (NAT64, RFC 6052) and 2002::/16 (6to4, RFC 3056) give the embedded
//         address's refusal and are otherwise allowed.
//
// Precedence, first match wins:
//   1. deny_peers (config)       -> denied_by_config. Always wins.
//   2. trusted endpoints         -> allowed. Exact IP and port of services the relay is meant to
//                                   reach even though they are local, e.g. this process's SFU
//                                   (port 0 = any port). Not overridden by anything but deny.
//   3. the relay's own addresses -> relay_own_address, any port outside relay_ports (a port in
//                                   relay_ports is another allocation: TURN-to-TURN is allowed,
//                                   and so is a permission, which has no port). allow_peers does
//                                   NOT override this: a broad allow range (say 10.0.0.0/8 for a
//                                   private media network) must not silently open the relay's own
//                                   listeners, relay ports and local services to its clients.
//   4. allow_peers (config)      -> allowed: exceptions carved out of the default ranges.
//   5. default ranges            -> the range's refusal.
//   6. anything else             -> allowed.
// An IPv4 CIDR in allow/deny also matches that address's IPv4-mapped form; an IPv6 CIDR inside
// ::ffff:0:0/96 with prefix >= 96 is treated as the IPv4 CIDR it maps.
//
// Ports: permissions are per IP address (RFC 8656 section 9: the port is ignored), so
// CreatePermission uses check(ip), which lets an address through step 2 if any trusted endpoint
// has that address. ChannelBind and Send know the port and must use check(ip, port).
//
// A PeerPolicy is immutable after construction; check() is const, lock-free and allocation-free
// (a few mask-and-compare loops over small precomputed tables), safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "podium/config/config.hpp"
#include "podium/config/values.hpp"

namespace podium::relay::policy {

enum class PeerRefusal : std::uint8_t {
  none,  // allowed
  loopback,
  unspecified,
  private_network,
  cgnat,
  link_local,
  multicast,
  broadcast,
  unique_local,
  ipv4_mapped,  // IPv4-mapped or IPv4-compatible IPv6 form of an otherwise allowed address
  reserved,
  relay_own_address,
  denied_by_config,
};
std::string_view to_string(PeerRefusal refusal);  // snake_case, for metric labels

class PeerPolicy {
 public:
  static constexpr int kAnyPort = -1;

  struct Options {
    std::vector<config::Cidr> allow_peers;
    std::vector<config::Cidr> deny_peers;
    std::vector<config::IpAddress> own_addresses;     // any port; unspecified ones are ignored
    std::vector<config::Endpoint> trusted_endpoints;  // port 0 = any port
    // The relay's own relayed ports: an own address with a port in this range is another
    // allocation on this relay (both WebRTC peers relaying through it), which is allowed.
    config::PortRange relay_ports{0, 0};
  };

  PeerPolicy();  // the default ranges only
  // Throws std::invalid_argument for a CIDR whose prefix exceeds its address length.
  explicit PeerPolicy(const Options& options);

  // The addresses a relay configuration owns: listen hosts, relay_ip, external_ip (unspecified
  // addresses skipped). When a listener binds 0.0.0.0 or ::, add interface_addresses() too.
  static std::vector<config::IpAddress> own_addresses(const config::RelayConfig& relay);
  // Every address configured on a local interface (getifaddrs); empty if that fails.
  static std::vector<config::IpAddress> interface_addresses();
  // Options from a relay configuration: allow/deny_peers and own_addresses(relay).
  static Options options_from(const config::RelayConfig& relay);

  // CreatePermission: the port is unknown/irrelevant.
  PeerRefusal check(const config::IpAddress& peer) const;
  // ChannelBind and Send.
  PeerRefusal check(const config::IpAddress& peer, std::uint16_t port) const;
  bool allowed(const config::IpAddress& peer, std::uint16_t port) const {
    return check(peer, port) == PeerRefusal::none;
  }

  // Raw forms for the data path. `address` is in host byte order for IPv4, network byte order
  // bytes for IPv6; port is 0-65535 or kAnyPort.
  PeerRefusal check_v4(std::uint32_t address, int port = kAnyPort) const;
  PeerRefusal check_v6(const std::array<std::uint8_t, 16>& address, int port = kAnyPort) const;

 private:
  struct V4Range {
    std::uint32_t network;
    std::uint32_t mask;
    PeerRefusal refusal;
  };
  struct V6Address {
    std::uint64_t high;
    std::uint64_t low;
  };
  struct V6Range {
    V6Address network;
    V6Address mask;
    PeerRefusal refusal;
  };
  struct V4Endpoint {
    std::uint32_t address;
    int port;  // kAnyPort when any
  };
  struct V6Endpoint {
    V6Address address;
    int port;
  };

  static bool in(std::uint32_t address, const V4Range& range) {
    return (address & range.mask) == range.network;
  }
  static bool in(const V6Address& address, const V6Range& range) {
    return (address.high & range.mask.high) == range.network.high &&
           (address.low & range.mask.low) == range.network.low;
  }
  static bool port_matches(int wanted, int configured) {
    return configured == kAnyPort || wanted == kAnyPort || wanted == configured;
  }
  PeerRefusal check_v6(const V6Address& address, int port) const;
  void add_cidr(const config::Cidr& cidr, PeerRefusal refusal, std::vector<V4Range>& v4,
                std::vector<V6Range>& v6);

  std::vector<V4Range> allow_v4_, deny_v4_;
  std::vector<V6Range> allow_v6_, deny_v6_;
  bool relay_port(int port) const {
    if (relay_ports_.last == 0) return false;
    return port == kAnyPort || (port >= relay_ports_.first && port <= relay_ports_.last);
  }
  config::PortRange relay_ports_{0, 0};
  std::vector<std::uint32_t> own_v4_;
  std::vector<V6Address> own_v6_;
  std::vector<V4Endpoint> trusted_v4_;
  std::vector<V6Endpoint> trusted_v6_;
};

}  // namespace podium::relay::policy
