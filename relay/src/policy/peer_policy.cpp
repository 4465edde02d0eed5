#include "policy/peer_policy.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

namespace podium::relay::policy {
namespace {

constexpr std::uint32_t v4_mask(unsigned prefix) {
  return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
}

constexpr std::uint32_t v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
         std::uint32_t{d};
}

struct DefaultV4 {
  std::uint32_t network;
  unsigned prefix;
  PeerRefusal refusal;
};

// Most specific first where ranges nest (255.255.255.255 lies inside 240.0.0.0/4).
constexpr DefaultV4 kDefaultV4[] = {
    {v4(255, 255, 255, 255), 32, PeerRefusal::broadcast},
    {v4(0, 0, 0, 0), 8, PeerRefusal::unspecified},  // "this network" (RFC 1122)
    {v4(127, 0, 0, 0), 8, PeerRefusal::loopback},
    {v4(10, 0, 0, 0), 8, PeerRefusal::private_network},  // RFC 1918
    {v4(172, 16, 0, 0), 12, PeerRefusal::private_network},
    {v4(192, 168, 0, 0), 16, PeerRefusal::private_network},
    {v4(100, 64, 0, 0), 10, PeerRefusal::cgnat},        // RFC 6598
    {v4(169, 254, 0, 0), 16, PeerRefusal::link_local},  // RFC 3927, cloud metadata
    {v4(224, 0, 0, 0), 4, PeerRefusal::multicast},
    {v4(240, 0, 0, 0), 4, PeerRefusal::reserved},
};

PeerRefusal default_v4_refusal(std::uint32_t address) {
  for (const auto& range : kDefaultV4) {
    if ((address & v4_mask(range.prefix)) == range.network) return range.refusal;
  }
  return PeerRefusal::none;
}

std::uint64_t load_be64(const std::uint8_t* bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | bytes[i];
  return value;
}

std::uint32_t load_be32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

}  // namespace

std::string_view to_string(PeerRefusal refusal) {
  switch (refusal) {
    case PeerRefusal::none:
      return "none";
    case PeerRefusal::loopback:
      return "loopback";
    case PeerRefusal::unspecified:
      return "unspecified";
    case PeerRefusal::private_network:
      return "private_network";
    case PeerRefusal::cgnat:
      return "cgnat";
    case PeerRefusal::link_local:
      return "link_local";
    case PeerRefusal::multicast:
      return "multicast";
    case PeerRefusal::broadcast:
      return "broadcast";
    case PeerRefusal::unique_local:
      return "unique_local";
    case PeerRefusal::ipv4_mapped:
      return "ipv4_mapped";
    case PeerRefusal::reserved:
      return "reserved";
    case PeerRefusal::relay_own_address:
      return "relay_own_address";
    case PeerRefusal::denied_by_config:
      return "denied_by_config";
  }
  return "unknown";
}

PeerPolicy::PeerPolicy() = default;

PeerPolicy::PeerPolicy(const Options& options) : relay_ports_(options.relay_ports) {
  for (const auto& cidr : options.allow_peers) {
    add_cidr(cidr, PeerRefusal::none, allow_v4_, allow_v6_);
  }
  for (const auto& cidr : options.deny_peers) {
    add_cidr(cidr, PeerRefusal::denied_by_config, deny_v4_, deny_v6_);
  }
  for (const auto& address : options.own_addresses) {
    if (address.is_unspecified()) continue;  // a wildcard listener; refused by default anyway
    if (address.is_v4()) {
      own_v4_.push_back(address.to_v4().to_uint());
      continue;
    }
    const auto bytes = address.to_v6().to_bytes();
    if (address.to_v6().is_v4_mapped()) {
      own_v4_.push_back(load_be32(bytes.data() + 12));
    } else {
      own_v6_.push_back({load_be64(bytes.data()), load_be64(bytes.data() + 8)});
    }
  }
  for (const auto& endpoint : options.trusted_endpoints) {
    const int port = endpoint.port == 0 ? kAnyPort : int{endpoint.port};
    if (endpoint.address.is_v4()) {
      trusted_v4_.push_back({endpoint.address.to_v4().to_uint(), port});
      continue;
    }
    const auto bytes = endpoint.address.to_v6().to_bytes();
    if (endpoint.address.to_v6().is_v4_mapped()) {
      trusted_v4_.push_back({load_be32(bytes.data() + 12), port});
    } else {
      trusted_v6_.push_back({{load_be64(bytes.data()), load_be64(bytes.data() + 8)}, port});
    }
  }
}

