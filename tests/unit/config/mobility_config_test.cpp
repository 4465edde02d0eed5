// relay.mobility (RFC 8016 MOBILITY-TICKET).
#include <string>

#include <gtest/gtest.h>

#include "load_text.hpp"
#include "podium/config/config.hpp"

namespace podium::config {
namespace {

const std::string kRelay =
    "relay:\n"
    "  listen: [udp://127.0.0.1:3478]\n"
    "  auth_secrets: [x]\n";

using test_support::error;
using test_support::load;

TEST(MobilityConfig, OffByDefault) {
  EXPECT_FALSE(load(kRelay).relay->mobility);
  EXPECT_FALSE(load(kRelay + "  mobility: false\n").relay->mobility);
}

TEST(MobilityConfig, On) {
  EXPECT_TRUE(load(kRelay + "  mobility: true\n").relay->mobility);
}

TEST(MobilityConfig, OnlyABool) {
  EXPECT_EQ(error(kRelay + "  mobility: yes please\n"),
            "test.yaml:4:13: relay.mobility: expected true or false, got 'yes please'");
}

TEST(MobilityConfig, ShownByTheRedactedConfig) {
  const std::string text = to_redacted_yaml(load(kRelay + "  mobility: true\n"));
  EXPECT_NE(text.find("mobility: true"), std::string::npos) << text;
}

}  // namespace
}  // namespace podium::config
