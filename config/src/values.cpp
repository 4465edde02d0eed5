#include "podium/config/values.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include <boost/system/error_code.hpp>

namespace podium::config {
namespace {

using namespace std::string_literals;

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads a run of decimal digits starting at `pos`; nullopt when there is none or it overflows.
std::optional<std::uint64_t> read_digits(std::string_view text, std::size_t& pos) {
  std::size_t start = pos;
  std::uint64_t value = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    std::uint64_t digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
    ++pos;
  }
  if (pos == start) return std::nullopt;
  return value;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// Multiplies with overflow detection.
std::optional<std::uint64_t> multiply(std::uint64_t a, std::uint64_t b) {
  if (b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b) return std::nullopt;
  return a * b;
}

Result<std::uint16_t> parse_port(std::string_view digits, std::string_view whole) {
  if (!all_digits(digits) || digits.size() > 5) {
    return fail("invalid port " + quoted(digits) + " in " + quoted(whole));
  }
  std::size_t pos = 0;
  std::uint64_t port = *read_digits(digits, pos);
  if (port > 65535) return fail("port " + std::string(digits) + " is out of range (0-65535)");
  return static_cast<std::uint16_t>(port);
}

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  static constexpr std::array<Unit, 5> units{{
      {"d", 86'400'000},
      {"h", 3'600'000},
      {"m", 60'000},
      {"s", 1'000},
      {"ms", 1},
  }};
  if (text.empty()) return fail("empty duration (expected e.g. 30s, 10m, 24h)");
  if (text == "0") return std::chrono::milliseconds{0};
  if (text.find('.') != std::string_view::npos) {
    return fail("fractions are not supported in duration " + quoted(text) +
                " (use a smaller unit, e.g. 1h30m or 1500ms)");
  }
  if (all_digits(text)) {
    return fail("duration " + quoted(text) + " has no unit (add a unit, e.g. " + std::string(text) +
                "s)");
  }
  std::uint64_t total = 0;
  std::size_t pos = 0;
  std::size_t previous_unit = 0;  // index into units; units must appear largest first
  bool first = true;
  while (pos < text.size()) {
    if (!is_digit(text[pos])) {
      return fail("invalid duration " + quoted(text) + " (expected e.g. 500ms, 30s, 10m, 1h30m)");
    }
    std::optional<std::uint64_t> number = read_digits(text, pos);
    if (!number) return fail("duration " + quoted(text) + " is too large");
    std::size_t unit_start = pos;
    while (pos < text.size() && !is_digit(text[pos])) ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    if (unit.empty()) {
      return fail("duration " + quoted(text) + " ends without a unit (use ms, s, m, h or d)");
    }
    std::size_t index = units.size();
    for (std::size_t i = 0; i < units.size(); ++i) {
      if (units[i].name == unit) index = i;
    }
    if (index == units.size()) {
      return fail("unknown unit " + quoted(unit) + " in duration " + quoted(text) +
                  " (use ms, s, m, h or d)");
    }
    if (!first && index <= previous_unit) {
      return fail("units in duration " + quoted(text) +
                  " must each appear once, largest first (e.g. 1h30m)");
    }
    first = false;
    previous_unit = index;
    std::optional<std::uint64_t> part = multiply(*number, units[index].factor);
    if (!part || *part > std::numeric_limits<std::uint64_t>::max() - total) {
      return fail("duration " + quoted(text) + " is too large");
    }
    total += *part;
  }
  if (total > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return fail("duration " + quoted(text) + " is too large");
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(total)};
}

std::string format_duration(std::chrono::milliseconds duration) {
  static constexpr std::array<Unit, 5> units{{
      {"d", 86'400'000},
      {"h", 3'600'000},
      {"m", 60'000},
      {"s", 1'000},
      {"ms", 1},
  }};
  std::int64_t count = duration.count();
  if (count == 0) return "0s";
  std::string out;
  std::uint64_t rest;
  if (count < 0) {
    out = "-";
    rest = static_cast<std::uint64_t>(-(count + 1)) + 1;
  } else {
    rest = static_cast<std::uint64_t>(count);
  }
  for (const Unit& unit : units) {
    if (rest >= unit.factor) {
      out += std::to_string(rest / unit.factor);
      out += unit.name;
      rest %= unit.factor;
    }
  }
  return out;
}

Result<ByteSize> parse_size(std::string_view text) {
  static constexpr std::array<Unit, 8> units{{
      {"B", 1},
      {"kB", 1'000},
      {"MB", 1'000'000},
      {"GB", 1'000'000'000},
      {"KiB", 1ull << 10},
      {"MiB", 1ull << 20},
      {"GiB", 1ull << 30},
      {"", 1},
  }};
  std::size_t pos = 0;
  std::optional<std::uint64_t> number = read_digits(text, pos);
  if (!number) {
    if (pos < text.size() && is_digit(text[pos]))
      return fail("size " + quoted(text) + " is too large");
    return fail("invalid size " + quoted(text) + " (expected e.g. 512, 64KiB, 50MB)");
  }
  std::string_view unit = text.substr(pos);
  for (const Unit& candidate : units) {
    if (candidate.name == unit) {
      std::optional<std::uint64_t> bytes = multiply(*number, candidate.factor);
      if (!bytes) return fail("size " + quoted(text) + " is too large");
      return ByteSize{*bytes};
    }
  }
  return fail("unknown unit " + quoted(unit) + " in size " + quoted(text) +
              " (use B, kB, MB, GB, KiB, MiB or GiB)");
}

Result<Rate> parse_rate(std::string_view text) {
  static constexpr std::array<Unit, 8> units{{
      {"bit/s", 1},
      {"kbit/s", 1'000},
      {"Mbit/s", 1'000'000},
      {"Gbit/s", 1'000'000'000},
      {"B/s", 8},
      {"kB/s", 8'000},
      {"MB/s", 8'000'000},
      {"GB/s", 8'000'000'000},
  }};
  if (text == "0") return Rate{0};
  std::size_t pos = 0;
  std::optional<std::uint64_t> number = read_digits(text, pos);
  if (!number) {
    if (pos < text.size() && is_digit(text[pos]))
      return fail("rate " + quoted(text) + " is too large");
    return fail("invalid rate " + quoted(text) + " (expected e.g. 64kbit/s, 2Mbit/s, 1MB/s)");
  }
  std::string_view unit = text.substr(pos);
  if (unit.empty()) {
    return fail("rate " + quoted(text) + " has no unit (add a unit, e.g. " + std::string(text) +
                "kbit/s)");
  }
  for (const Unit& candidate : units) {
    if (candidate.name == unit) {
      std::optional<std::uint64_t> bits = multiply(*number, candidate.factor);
      if (!bits) return fail("rate " + quoted(text) + " is too large");
      return Rate{*bits};
    }
  }
  return fail("unknown unit " + quoted(unit) + " in rate " + quoted(text) +
              " (use bit/s, kbit/s, Mbit/s, Gbit/s, B/s, kB/s, MB/s or GB/s)");
}

Result<IpAddress> parse_ip_address(std::string_view text) {
  if (text.empty()) return fail("expected an IP address, got an empty string");
  if (text.front() == '[') {
    return fail("expected an IP address, got " + quoted(text) +
                " (write IPv6 addresses without brackets here)");
  }
  boost::system::error_code error;
  IpAddress address = boost::asio::ip::make_address(std::string(text), error);
  if (error) {
    bool looks_like_name = false;
    for (char c : text) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) looks_like_name = true;
    }
    if (looks_like_name && text.find(':') == std::string_view::npos) {
      return fail("expected an IP address, got " + quoted(text) + " (host names are not resolved)");
    }
    return fail("expected an IP address, got " + quoted(text));
  }
  return address;
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return fail("missing ']' in " + quoted(text) + " (expected [IPv6]:PORT)");
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return fail("missing port in " + quoted(text) + " (expected [IPv6]:PORT)");
    }
    port = rest.substr(1);
    Result<IpAddress> address = parse_ip_address(host);
    if (!address || !address->is_v6()) {
      return fail("expected an IPv6 address inside the brackets of " + quoted(text));
    }
    Result<std::uint16_t> number = parse_port(port, text);
    if (!number) return fail(number.error());
    return Endpoint{*address, *number};
  }
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return fail("missing port in " + quoted(text) + " (expected HOST:PORT, e.g. 127.0.0.1:8080)");
  }
  host = text.substr(0, colon);
  port = text.substr(colon + 1);
  if (host.find(':') != std::string_view::npos) {
    return fail("IPv6 address in " + quoted(text) + " needs brackets, e.g. [::1]:8080");
  }
  Result<IpAddress> address = parse_ip_address(host);
  if (!address) return fail(address.error());
  Result<std::uint16_t> number = parse_port(port, text);
  if (!number) return fail(number.error());
  return Endpoint{*address, *number};
}

std::string Endpoint::to_string() const {
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

namespace {

// The address with every bit after the first `prefix` cleared.
template <typename Bytes>
Bytes mask(Bytes bytes, unsigned prefix) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    unsigned bit_offset = static_cast<unsigned>(i) * 8;
    if (bit_offset >= prefix) {
      bytes[i] = 0;
    } else if (prefix - bit_offset < 8) {
      bytes[i] &= static_cast<unsigned char>(0xff << (8 - (prefix - bit_offset)));
    }
  }
  return bytes;
}

IpAddress masked(const IpAddress& address, unsigned prefix) {
  if (address.is_v4()) {
    return boost::asio::ip::address_v4(mask(address.to_v4().to_bytes(), prefix));
  }
  boost::asio::ip::address_v6 v6 = address.to_v6();
  return boost::asio::ip::address_v6(mask(v6.to_bytes(), prefix), v6.scope_id());
}

}  // namespace

Result<Cidr> parse_cidr(std::string_view text) {
  std::size_t slash = text.find('/');
  std::string_view host = text.substr(0, slash);
  Result<IpAddress> address = parse_ip_address(host);
  if (!address) return fail(address.error() + " in network " + quoted(text));
  unsigned max_prefix = address->is_v4() ? 32 : 128;
  if (address->is_v6() && address->to_v6().scope_id() != 0) {
    return fail("network " + quoted(text) + " must not have a scope id");
  }
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (!all_digits(digits) || digits.size() > 3) {
      return fail("invalid prefix length in " + quoted(text) + " (expected ADDRESS/BITS)");
    }
    std::size_t pos = 0;
    std::uint64_t value = *read_digits(digits, pos);
    if (value > max_prefix) {
      return fail("prefix length " + std::string(digits) + " in " + quoted(text) +
                  " is out of range (0-" + std::to_string(max_prefix) + ")");
    }
    prefix = static_cast<unsigned>(value);
  }
  IpAddress network = masked(*address, prefix);
  if (network != *address) {
    return fail("host bits are set in " + quoted(text) + " (did you mean " + network.to_string() +
                "/" + std::to_string(prefix) + "?)");
  }
  return Cidr{network, prefix};
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.is_v4() != network.is_v4()) return false;
  if (address.is_v4()) {
    return boost::asio::ip::address_v4(mask(address.to_v4().to_bytes(), prefix)) == network.to_v4();
  }
  return mask(address.to_v6().to_bytes(), prefix) == network.to_v6().to_bytes();
}

std::string Cidr::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix);
}

const char* to_string(Transport transport) {
  switch (transport) {
    case Transport::udp:
      return "udp";
    case Transport::tcp:
      return "tcp";
    case Transport::tls:
      return "tls";
    case Transport::dtls:
      return "dtls";
  }
  return "?";
}

Result<ListenUrl> parse_listen_url(std::string_view text) {
  std::size_t separator = text.find("://");
  if (separator == std::string_view::npos) {
    return fail("expected a listen URL like udp://127.0.0.1:3478, got " + quoted(text));
  }
  std::string_view scheme = text.substr(0, separator);
  ListenUrl url;
  if (scheme == "udp") {
    url.transport = Transport::udp;
  } else if (scheme == "tcp") {
    url.transport = Transport::tcp;
  } else if (scheme == "tls") {
    url.transport = Transport::tls;
  } else if (scheme == "dtls") {
    url.transport = Transport::dtls;
  } else {
    return fail("unknown transport " + quoted(scheme) + " in " + quoted(text) +
                " (use udp, tcp, tls or dtls)");
  }
  Result<Endpoint> endpoint = parse_endpoint(text.substr(separator + 3));
  if (!endpoint) return fail(endpoint.error());
  url.endpoint = *endpoint;
  return url;
}

std::string ListenUrl::to_string() const {
  return std::string(config::to_string(transport)) + "://" + endpoint.to_string();
}

Result<PortRange> parse_port_range(std::string_view text) {
  std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    return fail("expected a port range FIRST-LAST (e.g. 49152-65535), got " + quoted(text));
  }
  Result<std::uint16_t> first = parse_port(text.substr(0, dash), text);
  if (!first) return fail(first.error());
  Result<std::uint16_t> last = parse_port(text.substr(dash + 1), text);
  if (!last) return fail(last.error());
  if (*first == 0) return fail("port range " + quoted(text) + " must start at 1 or above");
  if (*first > *last) return fail("port range " + quoted(text) + " ends before it starts");
  return PortRange{*first, *last};
}

}  // namespace podium::config
