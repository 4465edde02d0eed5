#include "podium/stun/attributes.hpp"

#include "byte_io.hpp"
#include "podium/stun/channel_data.hpp"

namespace podium::stun {

namespace {

// UTF-8 characters: every byte that is not a continuation byte (10xxxxxx) starts one.
size_t count_characters(std::span<const uint8_t> bytes) {
  size_t count = 0;
  for (uint8_t b : bytes) count += (b & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

bool has_character_limit(AttributeType type) {
  return type == AttributeType::kRealm || type == AttributeType::kNonce ||
         type == AttributeType::kSoftware;
}

Result<std::string_view, Reason> check_reason_phrase(std::span<const uint8_t> bytes) {
  if (!is_valid_reason_phrase(as_text(bytes))) return fail_reason("reason phrase too long");
  return as_text(bytes);
}

}  // namespace

bool is_valid_reason_phrase(std::string_view reason) {
  return reason.size() <= kMaxTextBytes && count_characters(as_bytes(reason)) <= kMaxTextCharacters;
}

size_t max_string_length(AttributeType type) {
  switch (type) {
    case AttributeType::kUsername:
      return kMaxUsernameBytes;
    case AttributeType::kRealm:
    case AttributeType::kNonce:
    case AttributeType::kSoftware:
      return kMaxTextBytes;
    case AttributeType::kAlternateDomain:
      return kMaxAlternateDomainBytes;
    default:
      return 0xFFFF;
  }
}

Result<std::string_view, Reason> decode_string(const AttributeView& attribute) {
  if (attribute.value.size() > max_string_length(attribute.type)) {
    return fail_reason("text attribute too long");
  }
  if (has_character_limit(attribute.type) &&
      count_characters(attribute.value) > kMaxTextCharacters) {
    return fail_reason("text attribute has too many characters");
  }
  return as_text(attribute.value);
}

Result<uint32_t, Reason> decode_u32(const AttributeView& attribute) {
  if (attribute.value.size() != 4) return fail_reason("32-bit attribute has bad length");
  return detail::load_u32(attribute.value.data());
}

Result<uint64_t, Reason> decode_u64(const AttributeView& attribute) {
  if (attribute.value.size() != 8) return fail_reason("64-bit attribute has bad length");
  return detail::load_u64(attribute.value.data());
}

// RFC 8656 §18.1: channel number, then 16 RFFU bits.
Result<uint16_t, Reason> decode_channel_number(const AttributeView& attribute) {
  if (attribute.value.size() != 4) return fail_reason("CHANNEL-NUMBER has bad length");
  const uint16_t channel = detail::load_u16(attribute.value.data());
  if (!is_acceptable_channel_number(channel)) return fail_reason("channel number out of range");
  return channel;
}

// RFC 8656 §18.8: protocol byte, then 24 RFFU bits.
Result<uint8_t, Reason> decode_requested_transport(const AttributeView& attribute) {
  if (attribute.value.size() != 4) return fail_reason("REQUESTED-TRANSPORT has bad length");
  return attribute.value[0];
}

// RFC 8656 §18.6 / §18.11: family byte, then 24 reserved bits.
Result<AddressFamily, Reason> decode_address_family(const AttributeView& attribute) {
  if (attribute.value.size() != 4) return fail_reason("address family attribute has bad length");
  const uint8_t family = attribute.value[0];
  if (family != static_cast<uint8_t>(AddressFamily::kIPv4) &&
      family != static_cast<uint8_t>(AddressFamily::kIPv6)) {
    return fail_reason("unknown address family");
  }
  return static_cast<AddressFamily>(family);
}

// RFC 8489 §14.8: 21 reserved bits, class (3 bits), number (8 bits), reason phrase.
Result<ErrorCodeValue, Reason> decode_error_code(const AttributeView& attribute) {
  const auto value = attribute.value;
  if (value.size() < 4) return fail_reason("ERROR-CODE too short");
  const unsigned cls = value[2] & 0x07;
  const unsigned number = value[3];
  if (cls < 3 || cls > 6 || number > 99) return fail_reason("bad error code");
  auto reason = check_reason_phrase(value.subspan(4));
  if (!reason) return fail(reason.error());
  return ErrorCodeValue{static_cast<uint16_t>(cls * 100 + number), *reason};
}

// RFC 8656 §18.12: family, 13 reserved bits, class (3 bits), number (8 bits), reason phrase.
Result<AddressErrorCodeValue, Reason> decode_address_error_code(const AttributeView& attribute) {
  const auto value = attribute.value;
  if (value.size() < 4) return fail_reason("ADDRESS-ERROR-CODE too short");
  const uint8_t family = value[0];
  if (family != static_cast<uint8_t>(AddressFamily::kIPv4) &&
      family != static_cast<uint8_t>(AddressFamily::kIPv6)) {
    return fail_reason("unknown address family");
  }
  const unsigned cls = value[2] & 0x07;
  const unsigned number = value[3];
  if (cls < 3 || cls > 6 || number > 99) return fail_reason("bad error code");
  auto reason = check_reason_phrase(value.subspan(4));
  if (!reason) return fail(reason.error());
  return AddressErrorCodeValue{static_cast<AddressFamily>(family),
                               static_cast<uint16_t>(cls * 100 + number), *reason};
}

// RFC 8489 §14.13: a list of 16-bit attribute types.
Result<UnknownAttributeList, Reason> decode_unknown_attributes(const AttributeView& attribute) {
  const auto value = attribute.value;
  if (value.size() % 2 != 0) return fail_reason("UNKNOWN-ATTRIBUTES has odd length");
  UnknownAttributeList list;
  for (size_t i = 0; i < value.size(); i += 2) {
    if (!list.push_back(static_cast<AttributeType>(detail::load_u16(&value[i])))) {
      return fail_reason("too many unknown attributes");
    }
  }
  return list;
}

namespace {

// RFC 8489 §14.11: algorithm (16 bits), parameters length (16 bits), parameters padded to 4.
// Reads one entry at `offset` and advances it.
Result<PasswordAlgorithmEntry, Reason> read_algorithm(std::span<const uint8_t> value,
                                                      size_t& offset) {
  if (value.size() - offset < 4) return fail_reason("password algorithm truncated");
  const uint16_t algorithm = detail::load_u16(&value[offset]);
  const uint16_t length = detail::load_u16(&value[offset + 2]);
  offset += 4;
  if (value.size() - offset < length) return fail_reason("password algorithm truncated");
  PasswordAlgorithmEntry entry{static_cast<PasswordAlgorithm>(algorithm),
                               value.subspan(offset, length)};
  offset += std::min(padded_length(length), value.size() - offset);
  return entry;
}

}  // namespace

Result<PasswordAlgorithmList, Reason> decode_password_algorithms(const AttributeView& attribute) {
  PasswordAlgorithmList list;
  size_t offset = 0;
  while (offset < attribute.value.size()) {
    auto entry = read_algorithm(attribute.value, offset);
    if (!entry) return fail(entry.error());
    if (!list.push_back(*entry)) return fail_reason("too many password algorithms");
  }
  return list;
}

// RFC 8489 §14.12: exactly one entry in the PASSWORD-ALGORITHMS format.
Result<PasswordAlgorithmEntry, Reason> decode_password_algorithm(const AttributeView& attribute) {
  size_t offset = 0;
  auto entry = read_algorithm(attribute.value, offset);
  if (!entry) return entry;
  if (offset != attribute.value.size()) return fail_reason("PASSWORD-ALGORITHM has bad length");
  return entry;
}

Result<std::span<const uint8_t>, Reason> decode_userhash(const AttributeView& attribute) {
  if (attribute.value.size() != kUserhashSize) return fail_reason("USERHASH has bad length");
  return attribute.value;
}

// RFC 5780 §7.2: 29 zero bits, A (change IP), B (change port), one zero bit.
Result<ChangeRequest, Reason> decode_change_request(const AttributeView& attribute) {
  if (attribute.value.size() != 4) return fail_reason("CHANGE-REQUEST has bad length");
  const uint8_t flags = attribute.value[3];
  return ChangeRequest{(flags & 0x04) != 0, (flags & 0x02) != 0};
}

// RFC 8656 §18.7: one byte, R in the top bit. Some stacks send the padded 4 bytes as length.
Result<bool, Reason> decode_even_port(const AttributeView& attribute) {
  if (attribute.value.empty() || attribute.value.size() > 4) {
    return fail_reason("EVEN-PORT has bad length");
  }
  return (attribute.value[0] & 0x80) != 0;
}

// RFC 8656 §18.13: 16 reserved bits, ICMP type, ICMP code, 32 bits of error data.
Result<IcmpValue, Reason> decode_icmp(const AttributeView& attribute) {
  if (attribute.value.size() != 8) return fail_reason("ICMP has bad length");
  const auto value = attribute.value;
  return IcmpValue{value[2], value[3], detail::load_u32(&value[4])};
}

}  // namespace podium::stun
