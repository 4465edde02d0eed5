// relay.rfc5780 (NAT behaviour discovery: the alternate address and port).
#include <string>

#include <gtest/gtest.h>

#include "load_text.hpp"
#include "podium/config/config.hpp"

namespace podium::config {
namespace {

const std::string kRelay =
    "relay:\n"
    "  listen: [tcp://0.0.0.0:3478, udp://192.0.2.10:3478]\n"
    "  relay_ip: 192.0.2.10\n"
    "  auth_secrets: [x]\n";

using test_support::error;
using test_support::load;

TEST(Rfc5780Config, OffByDefault) {
  EXPECT_FALSE(load(kRelay).relay->rfc5780.has_value());
}

TEST(Rfc5780Config, ReadsAlternateAddressAndPort) {
  auto config = load(kRelay + "  rfc5780: {alternate_ip: 192.0.2.11, alternate_port: 3479}\n");
  ASSERT_TRUE(config.relay->rfc5780.has_value());
  EXPECT_EQ(config.relay->rfc5780->alternate_ip, boost::asio::ip::make_address("192.0.2.11"));
  EXPECT_EQ(config.relay->rfc5780->alternate_port, 3479);
  const auto* primary = rfc5780_primary(config.relay->listen, *config.relay->rfc5780);
  ASSERT_NE(primary, nullptr);
  EXPECT_EQ(primary->to_string(), "udp://192.0.2.10:3478");
}

TEST(Rfc5780Config, Errors) {
  EXPECT_EQ(error(kRelay + "  rfc5780: {alternate_port: 3479}\n"),
            "test.yaml:5:3: relay.rfc5780.alternate_ip: missing (the second IP address)");
  EXPECT_EQ(error(kRelay + "  rfc5780: {alternate_ip: 192.0.2.11}\n"),
            "test.yaml:5:3: relay.rfc5780.alternate_port: missing (the second port)");
  EXPECT_EQ(error(kRelay + "  rfc5780: {alternate_ip: 192.0.2.10, alternate_port: 3479}\n"),
            "test.yaml:5:27: relay.rfc5780.alternate_ip: must differ from the address of "
            "udp://192.0.2.10:3478");
  EXPECT_EQ(error(kRelay + "  rfc5780: {alternate_ip: 192.0.2.11, alternate_port: 3478}\n"),
            "test.yaml:5:55: relay.rfc5780.alternate_port: must differ from the port of "
            "udp://192.0.2.10:3478");
  EXPECT_EQ(error(kRelay + "  rfc5780: {alternate_ip: 192.0.2.11, alternate_port: 0}\n"),
            "test.yaml:5:55: relay.rfc5780.alternate_port: must not be 0");
  EXPECT_EQ(error(kRelay + "  rfc5780: {alternate_ip: 0.0.0.0, alternate_port: 3479}\n"),
            "test.yaml:5:27: relay.rfc5780.alternate_ip: must be a concrete address, not 0.0.0.0");
  EXPECT_EQ(error(kRelay + "  rfc5780: {alternate_ip: '2001:db8::1', alternate_port: 3479}\n"),
            "test.yaml:5:12: relay.rfc5780: needs a udp:// listener with an IPv6 address");
  const std::string wildcard =
      "relay:\n"
      "  listen: [udp://0.0.0.0:3478]\n"
      "  relay_ip: 192.0.2.10\n"
      "  auth_secrets: [x]\n"
      "  rfc5780: {alternate_ip: 192.0.2.11, alternate_port: 3479}\n";
  EXPECT_EQ(error(wildcard),
            "test.yaml:5:12: relay.rfc5780: needs a concrete address on udp://0.0.0.0:3478 (the "
            "primary address of RFC 5780), not 0.0.0.0");
}

TEST(Rfc5780Config, RefusesUnknownKeys) {
  EXPECT_NE(error(kRelay + "  rfc5780: {alternate_ip: 192.0.2.11, alternate_port: 3479, x: 1}\n")
                .find("relay.rfc5780"),
            std::string::npos);
}

TEST(Rfc5780Config, RoundTripsThroughTheRedactedConfig) {
  const Config config =
      load(kRelay + "  rfc5780: {alternate_ip: 192.0.2.11, alternate_port: 3479}\n");
  const std::string text = to_redacted_yaml(config);
  EXPECT_NE(text.find("rfc5780"), std::string::npos) << text;
  EXPECT_EQ(load_string(text, "redacted.yaml").relay->rfc5780, config.relay->rfc5780) << text;
  EXPECT_EQ(to_redacted_yaml(load(kRelay)).find("rfc5780"), std::string::npos);
}

}  // namespace
}  // namespace podium::config
