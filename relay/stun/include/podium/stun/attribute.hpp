// One attribute of a parsed STUN message (RFC 8489 §14: type, length, value, padding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "podium/stun/constants.hpp"

namespace podium::stun {

struct AttributeView {
  AttributeType type{};
  std::span<const uint8_t> value;  // without padding; points into the parsed message
  size_t offset = 0;               // of the attribute header, from the start of the message
};

inline std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}
inline std::string_view as_text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace podium::stun