void PeerPolicy::add_cidr(const config::Cidr& cidr, PeerRefusal refusal, std::vector<V4Range>& v4,
                          std::vector<V6Range>& v6) {
  if (cidr.network.is_v4()) {
    if (cidr.prefix > 32) throw std::invalid_argument("IPv4 CIDR prefix longer than 32");
    const std::uint32_t mask = v4_mask(cidr.prefix);
    v4.push_back({cidr.network.to_v4().to_uint() & mask, mask, refusal});
    return;
  }
  if (cidr.prefix > 128) throw std::invalid_argument("IPv6 CIDR prefix longer than 128");
  const auto bytes = cidr.network.to_v6().to_bytes();
  if (cidr.network.to_v6().is_v4_mapped() && cidr.prefix >= 96) {
    // ::ffff:a.b.c.d/N is the IPv4 network a.b.c.d/(N-96).
    const std::uint32_t mask = v4_mask(cidr.prefix - 96);
    v4.push_back({load_be32(bytes.data() + 12) & mask, mask, refusal});
    return;
  }
  const unsigned high_bits = cidr.prefix > 64 ? 64 : cidr.prefix;
  const unsigned low_bits = cidr.prefix > 64 ? cidr.prefix - 64 : 0;
  const V6Address mask = {high_bits == 0 ? 0 : ~std::uint64_t{0} << (64 - high_bits),
                          low_bits == 0 ? 0 : ~std::uint64_t{0} << (64 - low_bits)};
  const V6Address network = {load_be64(bytes.data()) & mask.high,
                             load_be64(bytes.data() + 8) & mask.low};
  v6.push_back({network, mask, refusal});
}

std::vector<config::IpAddress> PeerPolicy::own_addresses(const config::RelayConfig& relay) {
  std::vector<config::IpAddress> addresses;
  for (const auto& listen : relay.listen) {
    if (!listen.endpoint.address.is_unspecified()) addresses.push_back(listen.endpoint.address);
  }
  // Every relay address (relay.relay_ip, one or a list).
  for (const auto& address : config::relay_addresses(relay)) {
    if (!address.is_unspecified()) addresses.push_back(address);
  }
  if (relay.external_ip && !relay.external_ip->is_unspecified()) {
    addresses.push_back(*relay.external_ip);
  }
  return addresses;
}

std::vector<config::IpAddress> PeerPolicy::interface_addresses() {
  std::vector<config::IpAddress> addresses;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return addresses;
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    if (entry->ifa_addr->sa_family == AF_INET) {
      sockaddr_in sin;
      std::memcpy(&sin, entry->ifa_addr, sizeof sin);
      boost::asio::ip::address_v4::bytes_type bytes;
      std::memcpy(bytes.data(), &sin.sin_addr, bytes.size());
      addresses.emplace_back(boost::asio::ip::address_v4(bytes));
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      sockaddr_in6 sin6;
      std::memcpy(&sin6, entry->ifa_addr, sizeof sin6);
      boost::asio::ip::address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), &sin6.sin6_addr, bytes.size());
      addresses.emplace_back(boost::asio::ip::address_v6(bytes));
    }
  }
  ::freeifaddrs(list);
  return addresses;
}

PeerPolicy::Options PeerPolicy::options_from(const config::RelayConfig& relay) {
  Options options;
  options.allow_peers = relay.allow_peers;
  options.deny_peers = relay.deny_peers;
  options.trusted_endpoints = relay.trusted_peers;
  options.own_addresses = own_addresses(relay);
  // A wildcard listener owns every interface address.
  for (const auto& listen : relay.listen) {
    if (listen.endpoint.address.is_unspecified()) {
      auto all = interface_addresses();
      options.own_addresses.insert(options.own_addresses.end(), all.begin(), all.end());
      break;
    }
  }
  options.relay_ports = relay.relay_ports;
  return options;
}

