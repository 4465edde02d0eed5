// libFuzzer entry for the STUN decoder: parse, run every typed decoder and the integrity
// checks, then re-encode the parsed attributes and check the copy parses the same way.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "podium/stun/attributes.hpp"
#include "podium/stun/demux.hpp"
#include "podium/stun/fingerprint.hpp"
#include "podium/stun/framing.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"
#include "podium/stun/nonce_cookie.hpp"
#include "podium/stun/xor_address.hpp"

namespace {

using namespace podium::stun;

void check(bool condition) {
  if (!condition) std::abort();
}

void decode_everything(const MessageView& view) {
  for (const AttributeView& a : view.attributes()) {
    check(a.offset + kAttributeHeaderSize + a.value.size() <= view.size());
    (void)decode_xor_address(a, view.transaction_id());
    (void)decode_address(a);
    (void)decode_string(a);
    (void)decode_u32(a);
    (void)decode_u64(a);
    (void)decode_channel_number(a);
    (void)decode_requested_transport(a);
    (void)decode_address_family(a);
    (void)decode_error_code(a);
    (void)decode_address_error_code(a);
    (void)decode_unknown_attributes(a);
    (void)decode_password_algorithms(a);
    (void)decode_password_algorithm(a);
    (void)decode_userhash(a);
    (void)decode_change_request(a);
    (void)decode_even_port(a);
    (void)decode_icmp(a);
  }
  if (auto nonce = view.string(AttributeType::kNonce)) (void)parse_nonce(*nonce);
  (void)view.unknown_comprehension_required();
  static constexpr uint8_t kKey[] = {'k', 'e', 'y'};
  (void)verify_message_integrity(view, kKey);
  (void)verify_message_integrity_sha256(view, kKey);
  (void)verify_fingerprint(view);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  (void)classify_packet(input);
  (void)looks_like_stun(input);
  (void)next_frame_length(input);

  auto parsed = MessageView::parse(input);
  if (!parsed) return 0;
  const MessageView& view = *parsed;
  check(view.size() == size);
  decode_everything(view);

  // Round trip: copying every indexed attribute yields a message with the same attributes.
  static std::array<uint8_t, kMaxMessageSize> buffer;
  MessageBuilder builder(buffer);
  builder.start(view.message_type(), view.transaction_id());
  for (const AttributeView& a : view.attributes()) builder.add_raw(a.type, a.value);
  auto copy = builder.finish();
  check(copy.ok());
  auto reparsed = MessageView::parse(*copy);
  check(reparsed.ok());
  check(reparsed->attribute_count() == view.attribute_count());
  for (size_t i = 0; i < view.attribute_count(); ++i) {
    const AttributeView a = view.attribute(i);
    const AttributeView b = reparsed->attribute(i);
    check(a.type == b.type && a.value.size() == b.value.size());
  }
  return 0;
}
