// Encodes one STUN message into a caller-provided buffer (RFC 8489 §5, §14). No allocation.
//
//   std::array<uint8_t, 1500> buffer;   // e.g. a per-thread send buffer
//   MessageBuilder b(buffer);
//   b.start_response(request, Class::kSuccessResponse)
//    .add_xor_address(AttributeType::kXorMappedAddress, client)
//    .add_message_integrity(key)
//    .add_fingerprint();
//   auto bytes = b.finish();            // Result<std::span<const uint8_t>, Reason>
//
// Every add_*() is a no-op once an error happened (buffer too small, value out of range,
// attribute out of order); finish() reports the first error. Nothing is ever written outside
// the buffer. The header length is kept current after every attribute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "podium/common/result.hpp"
#include "podium/stun/address.hpp"
#include "podium/stun/attributes.hpp"
#include "podium/stun/constants.hpp"
#include "podium/stun/message.hpp"

namespace podium::stun {

class MessageBuilder {
 public:
  explicit MessageBuilder(std::span<uint8_t> buffer) : buffer_(buffer) {}

  // Writes the 20-byte header and discards anything built before.
  MessageBuilder& start(Method method, Class cls, const TransactionId& transaction_id);
  MessageBuilder& start(uint16_t message_type, const TransactionId& transaction_id);
  // Same method and transaction id as `request` (RFC 8489 §6.3.1.1).
  MessageBuilder& start_response(const MessageView& request, Class cls);

  // Addresses: XOR-MAPPED/XOR-PEER/XOR-RELAYED (§14.2) and MAPPED-ADDRESS style (§14.1).
  MessageBuilder& add_xor_address(AttributeType type, const Address& address);
  MessageBuilder& add_address(AttributeType type, const Address& address);
  // Text attributes, rejected above max_string_length(type).
  MessageBuilder& add_string(AttributeType type, std::string_view text);
  MessageBuilder& add_u32(AttributeType type, uint32_t value);
  MessageBuilder& add_u64(AttributeType type, uint64_t value);
  // A zero-length attribute: DONT-FRAGMENT, USE-CANDIDATE.
  MessageBuilder& add_flag(AttributeType type);
  // Any value as-is (padding added).
  MessageBuilder& add_raw(AttributeType type, std::span<const uint8_t> value);

  // ERROR-CODE (§14.8): code 300..699; the default reason phrase when `reason` is omitted.
  MessageBuilder& add_error_code(uint16_t code, std::string_view reason);
  MessageBuilder& add_error_code(uint16_t code) {
    return add_error_code(code, default_reason_phrase(code));
  }
  // ADDRESS-ERROR-CODE (RFC 8656 §18.12).
  MessageBuilder& add_address_error_code(AddressFamily family, uint16_t code,
                                         std::string_view reason,
                                         AttributeType type = AttributeType::kAddressErrorCode);
  MessageBuilder& add_unknown_attributes(std::span<const AttributeType> types);
  MessageBuilder& add_password_algorithms(std::span<const PasswordAlgorithmEntry> algorithms);
  MessageBuilder& add_password_algorithm(const PasswordAlgorithmEntry& algorithm);

  // TURN attributes (RFC 8656 §18, RFC 6062).
  MessageBuilder& add_channel_number(uint16_t channel);
  MessageBuilder& add_lifetime(uint32_t seconds) {
    return add_u32(AttributeType::kLifetime, seconds);
  }
  MessageBuilder& add_requested_transport(uint8_t protocol);
  MessageBuilder& add_address_family(AttributeType type, AddressFamily family);
  MessageBuilder& add_even_port(bool reserve_next);
  MessageBuilder& add_data(std::span<const uint8_t> data) {
    return add_raw(AttributeType::kData, data);
  }
  MessageBuilder& add_icmp(const IcmpValue& icmp);
  MessageBuilder& add_connection_id(uint32_t id) {
    return add_u32(AttributeType::kConnectionId, id);
  }
  // RFC 5780 §7.2.
  MessageBuilder& add_change_request(const ChangeRequest& request);

  // Common text attributes.
  MessageBuilder& add_username(std::string_view v) {
    return add_string(AttributeType::kUsername, v);
  }
  MessageBuilder& add_realm(std::string_view v) { return add_string(AttributeType::kRealm, v); }
  MessageBuilder& add_nonce(std::string_view v) { return add_string(AttributeType::kNonce, v); }
  MessageBuilder& add_software(std::string_view v) {
    return add_string(AttributeType::kSoftware, v);
  }

  // Reserves a `length`-byte value for the caller to fill (e.g. DATA received straight into the
  // message). Returns an empty span on error.
  std::span<uint8_t> reserve(AttributeType type, size_t length);

  // Integrity attributes, in this order and last (§14.5-§14.7): MESSAGE-INTEGRITY, then
  // MESSAGE-INTEGRITY-SHA256 (optionally truncated to 16..32 bytes, multiple of 4), then
  // FINGERPRINT. Adding anything else after them is an error.
  MessageBuilder& add_message_integrity(std::span<const uint8_t> key);
  MessageBuilder& add_message_integrity_sha256(std::span<const uint8_t> key, size_t size = 32);
  MessageBuilder& add_fingerprint();

  // Value of padding bytes; RFC 8489 asks for zero. RFC 5769's vectors pad with spaces (0x20).
  void set_padding_byte(uint8_t value) { padding_byte_ = value; }

  bool ok() const { return error_ == nullptr; }
  // The first error, or a Reason with empty text.
  Reason error() const { return Reason{error_ != nullptr ? error_ : ""}; }
  size_t size() const { return size_; }
  // Bytes written so far.
  std::span<const uint8_t> bytes() const { return buffer_.first(size_); }
  // The finished message, or the first error.
  Result<std::span<const uint8_t>, Reason> finish() const;

 private:
  enum class Stage : uint8_t { kEmpty, kOpen, kAfterIntegrity, kAfterIntegritySha256, kDone };

  // Checks order and room, writes the attribute header and padding, updates the header length
  // and returns where the value goes (nullptr on error).
  uint8_t* append(AttributeType type, size_t length);
  void set_error(const char* reason) {
    if (error_ == nullptr) error_ = reason;
  }

  std::span<uint8_t> buffer_;
  size_t size_ = 0;
  const char* error_ = nullptr;
  Stage stage_ = Stage::kEmpty;
  uint8_t padding_byte_ = 0;
  TransactionId transaction_id_{};
};

}  // namespace podium::stun
