// Transport addresses and the MAPPED-ADDRESS wire format (RFC 8489 §14.1), which
// ALTERNATE-SERVER, RESPONSE-ORIGIN and OTHER-ADDRESS share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <boost/asio/ip/address.hpp>

#include "podium/common/result.hpp"
#include "podium/stun/attribute.hpp"

namespace podium::stun {

enum class AddressFamily : uint8_t { kIPv4 = 0x01, kIPv6 = 0x02 };

struct Address {
  boost::asio::ip::address ip;
  uint16_t port = 0;

  AddressFamily family() const { return ip.is_v6() ? AddressFamily::kIPv6 : AddressFamily::kIPv4; }
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d from a dual-stack socket) as plain IPv4.
  Address normalized() const;

  template <typename Endpoint>
  static Address from_endpoint(const Endpoint& endpoint) {
    return Address{endpoint.address(), endpoint.port()};
  }
  template <typename Endpoint>
  Endpoint to_endpoint() const {
    return Endpoint(ip, port);
  }

  friend bool operator==(const Address&, const Address&) = default;
};

// Value sizes: 4 bytes of family/port plus 4 or 16 address bytes.
inline constexpr size_t kAddressIPv4Size = 8;
inline constexpr size_t kAddressIPv6Size = 20;
inline size_t encoded_address_size(const Address& address) {
  return address.ip.is_v6() ? kAddressIPv6Size : kAddressIPv4Size;
}

// Decodes a MAPPED-ADDRESS style value. Fails on a bad family or length.
Result<Address, Reason> decode_address(const AttributeView& attribute);
// Writes the value; returns the bytes written, 0 if `out` is too small.
size_t write_address(std::span<uint8_t> out, const Address& address);

}  // namespace podium::stun
