// Typed decoders for attribute values (RFC 8489 §14, RFC 8656 §18, RFC 6062 §6.2,
// RFC 5780 §7, RFC 8445 §16). Each one checks the value's length and ranges and returns a
// view into the message or a plain value; none allocates. XOR and plain addresses live in
// xor_address.hpp and address.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "podium/common/result.hpp"
#include "podium/stun/address.hpp"
#include "podium/stun/attribute.hpp"
#include "podium/stun/constants.hpp"
#include "podium/stun/fixed_list.hpp"

namespace podium::stun {

// Byte limits of the text attributes. RFC 8489 §14.3 asks for USERNAME "fewer than 509 bytes"
// where RFC 5389 allowed fewer than 513; we accept up to 513 for older clients. REALM, NONCE,
// SOFTWARE and the ERROR-CODE reason phrase are limited to fewer than 128 characters, which
// can be as long as 763 bytes (§14.8-§14.10, §14.14). ALTERNATE-DOMAIN is a domain name.
inline constexpr size_t kMaxUsernameBytes = 513;
inline constexpr size_t kMaxTextBytes = 763;
inline constexpr size_t kMaxTextCharacters = 127;
inline constexpr size_t kMaxAlternateDomainBytes = 255;

// The byte limit decode_string() and the builder apply to `type` (65535 when unlimited).
size_t max_string_length(AttributeType type);

// USERNAME, REALM, NONCE, SOFTWARE, ALTERNATE-DOMAIN or any other opaque text, within the
// limits above. The bytes are returned as they are (no UTF-8 validation).
Result<std::string_view, Reason> decode_string(const AttributeView& attribute);

// 32-bit values: LIFETIME, PRIORITY, CONNECTION-ID.
Result<uint32_t, Reason> decode_u32(const AttributeView& attribute);
// 64-bit values: ICE-CONTROLLED / ICE-CONTROLLING tie-breakers, RESERVATION-TOKEN.
Result<uint64_t, Reason> decode_u64(const AttributeView& attribute);

// CHANNEL-NUMBER (RFC 8656 §18.1): fails unless the number is in 0x4000-0x4FFF.
Result<uint16_t, Reason> decode_channel_number(const AttributeView& attribute);

// REQUESTED-TRANSPORT (RFC 8656 §18.8): the IANA protocol number (17 UDP, 6 TCP).
Result<uint8_t, Reason> decode_requested_transport(const AttributeView& attribute);

// REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.6, §18.11). Fails with
// "unknown address family" for values other than 0x01 and 0x02 (answer 440).
Result<AddressFamily, Reason> decode_address_family(const AttributeView& attribute);

// Reason phrases: at most 763 bytes and 127 UTF-8 characters (§14.8).
bool is_valid_reason_phrase(std::string_view reason);

// ERROR-CODE (RFC 8489 §14.8): code = class * 100 + number, class 3..6, number 0..99.
struct ErrorCodeValue {
  uint16_t code = 0;
  std::string_view reason;
};
Result<ErrorCodeValue, Reason> decode_error_code(const AttributeView& attribute);

// ADDRESS-ERROR-CODE (RFC 8656 §18.12).
struct AddressErrorCodeValue {
  AddressFamily family{};
  uint16_t code = 0;
  std::string_view reason;
};
Result<AddressErrorCodeValue, Reason> decode_address_error_code(const AttributeView& attribute);

// UNKNOWN-ATTRIBUTES (RFC 8489 §14.13). Lists longer than the capacity fail.
using UnknownAttributeList = FixedList<AttributeType, 32>;
Result<UnknownAttributeList, Reason> decode_unknown_attributes(const AttributeView& attribute);

// PASSWORD-ALGORITHM / PASSWORD-ALGORITHMS (RFC 8489 §14.11, §14.12, §18.5).
enum class PasswordAlgorithm : uint16_t { kMd5 = 0x0001, kSha256 = 0x0002 };
struct PasswordAlgorithmEntry {
  PasswordAlgorithm algorithm{};
  std::span<const uint8_t> parameters;

  friend bool operator==(const PasswordAlgorithmEntry& a, const PasswordAlgorithmEntry& b) {
    return a.algorithm == b.algorithm && std::ranges::equal(a.parameters, b.parameters);
  }
};
using PasswordAlgorithmList = FixedList<PasswordAlgorithmEntry, 8>;
Result<PasswordAlgorithmList, Reason> decode_password_algorithms(const AttributeView& attribute);
Result<PasswordAlgorithmEntry, Reason> decode_password_algorithm(const AttributeView& attribute);

// USERHASH (RFC 8489 §14.4): exactly 32 bytes.
inline constexpr size_t kUserhashSize = 32;
Result<std::span<const uint8_t>, Reason> decode_userhash(const AttributeView& attribute);

// CONNECTION-ID (RFC 6062 §6.2.1).
inline Result<uint32_t, Reason> decode_connection_id(const AttributeView& attribute) {
  return decode_u32(attribute);
}

// CHANGE-REQUEST (RFC 5780 §7.2): the "change IP" (A) and "change port" (B) flags.
struct ChangeRequest {
  bool change_ip = false;
  bool change_port = false;
  friend bool operator==(const ChangeRequest&, const ChangeRequest&) = default;
};
Result<ChangeRequest, Reason> decode_change_request(const AttributeView& attribute);

// EVEN-PORT (RFC 8656 §18.7): the R bit (reserve the next port as well).
Result<bool, Reason> decode_even_port(const AttributeView& attribute);

// ICMP (RFC 8656 §18.13).
struct IcmpValue {
  uint8_t type = 0;
  uint8_t code = 0;
  uint32_t error_data = 0;
  friend bool operator==(const IcmpValue&, const IcmpValue&) = default;
};
Result<IcmpValue, Reason> decode_icmp(const AttributeView& attribute);

// MESSAGE-INTEGRITY, FINGERPRINT, DONT-FRAGMENT, USE-CANDIDATE and DATA need no decoding:
// presence is MessageView::has(), contents are AttributeView::value. Flags carry no value.
inline bool is_valid_flag(const AttributeView& attribute) {
  return attribute.value.empty();
}

}  // namespace podium::stun
