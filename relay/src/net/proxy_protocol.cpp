#include "net/proxy_protocol.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace podium::relay::proxy_protocol {

const char kNeedMoreText[] = "need more bytes";

namespace {

constexpr std::array<std::uint8_t, 12> kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                     0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::array<std::uint8_t, 6> kVersion1 = {'P', 'R', 'O', 'X', 'Y', ' '};

// Byte 13: address family (high nibble) and transport (low nibble).
constexpr std::uint8_t kUnspec = 0x00;
constexpr std::uint8_t kTcp4 = 0x11;
constexpr std::uint8_t kTcp6 = 0x21;
constexpr std::size_t kTcp4Addresses = 4 + 4 + 2 + 2;
constexpr std::size_t kTcp6Addresses = 16 + 16 + 2 + 2;

std::uint16_t read16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

SocketAddress v4(const std::uint8_t* address, const std::uint8_t* port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  std::memcpy(&sin.sin_addr, address, 4);
  std::memcpy(&sin.sin_port, port, 2);  // both in network byte order
  return SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin), sizeof(sin));
}

SocketAddress v6(const std::uint8_t* address, const std::uint8_t* port) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  std::memcpy(&sin6.sin6_addr, address, 16);
  std::memcpy(&sin6.sin6_port, port, 2);
  return SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin6), sizeof(sin6));
}

}  // namespace

std::size_t wanted(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kFixedSize) return kFixedSize;
  return kFixedSize + read16(bytes.data() + 14);
}

Result<Header, Reason> parse(std::span<const std::uint8_t> bytes) {
  const std::size_t prefix = std::min(bytes.size(), kSignature.size());
  if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(prefix),
                  kSignature.begin())) {
    const std::size_t v1 = std::min(bytes.size(), kVersion1.size());
    if (std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(v1),
                   kVersion1.begin())) {
      return fail_reason("a PROXY protocol version 1 (text) header; only version 2 is accepted");
    }
    return fail_reason("no PROXY protocol v2 signature");
  }
  if (bytes.size() < kFixedSize) return fail(kNeedMore);

  const std::uint8_t version_command = bytes[12];
  if ((version_command >> 4) != 2) return fail_reason("unsupported PROXY protocol version");
  const std::uint8_t command = version_command & 0x0F;
  if (command > 1) return fail_reason("unknown PROXY protocol command");
  const bool local = command == 0;
  const std::uint8_t family = bytes[13];
  const std::size_t payload = read16(bytes.data() + 14);
  if (payload > kMaxPayload) return fail_reason("PROXY protocol header longer than 528 bytes");

  // Only what the fixed part announces is judged before it has all arrived; then the rest.
  if (!local && family != kUnspec && family != kTcp4 && family != kTcp6) {
    return fail_reason("PROXY protocol address family is not TCP over IPv4 or IPv6");
  }
  if (!local && family == kTcp4 && payload < kTcp4Addresses) {
    return fail_reason("PROXY protocol TCP/IPv4 address block too short");
  }
  if (!local && family == kTcp6 && payload < kTcp6Addresses) {
    return fail_reason("PROXY protocol TCP/IPv6 address block too short");
  }
  if (bytes.size() < kFixedSize + payload) return fail(kNeedMore);

  Header header;
  header.length = kFixedSize + payload;
  // Section 2.2: with LOCAL the receiver uses the real connection endpoints and discards the
  // address block whatever its family; with UNSPEC likewise. TLVs after the addresses are
  // skipped (the relay uses none of them).
  if (local || family == kUnspec) return header;
  const std::uint8_t* a = bytes.data() + kFixedSize;
  header.has_addresses = true;
  if (family == kTcp4) {
    header.source = v4(a, a + 8);
    header.destination = v4(a + 4, a + 10);
  } else {
    header.source = v6(a, a + 32);
    header.destination = v6(a + 16, a + 34);
  }
  return header;
}

}  // namespace podium::relay::proxy_protocol
