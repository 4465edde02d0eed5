// libFuzzer entry for slide protocol v1 (docs/protocol.md): parse arbitrary text as a presenter's
// message on the `slides` channel. Parsing must never throw; whatever parses must re-serialize
// (as the SFU sends it on to guests) to text that parses back to the same fields, and every
// message the SFU builds from the parsed fields or the error must itself be a JSON object.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "slides/slide_protocol.hpp"

namespace {

using namespace podium::sfu::slides;
using json = nlohmann::json;

void check(bool condition) {
  if (!condition) std::abort();
}

// `text` is a JSON object whose "type" is `type`.
json object_of_type(const std::string& text, std::string_view type) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  check(value.is_object());
  check(value.contains("type") && value["type"].is_string() && value["type"] == type);
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto parsed = parse_presenter_message(input);
  if (!parsed) {
    const ParseError& error = parsed.error();
    check(error.error < ProtocolError::count);
    check((error.error == ProtocolError::missing_field) == !error.field.empty());
    check(std::string_view(to_string(error.error)) != "unknown");
    const json answer = object_of_type(error_message(error), "error");
    check(answer["reason"].is_string());
    return 0;
  }

  if (const auto* header = std::get_if<SlideHeader>(&*parsed)) {
    check(!header->id.empty() && header->id.size() <= kMaxIdLength);
    check(!header->mime.empty() && header->mime.size() <= kMaxTextLength);
    check(header->name.size() <= kMaxTextLength);
    const std::string written = slide_message(*header);
    auto again = parse_presenter_message(written);
    check(again.ok());
    const auto* back = std::get_if<SlideHeader>(&*again);
    check(back != nullptr);
    check(back->id == header->id && back->size == header->size && back->mime == header->mime &&
          back->name == header->name);
    check(slide_message(*back) == written);
    (void)object_of_type(stored_message(header->id, header->size), "stored");
    (void)object_of_type(cancel_message(header->id), "cancel");
    (void)object_of_type(delivered_message(header->id, 2, 3), "delivered");
    return 0;
  }

  const Show& show = std::get<Show>(*parsed);
  check(!show.id.empty() && show.id.size() <= kMaxIdLength);
  const std::string written = show_message(show.id);
  auto again = parse_presenter_message(written);
  check(again.ok());
  const auto* back = std::get_if<Show>(&*again);
  check(back != nullptr && back->id == show.id);
  check(show_message(back->id) == written);
  return 0;
}
