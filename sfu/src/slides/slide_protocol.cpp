#include "slides/slide_protocol.hpp"

#include <nlohmann/json.hpp>

namespace podium::sfu::slides {

using json = nlohmann::json;
// Outgoing messages keep their keys in the order written ("type" first), as docs/protocol.md shows.
using ordered = nlohmann::ordered_json;

const char* to_string(ProtocolError error) {
  switch (error) {
    case ProtocolError::invalid_json:
      return "invalid_json";
    case ProtocolError::unknown_type:
      return "unknown_type";
    case ProtocolError::missing_field:
      return "missing_field";
    case ProtocolError::slide_too_large:
      return "slide_too_large";
    case ProtocolError::room_storage_full:
      return "room_storage_full";
    case ProtocolError::duplicate_id:
      return "duplicate_id";
    case ProtocolError::beyond_size:
      return "beyond_size";
    case ProtocolError::bytes_without_slide:
      return "bytes_without_slide";
    case ProtocolError::slide_incomplete:
      return "slide_incomplete";
    case ProtocolError::unknown_slide:
      return "unknown_slide";
    case ProtocolError::message_too_large:
      return "message_too_large";
    case ProtocolError::guest_message:
      return "guest_message";
    case ProtocolError::count:
      break;
  }
  return "unknown";
}

const char* describe(ProtocolError error) {
  switch (error) {
    case ProtocolError::invalid_json:
      return "invalid JSON";
    case ProtocolError::unknown_type:
      return "unknown type";
    case ProtocolError::missing_field:
      return "missing or invalid field";
    case ProtocolError::slide_too_large:
      return "slide too large";
    case ProtocolError::room_storage_full:
      return "room storage full";
    case ProtocolError::duplicate_id:
      return "duplicate slide id";
    case ProtocolError::beyond_size:
      return "bytes beyond the declared size";
    case ProtocolError::bytes_without_slide:
      return "bytes without a slide";
    case ProtocolError::slide_incomplete:
      return "slide incomplete";
    case ProtocolError::unknown_slide:
      return "unknown slide";
    case ProtocolError::message_too_large:
      return "message too large";
    case ProtocolError::guest_message:
      return "guests cannot send slides";
    case ProtocolError::count:
      break;
  }
  return "error";
}

namespace {

ParseError missing(const char* field) {
  return ParseError{ProtocolError::missing_field, field};
}

// A string field of 1..max characters (0..max when it may be empty).
bool read_string(const json& object, const char* key, std::size_t max, bool may_be_empty,
                 std::string& out) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return false;
  const auto& value = it->get_ref<const std::string&>();
  if (value.size() > max || (!may_be_empty && value.empty())) return false;
  out = value;
  return true;
}

// ids and names come from parsed JSON (valid UTF-8); replace rather than throw regardless.
std::string dump(const ordered& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Result<PresenterMessage, ParseError> parse_presenter_message(std::string_view text) {
  json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded() || !message.is_object()) {
    return fail(ParseError{ProtocolError::invalid_json, {}});
  }
  auto type = message.find("type");
  if (type == message.end() || !type->is_string()) return fail(missing("type"));
  const auto& name = type->get_ref<const std::string&>();
  if (name == "slide") {
    SlideHeader header;
    if (!read_string(message, "id", kMaxIdLength, false, header.id)) return fail(missing("id"));
    auto size = message.find("size");
    if (size == message.end() || !size->is_number_unsigned()) return fail(missing("size"));
    header.size = size->get<std::uint64_t>();
    if (!read_string(message, "mime", kMaxTextLength, false, header.mime)) {
      return fail(missing("mime"));
    }
    if (message.contains("name") &&
        !read_string(message, "name", kMaxTextLength, true, header.name)) {
      return fail(missing("name"));
    }
    return PresenterMessage{std::move(header)};
  }
  if (name == "show") {
    Show show;
    if (!read_string(message, "id", kMaxIdLength, false, show.id)) return fail(missing("id"));
    return PresenterMessage{std::move(show)};
  }
  return fail(ParseError{ProtocolError::unknown_type, {}});
}

std::string slide_message(const SlideHeader& header) {
  return dump(ordered{{"type", "slide"},
                      {"id", header.id},
                      {"size", header.size},
                      {"mime", header.mime},
                      {"name", header.name}});
}

std::string show_message(std::string_view id) {
  return dump(ordered{{"type", "show"}, {"id", id}});
}

std::string cancel_message(std::string_view id) {
  return dump(ordered{{"type", "cancel"}, {"id", id}});
}

std::string guests_message(std::size_t count) {
  return dump(ordered{{"type", "guests"}, {"count", count}});
}

std::string delivered_message(std::string_view id, std::size_t guests, std::size_t of) {
  return dump(ordered{{"type", "delivered"}, {"id", id}, {"guests", guests}, {"of", of}});
}

std::string stored_message(std::string_view id, std::uint64_t size) {
  return dump(ordered{{"type", "stored"}, {"id", id}, {"size", size}});
}

std::string presenter_message(bool connected) {
  return dump(ordered{{"type", "presenter"}, {"connected", connected}});
}

std::string deck_message(const std::vector<DeckEntry>& slides, std::string_view current) {
  auto list = ordered::array();
  for (const auto& slide : slides) list.push_back(ordered{{"id", slide.id}, {"size", slide.size}});
  ordered message{{"type", "deck"}, {"slides", std::move(list)}};
  if (current.empty()) {
    message["current"] = nullptr;
  } else {
    message["current"] = current;
  }
  return dump(message);
}

std::string error_message(const ParseError& error) {
  std::string reason = describe(error.error);
  if (error.error == ProtocolError::missing_field && !error.field.empty()) {
    reason += ": " + error.field;
  }
  return dump(ordered{{"type", "error"}, {"reason", reason}});
}

}  // namespace podium::sfu::slides
