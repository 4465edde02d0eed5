// RFC 6062 pieces that need no sockets: the CONNECTION-ID layout (owning worker in the top
// 8 bits) and the CONNECTION-ID attribute as the relay writes and reads it.
#include <array>
#include <cstdint>

#include <gtest/gtest.h>

#include "podium/stun/attributes.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "turn/tcp_relay.hpp"

namespace {

using namespace podium;

TEST(TcpRelayConnectionId, CarriesTheOwningWorker) {
  for (unsigned worker : {0u, 1u, 7u, 255u}) {
    for (std::uint32_t random : {0u, 1u, 0x00ABCDEFu, 0xFFFFFFFFu}) {
      const auto id = relay::make_connection_id(worker, random);
      EXPECT_EQ(relay::connection_id_worker(id), worker);
      EXPECT_EQ(id & 0x00FFFFFFu, random & 0x00FFFFFFu);
    }
  }
  EXPECT_EQ(relay::kMaxTcpRelayWorkers, 256u);
  // An id naming worker 0xAB is refused by a relay with fewer workers (400, not a crash).
  EXPECT_EQ(relay::connection_id_worker(0xAB000001u), 0xABu);
}

TEST(TcpRelayConnectionId, AttributeRoundTrip) {
  std::array<std::uint8_t, 256> buffer{};
  stun::TransactionId transaction{};
  transaction[0] = 7;
  stun::MessageBuilder builder(buffer);
  builder.start(stun::Method::kConnect, stun::Class::kSuccessResponse, transaction);
  builder.add_connection_id(0x01020304u);
  auto bytes = builder.finish();
  ASSERT_TRUE(bytes);
  auto message = stun::MessageView::parse(*bytes);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->method(), stun::Method::kConnect);
  auto attribute = message->find(stun::AttributeType::kConnectionId);
  ASSERT_TRUE(attribute);
  auto id = stun::decode_connection_id(*attribute);
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, 0x01020304u);
}

TEST(TcpRelayConnectionId, WrongLengthIsRefused) {
  std::array<std::uint8_t, 256> buffer{};
  stun::MessageBuilder builder(buffer);
  builder.start(stun::Method::kConnectionBind, stun::Class::kRequest, stun::TransactionId{});
  const std::array<std::uint8_t, 2> short_value{1, 2};
  builder.add_raw(stun::AttributeType::kConnectionId, short_value);
  auto bytes = builder.finish();
  ASSERT_TRUE(bytes);
  auto message = stun::MessageView::parse(*bytes);
  ASSERT_TRUE(message);
  auto attribute = message->find(stun::AttributeType::kConnectionId);
  ASSERT_TRUE(attribute);
  EXPECT_FALSE(stun::decode_connection_id(*attribute));
  // A CONNECTION-ID is comprehension-required and known: no 420 for it.
  EXPECT_TRUE(message->unknown_comprehension_required().empty());
}

TEST(TcpRelayMethods, MessageTypesOfRfc6062) {
  // RFC 6062 section 6.1: Connect 0x000a, ConnectionBind 0x000b, ConnectionAttempt 0x000c.
  EXPECT_EQ(stun::message_type(stun::Method::kConnect, stun::Class::kRequest), 0x000A);
  EXPECT_EQ(stun::message_type(stun::Method::kConnectionBind, stun::Class::kRequest), 0x000B);
  EXPECT_EQ(stun::message_type(stun::Method::kConnectionAttempt, stun::Class::kIndication), 0x001C);
  EXPECT_EQ(stun::message_type(stun::Method::kConnect, stun::Class::kErrorResponse), 0x011A);
}

}  // namespace
