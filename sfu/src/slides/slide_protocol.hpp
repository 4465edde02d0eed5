// Slide protocol v1 (docs/protocol.md): the JSON text messages on the `slides` data channel.
// Parsing never throws; a bad message yields the ProtocolError to answer with.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "podium/common/result.hpp"

namespace podium::sfu::slides {

inline constexpr std::string_view kChannelLabel = "slides";
inline constexpr std::size_t kMaxIdLength = 128;
inline constexpr std::size_t kMaxTextLength = 1024;  // mime, name

// Every reason the SFU answers with {"type":"error"}; metric-safe labels from to_string().
enum class ProtocolError : std::uint8_t {
  invalid_json,
  unknown_type,
  missing_field,
  slide_too_large,
  room_storage_full,
  duplicate_id,
  beyond_size,
  bytes_without_slide,
  slide_incomplete,
  unknown_slide,
  message_too_large,
  guest_message,
  count
};
const char* to_string(ProtocolError error);
// The human text of docs/protocol.md ("bytes beyond the declared size", ...).
const char* describe(ProtocolError error);

struct SlideHeader {
  std::string id;
  std::uint64_t size = 0;
  std::string mime;
  std::string name;
};
struct Show {
  std::string id;
};
using PresenterMessage = std::variant<SlideHeader, Show>;

struct ParseError {
  ProtocolError error;
  std::string field;  // for missing_field
};

Result<PresenterMessage, ParseError> parse_presenter_message(std::string_view text);

// Messages the SFU sends.
std::string slide_message(const SlideHeader& header);
std::string show_message(std::string_view id);
// Extension: a slide whose bytes had started was discarded (its upload never completed).
std::string cancel_message(std::string_view id);
std::string guests_message(std::size_t count);
std::string delivered_message(std::string_view id, std::size_t guests, std::size_t of);
std::string stored_message(std::string_view id, std::uint64_t size);
std::string error_message(const ParseError& error);
// Extension: tells a guest whether the room's presenter is connected (first on the channel, then
// on every change).
std::string presenter_message(bool connected);
// Extension: tells a (re)connecting presenter which slides the room already stores, complete,
// and which one is current, so that it need not upload them again.
struct DeckEntry {
  std::string_view id;
  std::uint64_t size = 0;
};
std::string deck_message(const std::vector<DeckEntry>& slides, std::string_view current);

}  // namespace podium::sfu::slides
