#include "podium/stun/fingerprint.hpp"

#include <array>

#include "byte_io.hpp"

namespace podium::stun {

namespace {

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr auto kCrcTable = make_crc_table();

}  // namespace

uint32_t crc32(std::span<const uint8_t> bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t b : bytes) crc = kCrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

// RFC 8489 §14.7: CRC-32 of the message up to FINGERPRINT, XORed with 0x5354554e. The parser
// guarantees FINGERPRINT is the last attribute, so the header length already covers it.
Result<Ok, Reason> verify_fingerprint(const MessageView& message) {
  const auto attribute = message.find(AttributeType::kFingerprint);
  if (!attribute) return fail_reason("no FINGERPRINT");
  if (attribute->value.size() != kFingerprintSize) return fail_reason("bad FINGERPRINT length");
  const uint32_t expected = compute_fingerprint(message.raw().first(attribute->offset));
  if (detail::load_u32(attribute->value.data()) != expected) {
    return fail_reason("FINGERPRINT mismatch");
  }
  return Ok{};
}

}  // namespace podium::stun
