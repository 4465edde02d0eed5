#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "allocation_counter.hpp"
#include "net/proxy_protocol.hpp"

namespace {

namespace proxy = podium::relay::proxy_protocol;
using Bytes = std::vector<std::uint8_t>;

const Bytes kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

void append(Bytes& out, std::initializer_list<std::uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}
void append16(Bytes& out, std::uint16_t value) {
  append(out, {static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)});
}
void append_ip(Bytes& out, int family, const char* text) {
  std::uint8_t buffer[16];
  ASSERT_EQ(inet_pton(family, text, buffer), 1) << text;
  out.insert(out.end(), buffer, buffer + (family == AF_INET ? 4 : 16));
}

// A v2 header: version/command byte, family byte, then `payload` (addresses and TLVs).
Bytes header(std::uint8_t version_command, std::uint8_t family, const Bytes& payload) {
  Bytes out = kSignature;
  append(out, {version_command, family});
  append16(out, static_cast<std::uint16_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes ipv4_block(const char* source, std::uint16_t source_port, const char* destination,
                 std::uint16_t destination_port) {
  Bytes out;
  append_ip(out, AF_INET, source);
  append_ip(out, AF_INET, destination);
  append16(out, source_port);
  append16(out, destination_port);
  return out;
}

Bytes ipv6_block(const char* source, std::uint16_t source_port, const char* destination,
                 std::uint16_t destination_port) {
  Bytes out;
  append_ip(out, AF_INET6, source);
  append_ip(out, AF_INET6, destination);
  append16(out, source_port);
  append16(out, destination_port);
  return out;
}

auto parse(const Bytes& bytes) {
  return proxy::parse(std::span<const std::uint8_t>(bytes));
}

std::string reason(const Bytes& bytes) {
  auto result = parse(bytes);
  if (result) return "(parsed)";
  return result.error().text;
}

TEST(ProxyProtocol, ProxyTcp4) {
  Bytes bytes = header(0x21, 0x11, ipv4_block("198.51.100.7", 40000, "192.0.2.1", 3478));
  ASSERT_EQ(bytes.size(), 28u);
  // A STUN request right behind the header is not part of it.
  append(bytes, {0x00, 0x01, 0x00, 0x00});
  auto result = parse(bytes);
  ASSERT_TRUE(result) << result.error().text;
  EXPECT_EQ(result->length, 28u);
  EXPECT_TRUE(result->has_addresses);
  EXPECT_EQ(result->source.to_string(), "198.51.100.7:40000");
  EXPECT_EQ(result->destination.to_string(), "192.0.2.1:3478");
}

TEST(ProxyProtocol, ProxyTcp6) {
  auto bytes = header(0x21, 0x21, ipv6_block("2001:db8::7", 40001, "2001:db8::1", 443));
  auto result = parse(bytes);
  ASSERT_TRUE(result) << result.error().text;
  EXPECT_EQ(result->length, 16u + 36u);
  EXPECT_TRUE(result->has_addresses);
  EXPECT_TRUE(result->source.is_v6());
  EXPECT_EQ(result->source.port(), 40001);
  EXPECT_EQ(result->source.ip().to_string(), "2001:db8::7");
  EXPECT_EQ(result->destination.ip().to_string(), "2001:db8::1");
  EXPECT_EQ(result->destination.port(), 443);
}

TEST(ProxyProtocol, LocalKeepsTheConnectionsAddresses) {
  auto result = parse(header(0x20, 0x00, {}));
  ASSERT_TRUE(result) << result.error().text;
  EXPECT_EQ(result->length, 16u);
  EXPECT_FALSE(result->has_addresses);
  // LOCAL with an address block (allowed by the spec): the block is skipped, not used.
  auto with_block = header(0x20, 0x11, ipv4_block("198.51.100.7", 1, "192.0.2.1", 2));
  result = parse(with_block);
  ASSERT_TRUE(result) << result.error().text;
  EXPECT_EQ(result->length, with_block.size());
  EXPECT_FALSE(result->has_addresses);
}

TEST(ProxyProtocol, ProxyWithUnspecifiedFamilyKeepsTheConnectionsAddresses) {
  auto result = parse(header(0x21, 0x00, {0x01, 0x02, 0x03}));
  ASSERT_TRUE(result) << result.error().text;
  EXPECT_EQ(result->length, 19u);
  EXPECT_FALSE(result->has_addresses);
}

TEST(ProxyProtocol, TlvsAreSkipped) {
  Bytes payload = ipv4_block("203.0.113.9", 5000, "192.0.2.1", 3478);
  append(payload, {0x01, 0x00, 0x02, 'h', '2'});                // PP2_TYPE_ALPN
  append(payload, {0x02, 0x00, 0x03, 'a', '.', 'b'});           // PP2_TYPE_AUTHORITY
  append(payload, {0x03, 0x00, 0x04, 0x11, 0x22, 0x33, 0x44});  // PP2_TYPE_CRC32C
  append(payload, {0x04, 0x00, 0x00});                          // PP2_TYPE_NOOP
  auto bytes = header(0x21, 0x11, payload);
  auto result = parse(bytes);
  ASSERT_TRUE(result) << result.error().text;
  EXPECT_EQ(result->length, bytes.size());
  EXPECT_EQ(result->source.to_string(), "203.0.113.9:5000");
}

TEST(ProxyProtocol, EveryPrefixNeedsMoreAndWantedNeverOvershoots) {
  Bytes payload = ipv6_block("2001:db8::7", 40001, "2001:db8::1", 443);
  append(payload, {0x04, 0x00, 0x02, 0x00, 0x00});
  const auto bytes = header(0x21, 0x21, payload);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    std::span<const std::uint8_t> prefix(bytes.data(), n);
    auto result = proxy::parse(prefix);
    EXPECT_TRUE(proxy::need_more(result)) << n << ": " << result.error().text;
    const std::size_t wanted = proxy::wanted(prefix);
    EXPECT_GT(wanted, n);
    EXPECT_LE(wanted, bytes.size());
  }
  EXPECT_EQ(proxy::wanted(std::span<const std::uint8_t>(bytes.data(), 3)), 16u);
  EXPECT_EQ(proxy::wanted(std::span<const std::uint8_t>(bytes.data(), 16)), bytes.size());
  // Fed the way a reader splits it (byte at a time up to 16, then the rest).
  Bytes arrived;
  for (std::size_t i = 0; i < 16; ++i) {
    arrived.push_back(bytes[i]);
    if (i + 1 < 16) {
      EXPECT_TRUE(proxy::need_more(parse(arrived)));
    }
  }
  EXPECT_TRUE(proxy::need_more(parse(arrived)));
  arrived.insert(arrived.end(), bytes.begin() + 16, bytes.end() - 1);
  EXPECT_TRUE(proxy::need_more(parse(arrived)));
  arrived.push_back(bytes.back());
  auto result = parse(arrived);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->length, bytes.size());
}

