#include "podium/stun/xor_address.hpp"

#include <array>
#include <cstring>

#include "byte_io.hpp"

namespace podium::stun {

namespace {

using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

// RFC 8489 §14.2: IPv4 addresses are XORed with the magic cookie, IPv6 addresses with the
// cookie followed by the transaction id; the port with the cookie's top 16 bits.
std::array<uint8_t, 16> xor_pad(const TransactionId& transaction_id) {
  std::array<uint8_t, 16> pad{};
  detail::store_u32(pad.data(), kMagicCookie);
  std::memcpy(pad.data() + 4, transaction_id.data(), transaction_id.size());
  return pad;
}

constexpr uint16_t kPortMask = static_cast<uint16_t>(kMagicCookie >> 16);

}  // namespace

Result<Address, Reason> decode_xor_address(const AttributeView& attribute,
                                           const TransactionId& transaction_id) {
  const auto value = attribute.value;
  if (value.size() < 4) return fail_reason("address attribute too short");
  const uint8_t family = value[1];
  const auto port = static_cast<uint16_t>(detail::load_u16(&value[2]) ^ kPortMask);
  const auto pad = xor_pad(transaction_id);
  if (family == static_cast<uint8_t>(AddressFamily::kIPv4)) {
    if (value.size() != kAddressIPv4Size) return fail_reason("bad IPv4 address length");
    address_v4::bytes_type bytes;
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = value[4 + i] ^ pad[i];
    return Address{address_v4(bytes), port};
  }
  if (family == static_cast<uint8_t>(AddressFamily::kIPv6)) {
    if (value.size() != kAddressIPv6Size) return fail_reason("bad IPv6 address length");
    address_v6::bytes_type bytes;
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = value[4 + i] ^ pad[i];
    return Address{address_v6(bytes), port};
  }
  return fail_reason("bad address family");
}

size_t write_xor_address(std::span<uint8_t> out, const Address& address,
                         const TransactionId& transaction_id) {
  const size_t size = write_address(out, address);
  if (size == 0) return 0;
  detail::store_u16(&out[2], static_cast<uint16_t>(address.port ^ kPortMask));
  const auto pad = xor_pad(transaction_id);
  for (size_t i = 4; i < size; ++i) out[i] ^= pad[i - 4];
  return size;
}

}  // namespace podium::stun
