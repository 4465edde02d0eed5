// The packet path (parse, decode, build, ChannelData, framing) makes no C++ heap allocation.
// OpenSSL's own HMAC internals are outside this check (they use CRYPTO_malloc, not new).
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <new>

#include <boost/asio/ip/address.hpp>

#include "allocation_counter.hpp"
#include "podium/stun/attributes.hpp"
#include "podium/stun/channel_data.hpp"
#include "podium/stun/demux.hpp"
#include "podium/stun/fingerprint.hpp"
#include "podium/stun/framing.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"
#include "podium/stun/xor_address.hpp"
#include "test_vectors.hpp"

namespace podium::stun {
namespace {

using podium::testing::CountAllocations;

TEST(Allocation, CounterSeesAllocations) {
  CountAllocations counter;
  ::operator delete(::operator new(16));  // a direct call, which may not be elided
  EXPECT_EQ(counter.count(), 1u);
}

TEST(Allocation, PacketPathDoesNotAllocate) {
  const std::array<uint8_t, 6> key = {'s', 'e', 'c', 'r', 'e', 't'};
  const Address peer{boost::asio::ip::make_address("2001:db8::1"), 5000};
  std::array<uint8_t, 1500> buffer{};
  std::array<uint8_t, 64> channel_buffer{};
  // Warm up the per-thread HMAC contexts outside the counted region.
  {
    auto view = MessageView::parse(test::kRfc5769Request);
    ASSERT_TRUE(view.ok());
    (void)verify_message_integrity(*view, key);
    (void)verify_message_integrity_sha256(*view, key);
  }

  size_t work = 0;
  CountAllocations counter;
  for (std::span<const uint8_t> bytes : {std::span<const uint8_t>(test::kRfc5769Request),
                                         std::span<const uint8_t>(test::kRfc5769Ipv6Response),
                                         std::span<const uint8_t>(test::kRfc5769LongTermRequest),
                                         std::span<const uint8_t>(test::kRfc8489B1Request)}) {
    work += looks_like_stun(bytes) + (classify_packet(bytes) == PacketKind::kStun);
    auto needed = next_frame_length(bytes);
    work += needed.ok() ? *needed : 0;
    auto view = MessageView::parse(bytes);
    ASSERT_TRUE(view.ok());
    for (const AttributeView& a : view->attributes()) {
      work += decode_string(a).ok() + decode_xor_address(a, view->transaction_id()).ok() +
              decode_u32(a).ok() + decode_u64(a).ok() + decode_password_algorithm(a).ok() +
              decode_error_code(a).ok() + decode_unknown_attributes(a).ok();
    }
    work += view->find_all(AttributeType::kXorPeerAddress).count();
    work += view->unknown_comprehension_required().size();
    work += verify_message_integrity(*view, key).ok() + verify_fingerprint(*view).ok();

    MessageBuilder b(buffer);
    b.start_response(*view, Class::kSuccessResponse)
        .add_xor_address(AttributeType::kXorMappedAddress, peer)
        .add_error_code(errc::kStaleNonce)
        .add_software("podium")
        .add_message_integrity(key)
        .add_fingerprint();
    work += b.finish().ok();

    auto frame = encode_channel_data(channel_buffer, 0x4001, bytes.first(20), Framing::kStream);
    ASSERT_TRUE(frame.ok());
    work += parse_channel_data(*frame, Framing::kStream).ok();
  }
  EXPECT_EQ(counter.count(), 0u);
  EXPECT_GT(work, 0u);
}

}  // namespace
}  // namespace podium::stun
