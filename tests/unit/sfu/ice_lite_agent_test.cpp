#include "ice/ice_lite_agent.hpp"

#include <gtest/gtest.h>

#include "podium/stun/fingerprint.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"

namespace podium::sfu::ice {
namespace {

using namespace std::chrono_literals;

const Credentials kLocal{"sfuF", "sfu-password-0123456789"};
const Credentials kRemote{"brws", "browser-password-987654"};

struct Check {
  std::string username = "sfuF:brws";
  std::string password = kLocal.pwd;
  bool use_candidate = false;
  bool integrity = true;
  bool fingerprint = true;
};

// A connectivity check as a full agent (browser) sends it: RFC 8445 section 7.2.2.
std::span<const std::uint8_t> build(std::span<std::uint8_t> out, const Check& check) {
  stun::MessageBuilder builder(out);
  stun::TransactionId id{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  builder.start(stun::Method::kBinding, stun::Class::kRequest, id);
  builder.add_username(check.username);
  builder.add_u64(stun::AttributeType::kIceControlling, 0x1122334455667788ull);
  builder.add_u32(stun::AttributeType::kPriority, 1853824767);
  if (check.use_candidate) builder.add_flag(stun::AttributeType::kUseCandidate);
  if (check.integrity) builder.add_message_integrity(stun::short_term_key(check.password).span());
  if (check.fingerprint) builder.add_fingerprint();
  return *builder.finish();
}

SocketAddress address(const char* ip, std::uint16_t port) {
  return SocketAddress::from(boost::asio::ip::make_address(ip), port);
}

class IceLite : public ::testing::Test {
 protected:
  IceLiteAgent agent{kLocal, kRemote, 30s};
  std::array<std::uint8_t, 512> request_buffer{};
  std::array<std::uint8_t, 512> response_buffer{};
  const SteadyTime t0 = SteadyTime{} + 1000s;

  IceLiteAgent::Answer send(const Check& check, const SocketAddress& from, SteadyTime now) {
    auto bytes = build(request_buffer, check);
    auto message = stun::MessageView::parse(bytes);
    EXPECT_TRUE(message.ok());
    return agent.handle(*message, from, now, response_buffer);
  }
};

TEST_F(IceLite, AnswersAValidCheckWithItsSource) {
  auto from = address("192.0.2.7", 50123);
  auto answer = send({}, from, t0);
  ASSERT_EQ(answer.result, CheckResult::accepted);
  auto response = stun::MessageView::parse(answer.response);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->cls(), stun::Class::kSuccessResponse);
  auto mapped = response->xor_address(stun::AttributeType::kXorMappedAddress);
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->ip.to_string(), "192.0.2.7");
  EXPECT_EQ(mapped->port, 50123);
  // The browser checks our answer with our password, and its fingerprint.
  EXPECT_TRUE(stun::verify_message_integrity(*response, stun::short_term_key(kLocal.pwd).span()));
  EXPECT_TRUE(stun::verify_fingerprint(*response));
  EXPECT_FALSE(agent.connected()) << "no USE-CANDIDATE yet";
}

TEST_F(IceLite, UseCandidateNominatesThePair) {
  auto from = address("192.0.2.7", 50123);
  EXPECT_EQ(send({.use_candidate = true}, from, t0).result, CheckResult::accepted);
  ASSERT_TRUE(agent.connected());
  EXPECT_EQ(*agent.selected(), from);
  // A later nomination from elsewhere (the peer moved, or picked a better pair) wins.
  auto other = address("198.51.100.1", 4000);
  send({.use_candidate = true}, other, t0 + 1s);
  EXPECT_EQ(*agent.selected(), other);
}

TEST_F(IceLite, RefusesWrongCredentials) {
  auto from = address("192.0.2.7", 1);
  EXPECT_EQ(send({.password = "wrong-password-000000"}, from, t0).result,
            CheckResult::unauthorized);
  EXPECT_EQ(send({.username = "other:brws"}, from, t0).result, CheckResult::unauthorized);
  EXPECT_EQ(send({.integrity = false}, from, t0).result, CheckResult::bad_request);
  auto answer = send({.password = "wrong-password-000000"}, from, t0);
  auto response = stun::MessageView::parse(answer.response);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->cls(), stun::Class::kErrorResponse);
  EXPECT_FALSE(agent.connected());
}

TEST_F(IceLite, ConsentExpiresWithoutChecks) {
  auto from = address("192.0.2.7", 50123);
  send({.use_candidate = true}, from, t0);
  EXPECT_FALSE(agent.consent_expired(t0 + 29s));
  send({}, from, t0 + 20s);  // a consent check
  EXPECT_FALSE(agent.consent_expired(t0 + 49s));
  EXPECT_TRUE(agent.consent_expired(t0 + 51s));
  // Checks from another address do not keep the selected pair alive.
  send({}, address("203.0.113.9", 9), t0 + 45s);
  EXPECT_TRUE(agent.consent_expired(t0 + 51s));
}

TEST_F(IceLite, RestartChangesCredentialsAndKeepsThePair) {
  auto from = address("192.0.2.7", 50123);
  send({.use_candidate = true}, from, t0);
  agent.restart({"new1", "new-password-0000000000"}, {"brw2", "browser-new-00000000000"});
  EXPECT_EQ(*agent.selected(), from);
  EXPECT_EQ(send({}, from, t0 + 1s).result, CheckResult::unauthorized) << "old credentials";
  EXPECT_EQ(
      send({.username = "new1:brw2", .password = "new-password-0000000000"}, from, t0 + 1s).result,
      CheckResult::accepted);
}

TEST(IceLiteCredentials, GeneratedCredentialsAreIceChars) {
  auto a = generate_credentials();
  auto b = generate_credentials();
  EXPECT_GE(a.ufrag.size(), 4u);
  EXPECT_GE(a.pwd.size(), 22u);
  EXPECT_NE(a.pwd, b.pwd);
  for (char c : a.ufrag + a.pwd) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') << c;
  }
}

TEST(IceLiteUfrag, LocalUfragRoutesChecks) {
  std::array<std::uint8_t, 512> buffer{};
  auto bytes = build(buffer, {});
  auto message = stun::MessageView::parse(bytes);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(local_ufrag_of(*message), "sfuF");
}

}  // namespace
}  // namespace podium::sfu::ice