TEST(ProxyProtocol, BadSignatureIsRefusedAtTheFirstWrongByte) {
  EXPECT_EQ(reason({0x00}), "no PROXY protocol v2 signature");
  // A STUN Binding request.
  EXPECT_EQ(reason({0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42}),
            "no PROXY protocol v2 signature");
  // A TLS ClientHello.
  EXPECT_EQ(reason({0x16, 0x03, 0x01, 0x02, 0x00}), "no PROXY protocol v2 signature");
  Bytes almost = kSignature;
  almost[11] = 0x0B;
  EXPECT_EQ(reason(almost), "no PROXY protocol v2 signature");
  EXPECT_TRUE(proxy::need_more(parse({0x0D, 0x0A, 0x0D})));
}

TEST(ProxyProtocol, VersionOneIsRefused) {
  const std::string v1 = "PROXY TCP4 198.51.100.7 192.0.2.1 40000 3478\r\n";
  const std::string expected =
      "a PROXY protocol version 1 (text) header; only version 2 is accepted";
  EXPECT_EQ(reason(Bytes(v1.begin(), v1.end())), expected);
  EXPECT_EQ(reason(Bytes(v1.begin(), v1.begin() + 3)), expected);
}

TEST(ProxyProtocol, WrongVersionOrCommandIsRefused) {
  const auto block = ipv4_block("198.51.100.7", 1, "192.0.2.1", 2);
  EXPECT_EQ(reason(header(0x11, 0x11, block)), "unsupported PROXY protocol version");
  EXPECT_EQ(reason(header(0x31, 0x11, block)), "unsupported PROXY protocol version");
  EXPECT_EQ(reason(header(0x22, 0x11, block)), "unknown PROXY protocol command");
  EXPECT_EQ(reason(header(0x2F, 0x11, block)), "unknown PROXY protocol command");
}

