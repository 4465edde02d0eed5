// Typed configuration values and their text forms: durations (`30s`, `10m`, `24h`), sizes (`50MB`),
// rates (`2Mbit/s`), IP addresses, HOST:PORT endpoints, CIDRs, listen URLs and port ranges.
// Each parse_* returns the value or an error message saying what is wrong with the text.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "podium/common/result.hpp"

#include <boost/asio/ip/address.hpp>

namespace podium::config {

using IpAddress = boost::asio::ip::address;

struct Endpoint {
  IpAddress address;
  std::uint16_t port = 0;
  std::string to_string() const;  // "1.2.3.4:5" or "[::1]:5"
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// An IPv4 or IPv6 network. IPv4 networks never match IPv6 addresses and vice versa; callers that
// care about IPv4-mapped IPv6 addresses unmap them first.
struct Cidr {
  IpAddress network;  // host bits cleared
  unsigned prefix = 0;
  bool contains(const IpAddress& address) const;
  std::string to_string() const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

enum class Transport { udp, tcp, tls, dtls };
const char* to_string(Transport transport);

struct ListenUrl {
  Transport transport = Transport::udp;
  Endpoint endpoint;
  std::string to_string() const;  // "udp://127.0.0.1:3478"
  friend bool operator==(const ListenUrl&, const ListenUrl&) = default;
};

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

struct ByteSize {
  std::uint64_t bytes = 0;
  friend auto operator<=>(const ByteSize&, const ByteSize&) = default;
};

struct Rate {
  std::uint64_t bits_per_second = 0;
  friend auto operator<=>(const Rate&, const Rate&) = default;
};

// `500ms`, `30s`, `10m`, `24h`, `7d`, combinations like `1h30m`; a bare integer is rejected.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
// `512`, `64KiB`, `50MB`, `1GiB`, `10kB`: decimal (kB, MB, GB) and binary (KiB, MiB, GiB) units.
Result<ByteSize> parse_size(std::string_view text);
// `64kbit/s`, `2Mbit/s`, `1Gbit/s`, `100kB/s`, `1MB/s` (bytes are multiplied by 8).
Result<Rate> parse_rate(std::string_view text);
// IPv4 or IPv6 literal (IPv6 without brackets).
Result<IpAddress> parse_ip_address(std::string_view text);
// `1.2.3.4:80`, `[::1]:80`; port 0 allowed (means "any").
Result<Endpoint> parse_endpoint(std::string_view text);
// `10.0.0.0/8`, `fc00::/7`; a bare address means /32 or /128. Host bits set is an error.
Result<Cidr> parse_cidr(std::string_view text);
// `udp://HOST:PORT`, `tcp://...`, `tls://...`, `dtls://...`
Result<ListenUrl> parse_listen_url(std::string_view text);
// `49152-65535` (first <= last, first >= 1)
Result<PortRange> parse_port_range(std::string_view text);

std::string format_duration(std::chrono::milliseconds duration);  // e.g. "10m", "1h30m"

}  // namespace podium::config
