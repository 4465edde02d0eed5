#include "podium/stun/address.hpp"

#include <cstring>

#include "byte_io.hpp"

namespace podium::stun {

using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

Address Address::normalized() const {
  if (ip.is_v6() && ip.to_v6().is_v4_mapped()) {
    return Address{boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, ip.to_v6()), port};
  }
  return *this;
}

// RFC 8489 §14.1: 0x00, family, port, then 32 or 128 address bits.
Result<Address, Reason> decode_address(const AttributeView& attribute) {
  const auto value = attribute.value;
  if (value.size() < 4) return fail_reason("address attribute too short");
  const uint8_t family = value[1];
  const uint16_t port = detail::load_u16(&value[2]);
  if (family == static_cast<uint8_t>(AddressFamily::kIPv4)) {
    if (value.size() != kAddressIPv4Size) return fail_reason("bad IPv4 address length");
    address_v4::bytes_type bytes;
    std::memcpy(bytes.data(), &value[4], bytes.size());
    return Address{address_v4(bytes), port};
  }
  if (family == static_cast<uint8_t>(AddressFamily::kIPv6)) {
    if (value.size() != kAddressIPv6Size) return fail_reason("bad IPv6 address length");
    address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &value[4], bytes.size());
    return Address{address_v6(bytes), port};
  }
  return fail_reason("bad address family");
}

size_t write_address(std::span<uint8_t> out, const Address& address) {
  const size_t size = encoded_address_size(address);
  if (out.size() < size) return 0;
  out[0] = 0;
  out[1] = static_cast<uint8_t>(address.family());
  detail::store_u16(&out[2], address.port);
  if (address.ip.is_v6()) {
    const auto bytes = address.ip.to_v6().to_bytes();
    std::memcpy(&out[4], bytes.data(), bytes.size());
  } else {
    const auto bytes = address.ip.to_v4().to_bytes();
    std::memcpy(&out[4], bytes.data(), bytes.size());
  }
  return size;
}

}  // namespace podium::stun