TEST(ProxyProtocol, OtherFamiliesAndShortAddressBlocksAreRefused) {
  const auto block = ipv4_block("198.51.100.7", 1, "192.0.2.1", 2);
  const std::string family = "PROXY protocol address family is not TCP over IPv4 or IPv6";
  EXPECT_EQ(reason(header(0x21, 0x12, block)), family);          // UDP over IPv4
  EXPECT_EQ(reason(header(0x21, 0x31, Bytes(216, 0))), family);  // UNIX stream
  EXPECT_EQ(reason(header(0x21, 0x11, Bytes(11, 0))),
            "PROXY protocol TCP/IPv4 address block too short");
  EXPECT_EQ(reason(header(0x21, 0x21, block)), "PROXY protocol TCP/IPv6 address block too short");
  // Refused from the fixed part alone, without waiting for the announced bytes.
  auto fixed = header(0x21, 0x12, block);
  fixed.resize(16);
  EXPECT_EQ(reason(fixed), family);
}

TEST(ProxyProtocol, OversizeIsRefusedWithoutWaitingForIt) {
  Bytes payload = ipv4_block("198.51.100.7", 1, "192.0.2.1", 2);
  payload.resize(proxy::kMaxPayload, 0);  // TLV space up to the cap is fine
  auto at_cap = header(0x21, 0x11, payload);
  auto result = parse(at_cap);
  ASSERT_TRUE(result) << result.error().text;
  EXPECT_EQ(result->length, proxy::kMaxHeader);

  Bytes fixed = kSignature;
  append(fixed, {0x21, 0x11});
  append16(fixed, static_cast<std::uint16_t>(proxy::kMaxPayload + 1));
  EXPECT_EQ(reason(fixed), "PROXY protocol header longer than 528 bytes");
  fixed.resize(16);
  fixed[14] = 0xFF;
  fixed[15] = 0xFF;
  EXPECT_EQ(reason(fixed), "PROXY protocol header longer than 528 bytes");
}

TEST(ProxyProtocol, TruncatedHeaderNeedsMore) {
  auto bytes = header(0x21, 0x11, ipv4_block("198.51.100.7", 40000, "192.0.2.1", 3478));
  bytes.pop_back();
  EXPECT_TRUE(proxy::need_more(parse(bytes)));
  bytes.resize(15);
  EXPECT_TRUE(proxy::need_more(parse(bytes)));
}

TEST(ProxyProtocol, ParsingDoesNotAllocate) {
  auto bytes = header(0x21, 0x21, ipv6_block("2001:db8::7", 40001, "2001:db8::1", 443));
  const Bytes v1 = {'P', 'R', 'O', 'X', 'Y', ' '};
  podium::testing::CountAllocations counter;
  for (int i = 0; i < 100; ++i) {
    auto ok = parse(bytes);
    auto refused = parse(v1);
    ASSERT_TRUE(ok);
    ASSERT_FALSE(refused);
  }
  EXPECT_EQ(counter.count(), 0u);
}

}  // namespace