PeerRefusal PeerPolicy::check(const config::IpAddress& peer) const {
  if (peer.is_v4()) return check_v4(peer.to_v4().to_uint(), kAnyPort);
  return check_v6(peer.to_v6().to_bytes(), kAnyPort);
}

PeerRefusal PeerPolicy::check(const config::IpAddress& peer, std::uint16_t port) const {
  if (peer.is_v4()) return check_v4(peer.to_v4().to_uint(), port);
  return check_v6(peer.to_v6().to_bytes(), port);
}

PeerRefusal PeerPolicy::check_v4(std::uint32_t address, int port) const {
  for (const auto& range : deny_v4_) {
    if (in(address, range)) return PeerRefusal::denied_by_config;
  }
  for (const auto& endpoint : trusted_v4_) {
    if (endpoint.address == address && port_matches(port, endpoint.port)) return PeerRefusal::none;
  }
  for (std::uint32_t own : own_v4_) {
    if (own == address)
      return relay_port(port) ? PeerRefusal::none : PeerRefusal::relay_own_address;
  }
  for (const auto& range : allow_v4_) {
    if (in(address, range)) return PeerRefusal::none;
  }
  return default_v4_refusal(address);
}

PeerRefusal PeerPolicy::check_v6(const std::array<std::uint8_t, 16>& address, int port) const {
  return check_v6(V6Address{load_be64(address.data()), load_be64(address.data() + 8)}, port);
}

PeerRefusal PeerPolicy::check_v6(const V6Address& address, int port) const {
  for (const auto& range : deny_v6_) {
    if (in(address, range)) return PeerRefusal::denied_by_config;
  }
  for (const auto& endpoint : trusted_v6_) {
    if (endpoint.address.high == address.high && endpoint.address.low == address.low &&
        port_matches(port, endpoint.port)) {
      return PeerRefusal::none;
    }
  }
  for (const auto& own : own_v6_) {
    if (own.high == address.high && own.low == address.low) {
      return relay_port(port) ? PeerRefusal::none : PeerRefusal::relay_own_address;
    }
  }
  for (const auto& range : allow_v6_) {
    if (in(address, range)) return PeerRefusal::none;
  }

  const auto embedded = static_cast<std::uint32_t>(address.low);
  if (address.high == 0) {
    if (address.low == 0) return PeerRefusal::unspecified;  // ::/128
    if (address.low == 1) return PeerRefusal::loopback;     // ::1/128
    const std::uint64_t upper = address.low >> 32;
    if (upper == 0xffff || upper == 0) {
      // ::ffff:a.b.c.d (IPv4-mapped) or ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291):
      // judge the IPv4 address, and never forward to the IPv6 spelling of it.
      const PeerRefusal refusal = check_v4(embedded, port);
      return refusal != PeerRefusal::none ? refusal : PeerRefusal::ipv4_mapped;
    }
  }
  // 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052): the embedded address is the peer.
  if (address.high == 0x0064ff9b00000000ULL && (address.low >> 32) == 0) {
    const PeerRefusal refusal = check_v4(embedded, port);
    if (refusal != PeerRefusal::none) return refusal;
  }
  // 2002:a.b.c.d::/48, 6to4 (RFC 3056): a host with a 6to4 route would send to a.b.c.d.
  if ((address.high >> 48) == 0x2002) {
    const PeerRefusal refusal = check_v4(static_cast<std::uint32_t>(address.high >> 16), port);
    if (refusal != PeerRefusal::none) return refusal;
  }

  const std::uint64_t top8 = address.high >> 56;
  const std::uint64_t top10 = address.high >> 54;
  if ((top8 & 0xfe) == 0xfc) return PeerRefusal::unique_local;   // fc00::/7 (RFC 4193)
  if (top10 == (0xfe80 >> 6)) return PeerRefusal::link_local;    // fe80::/10
  if (top10 == (0xfec0 >> 6)) return PeerRefusal::unique_local;  // fec0::/10 site-local
  if (top8 == 0xff) return PeerRefusal::multicast;               // ff00::/8
  return PeerRefusal::none;
}

}  // namespace podium::relay::policy
