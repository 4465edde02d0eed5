// Random and mutated input never crashes the decoders (a quick complement to the fuzzers).
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "podium/stun/attributes.hpp"
#include "podium/stun/channel_data.hpp"
#include "podium/stun/fingerprint.hpp"
#include "podium/stun/framing.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"
#include "podium/stun/nonce_cookie.hpp"
#include "podium/stun/xor_address.hpp"
#include "test_vectors.hpp"

namespace podium::stun {
namespace {

using test::bytes_of;

// Runs every decoder over a parsed message; returns how many attributes decoded cleanly.
size_t exercise(const MessageView& view) {
  size_t decoded = 0;
  for (const AttributeView& a : view.attributes()) {
    decoded += decode_xor_address(a, view.transaction_id()).ok();
    decoded += decode_address(a).ok();
    decoded += decode_string(a).ok();
    decoded += decode_u32(a).ok();
    decoded += decode_u64(a).ok();
    decoded += decode_channel_number(a).ok();
    decoded += decode_requested_transport(a).ok();
    decoded += decode_address_family(a).ok();
    decoded += decode_error_code(a).ok();
    decoded += decode_address_error_code(a).ok();
    decoded += decode_unknown_attributes(a).ok();
    decoded += decode_password_algorithms(a).ok();
    decoded += decode_password_algorithm(a).ok();
    decoded += decode_userhash(a).ok();
    decoded += decode_change_request(a).ok();
    decoded += decode_even_port(a).ok();
    decoded += decode_icmp(a).ok();
  }
  if (auto nonce = view.string(AttributeType::kNonce)) decoded += parse_nonce(*nonce).ok();
  decoded += view.unknown_comprehension_required().size();
  decoded += verify_message_integrity(view, as_bytes("key")).ok();
  decoded += verify_message_integrity_sha256(view, as_bytes("key")).ok();
  decoded += verify_fingerprint(view).ok();
  return decoded;
}

TEST(Robustness, RandomBytes) {
  std::mt19937 rng(1234);
  std::vector<uint8_t> bytes;
  for (int round = 0; round < 20000; ++round) {
    bytes.resize(rng() % 200);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    // Make a good share of inputs get past the header checks.
    if (bytes.size() >= 20 && round % 2 == 0) {
      bytes[0] &= 0x3f;
      const size_t length = (bytes.size() - 20) & ~size_t{3};
      bytes.resize(20 + length);
      bytes[2] = static_cast<uint8_t>(length >> 8);
      bytes[3] = static_cast<uint8_t>(length);
      std::memcpy(&bytes[4], "\x21\x12\xa4\x42", 4);
    }
    if (auto view = MessageView::parse(bytes)) exercise(*view);
    (void)parse_channel_data(bytes, Framing::kDatagram);
    (void)parse_channel_data(bytes, Framing::kStream);
    (void)next_frame_length(bytes);
  }
}

TEST(Robustness, MutatedVectors) {
  std::mt19937 rng(42);
  const std::vector<std::vector<uint8_t>> seeds = {
      bytes_of(test::kRfc5769Request), bytes_of(test::kRfc5769Ipv4Response),
      bytes_of(test::kRfc5769Ipv6Response), bytes_of(test::kRfc5769LongTermRequest),
      bytes_of(test::kRfc8489B1Request)};
  size_t parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    auto bytes = seeds[rng() % seeds.size()];
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations; ++m) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0:
          bytes[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 1:
          bytes[at] = static_cast<uint8_t>(rng());
          break;
        default:
          bytes.resize(at + 1);
          break;
      }
    }
    if (auto view = MessageView::parse(bytes)) {
      ++parsed;
      exercise(*view);
      // Re-encode what was parsed: the copy parses to the same attribute sequence.
      std::array<uint8_t, 512> buffer{};
      MessageBuilder b(buffer);
      b.start(view->message_type(), view->transaction_id());
      for (const AttributeView& a : view->attributes()) b.add_raw(a.type, a.value);
      auto out = b.finish();
      ASSERT_TRUE(out.ok()) << out.error().text;
      auto again = MessageView::parse(*out);
      ASSERT_TRUE(again.ok()) << again.error().text;
      ASSERT_EQ(again->attribute_count(), view->attribute_count());
      for (size_t i = 0; i < view->attribute_count(); ++i) {
        EXPECT_EQ(again->attribute(i).type, view->attribute(i).type);
      }
    }
  }
  EXPECT_GT(parsed, 100u);
}

}  // namespace
}  // namespace podium::stun
