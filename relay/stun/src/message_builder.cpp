#include "podium/stun/message_builder.hpp"

#include <array>
#include <cstring>

#include "byte_io.hpp"
#include "podium/stun/channel_data.hpp"
#include "podium/stun/fingerprint.hpp"
#include "podium/stun/message_integrity.hpp"
#include "podium/stun/xor_address.hpp"

namespace podium::stun {

MessageBuilder& MessageBuilder::start(Method method, Class cls,
                                      const TransactionId& transaction_id) {
  return start(message_type(method, cls), transaction_id);
}

// RFC 8489 §5: type, length, magic cookie, transaction id.
MessageBuilder& MessageBuilder::start(uint16_t type, const TransactionId& transaction_id) {
  size_ = 0;
  error_ = nullptr;
  stage_ = Stage::kEmpty;
  if (buffer_.size() < kHeaderSize) {
    set_error("buffer too small");
    return *this;
  }
  if ((type & 0xC000) != 0) {
    set_error("message type out of range");
    return *this;
  }
  detail::store_u16(&buffer_[0], type);
  detail::store_u16(&buffer_[2], 0);
  detail::store_u32(&buffer_[4], kMagicCookie);
  std::memcpy(&buffer_[8], transaction_id.data(), kTransactionIdSize);
  transaction_id_ = transaction_id;
  size_ = kHeaderSize;
  stage_ = Stage::kOpen;
  return *this;
}

MessageBuilder& MessageBuilder::start_response(const MessageView& request, Class cls) {
  return start(request.method(), cls, request.transaction_id());
}

uint8_t* MessageBuilder::append(AttributeType type, size_t length) {
  if (error_ != nullptr) return nullptr;
  // RFC 8489 §14.5-§14.7: only MI-SHA256 may follow MI, only FINGERPRINT may follow either,
  // and nothing follows FINGERPRINT.
  switch (stage_) {
    case Stage::kEmpty:
      set_error("message not started");
      return nullptr;
    case Stage::kOpen:
      break;
    case Stage::kAfterIntegrity:
      if (type != AttributeType::kMessageIntegritySha256 && type != AttributeType::kFingerprint) {
        set_error("attribute after MESSAGE-INTEGRITY");
        return nullptr;
      }
      break;
    case Stage::kAfterIntegritySha256:
      if (type != AttributeType::kFingerprint) {
        set_error("attribute after MESSAGE-INTEGRITY-SHA256");
        return nullptr;
      }
      break;
    case Stage::kDone:
      set_error("attribute after FINGERPRINT");
      return nullptr;
  }
  if (length > 0xFFFF) {
    set_error("attribute value too long");
    return nullptr;
  }
  const size_t total = kAttributeHeaderSize + padded_length(length);
  if (size_ - kHeaderSize + total > kMaxBodySize) {
    set_error("message too long");
    return nullptr;
  }
  if (total > buffer_.size() - size_) {
    set_error("buffer too small");
    return nullptr;
  }
  uint8_t* attribute = &buffer_[size_];
  detail::store_u16(attribute, to_underlying(type));
  detail::store_u16(attribute + 2, static_cast<uint16_t>(length));
  std::memset(attribute + kAttributeHeaderSize + length, padding_byte_,
              padded_length(length) - length);
  size_ += total;
  detail::store_u16(&buffer_[2], static_cast<uint16_t>(size_ - kHeaderSize));
  if (type == AttributeType::kMessageIntegrity) {
    stage_ = Stage::kAfterIntegrity;
  } else if (type == AttributeType::kMessageIntegritySha256) {
    stage_ = Stage::kAfterIntegritySha256;
  } else if (type == AttributeType::kFingerprint) {
    stage_ = Stage::kDone;
  }
  return attribute + kAttributeHeaderSize;
}

std::span<uint8_t> MessageBuilder::reserve(AttributeType type, size_t length) {
  uint8_t* value = append(type, length);
  if (value == nullptr) return {};
  return {value, length};
}

MessageBuilder& MessageBuilder::add_xor_address(AttributeType type, const Address& address) {
  const size_t length = encoded_address_size(address);
  if (uint8_t* value = append(type, length)) {
    write_xor_address({value, length}, address, transaction_id_);
  }
  return *this;
}

MessageBuilder& MessageBuilder::add_address(AttributeType type, const Address& address) {
  const size_t length = encoded_address_size(address);
  if (uint8_t* value = append(type, length)) write_address({value, length}, address);
  return *this;
}

MessageBuilder& MessageBuilder::add_string(AttributeType type, std::string_view text) {
  // The same limits the decoder enforces.
  const auto valid = decode_string(AttributeView{type, as_bytes(text), 0});
  if (!valid) {
    set_error(valid.error().text);
    return *this;
  }
  return add_raw(type, as_bytes(text));
}

MessageBuilder& MessageBuilder::add_u32(AttributeType type, uint32_t value) {
  if (uint8_t* out = append(type, 4)) detail::store_u32(out, value);
  return *this;
}

MessageBuilder& MessageBuilder::add_u64(AttributeType type, uint64_t value) {
  if (uint8_t* out = append(type, 8)) detail::store_u64(out, value);
  return *this;
}

MessageBuilder& MessageBuilder::add_flag(AttributeType type) {
  append(type, 0);
  return *this;
}

MessageBuilder& MessageBuilder::add_raw(AttributeType type, std::span<const uint8_t> value) {
  uint8_t* out = append(type, value.size());
  if (out != nullptr && !value.empty()) std::memmove(out, value.data(), value.size());
  return *this;
}

namespace {

bool valid_error_code(uint16_t code) {
  return code >= 300 && code <= 699;
}

}  // namespace

// RFC 8489 §14.8: 21 zero bits, class (hundreds), number (code % 100), reason phrase.
MessageBuilder& MessageBuilder::add_error_code(uint16_t code, std::string_view reason) {
  if (!valid_error_code(code)) {
    set_error("error code out of range");
    return *this;
  }
  if (!is_valid_reason_phrase(reason)) {
    set_error("reason phrase too long");
    return *this;
  }
  if (uint8_t* out = append(AttributeType::kErrorCode, 4 + reason.size())) {
    out[0] = 0;
    out[1] = 0;
    out[2] = static_cast<uint8_t>(code / 100);
    out[3] = static_cast<uint8_t>(code % 100);
    if (!reason.empty()) std::memcpy(out + 4, reason.data(), reason.size());
  }
  return *this;
}

// RFC 8656 §18.12: family, reserved, class, number, reason phrase.
MessageBuilder& MessageBuilder::add_address_error_code(AddressFamily family, uint16_t code,
                                                       std::string_view reason,
                                                       AttributeType type) {
  if (!valid_error_code(code)) {
    set_error("error code out of range");
    return *this;
  }
  if (!is_valid_reason_phrase(reason)) {
    set_error("reason phrase too long");
    return *this;
  }
  if (uint8_t* out = append(type, 4 + reason.size())) {
    out[0] = static_cast<uint8_t>(family);
    out[1] = 0;
    out[2] = static_cast<uint8_t>(code / 100);
    out[3] = static_cast<uint8_t>(code % 100);
    if (!reason.empty()) std::memcpy(out + 4, reason.data(), reason.size());
  }
  return *this;
}

// RFC 8489 §14.13: the 16-bit types, padded like any value.
MessageBuilder& MessageBuilder::add_unknown_attributes(std::span<const AttributeType> types) {
  if (uint8_t* out = append(AttributeType::kUnknownAttributes, types.size() * 2)) {
    for (size_t i = 0; i < types.size(); ++i) {
      detail::store_u16(out + 2 * i, to_underlying(types[i]));
    }
  }
  return *this;
}

namespace {

size_t algorithm_size(const PasswordAlgorithmEntry& entry) {
  return 4 + padded_length(entry.parameters.size());
}

uint8_t* write_algorithm(uint8_t* out, const PasswordAlgorithmEntry& entry) {
  detail::store_u16(out, static_cast<uint16_t>(entry.algorithm));
  detail::store_u16(out + 2, static_cast<uint16_t>(entry.parameters.size()));
  if (!entry.parameters.empty()) {
    std::memcpy(out + 4, entry.parameters.data(), entry.parameters.size());
  }
  const size_t padding = padded_length(entry.parameters.size()) - entry.parameters.size();
  std::memset(out + 4 + entry.parameters.size(), 0, padding);
  return out + algorithm_size(entry);
}

}  // namespace

// RFC 8489 §14.11: algorithm, parameters length, parameters padded to 4, for each entry.
MessageBuilder& MessageBuilder::add_password_algorithms(
    std::span<const PasswordAlgorithmEntry> algorithms) {
  size_t length = 0;
  for (const auto& entry : algorithms) {
    if (entry.parameters.size() > 0xFFFF) {
      set_error("password algorithm parameters too long");
      return *this;
    }
    length += algorithm_size(entry);
  }
  if (uint8_t* out = append(AttributeType::kPasswordAlgorithms, length)) {
    for (const auto& entry : algorithms) out = write_algorithm(out, entry);
  }
  return *this;
}

MessageBuilder& MessageBuilder::add_password_algorithm(const PasswordAlgorithmEntry& algorithm) {
  if (algorithm.parameters.size() > 0xFFFF) {
    set_error("password algorithm parameters too long");
    return *this;
  }
  if (uint8_t* out = append(AttributeType::kPasswordAlgorithm, algorithm_size(algorithm))) {
    write_algorithm(out, algorithm);
  }
  return *this;
}

// RFC 8656 §18.1: channel number, 16 RFFU bits.
MessageBuilder& MessageBuilder::add_channel_number(uint16_t channel) {
  if (!is_valid_channel_number(channel)) {
    set_error("channel number out of range");
    return *this;
  }
  if (uint8_t* out = append(AttributeType::kChannelNumber, 4)) {
    detail::store_u16(out, channel);
    detail::store_u16(out + 2, 0);
  }
  return *this;
}

// RFC 8656 §18.8: protocol, 24 RFFU bits.
MessageBuilder& MessageBuilder::add_requested_transport(uint8_t protocol) {
  if (uint8_t* out = append(AttributeType::kRequestedTransport, 4)) {
    detail::store_u32(out, uint32_t{protocol} << 24);
  }
  return *this;
}

// RFC 8656 §18.6, §18.11: family, 24 reserved bits.
MessageBuilder& MessageBuilder::add_address_family(AttributeType type, AddressFamily family) {
  if (uint8_t* out = append(type, 4)) {
    detail::store_u32(out, uint32_t{static_cast<uint8_t>(family)} << 24);
  }
  return *this;
}

// RFC 8656 §18.7: one byte with R in the top bit (the value is padded to 4 bytes).
MessageBuilder& MessageBuilder::add_even_port(bool reserve_next) {
  if (uint8_t* out = append(AttributeType::kEvenPort, 1)) out[0] = reserve_next ? 0x80 : 0x00;
  return *this;
}

// RFC 8656 §18.13: 16 reserved bits, type, code, error data.
MessageBuilder& MessageBuilder::add_icmp(const IcmpValue& icmp) {
  if (uint8_t* out = append(AttributeType::kIcmp, 8)) {
    detail::store_u16(out, 0);
    out[2] = icmp.type;
    out[3] = icmp.code;
    detail::store_u32(out + 4, icmp.error_data);
  }
  return *this;
}

// RFC 5780 §7.2: A (0x4) change IP, B (0x2) change port.
MessageBuilder& MessageBuilder::add_change_request(const ChangeRequest& request) {
  if (uint8_t* out = append(AttributeType::kChangeRequest, 4)) {
    detail::store_u32(out, (request.change_ip ? 0x4u : 0u) | (request.change_port ? 0x2u : 0u));
  }
  return *this;
}

// RFC 8489 §14.5: the HMAC covers the message up to the attribute, with the header length
// already counting it (append() has updated it), so the prefix is hashed as it stands.
MessageBuilder& MessageBuilder::add_message_integrity(std::span<const uint8_t> key) {
  const size_t offset = size_;
  uint8_t* out = append(AttributeType::kMessageIntegrity, kMessageIntegritySize);
  if (out == nullptr) return *this;
  std::array<uint8_t, 20> mac;
  if (!compute_hmac_sha1(buffer_.first(offset), static_cast<uint16_t>(size_ - kHeaderSize), key,
                         mac)) {
    set_error("HMAC failed");
    return *this;
  }
  std::memcpy(out, mac.data(), mac.size());
  return *this;
}

// RFC 8489 §14.6: as above with HMAC-SHA256, truncated to `size` bytes.
MessageBuilder& MessageBuilder::add_message_integrity_sha256(std::span<const uint8_t> key,
                                                             size_t size) {
  if (size < kMinMessageIntegritySha256Size || size > kMessageIntegritySha256Size ||
      size % 4 != 0) {
    set_error("bad MESSAGE-INTEGRITY-SHA256 size");
    return *this;
  }
  const size_t offset = size_;
  uint8_t* out = append(AttributeType::kMessageIntegritySha256, size);
  if (out == nullptr) return *this;
  std::array<uint8_t, 32> mac;
  if (!compute_hmac_sha256(buffer_.first(offset), static_cast<uint16_t>(size_ - kHeaderSize), key,
                           mac)) {
    set_error("HMAC failed");
    return *this;
  }
  std::memcpy(out, mac.data(), size);
  return *this;
}

// RFC 8489 §14.7: CRC-32 of everything before FINGERPRINT, length counting it.
MessageBuilder& MessageBuilder::add_fingerprint() {
  const size_t offset = size_;
  uint8_t* out = append(AttributeType::kFingerprint, kFingerprintSize);
  if (out != nullptr) detail::store_u32(out, compute_fingerprint(buffer_.first(offset)));
  return *this;
}

Result<std::span<const uint8_t>, Reason> MessageBuilder::finish() const {
  if (error_ != nullptr) return fail_reason(error_);
  if (stage_ == Stage::kEmpty) return fail_reason("message not started");
  return bytes();
}

}  // namespace podium::stun
