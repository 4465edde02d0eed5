// The XOR-MAPPED-ADDRESS wire format (RFC 8489 §14.2), shared by XOR-PEER-ADDRESS and
// XOR-RELAYED-ADDRESS (RFC 8656 §18.3, §18.5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "podium/common/result.hpp"
#include "podium/stun/address.hpp"
#include "podium/stun/attribute.hpp"
#include "podium/stun/constants.hpp"

namespace podium::stun {

// Decodes an XOR address value; the transaction id is that of the enclosing message.
Result<Address, Reason> decode_xor_address(const AttributeView& attribute,
                                           const TransactionId& transaction_id);
// Writes the value; returns the bytes written, 0 if `out` is too small.
size_t write_xor_address(std::span<uint8_t> out, const Address& address,
                         const TransactionId& transaction_id);

}  // namespace podium::stun
