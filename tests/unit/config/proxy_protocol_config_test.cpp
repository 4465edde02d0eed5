// relay.proxy_protocol (PROXY protocol v2 on tcp:// and tls:// listeners).
#include <string>

#include <gtest/gtest.h>

#include "load_text.hpp"
#include "podium/config/config.hpp"

namespace podium::config {
namespace {

const std::string kRelay =
    "relay:\n"
    "  listen: [udp://127.0.0.1:3478, tcp://127.0.0.1:3478]\n"
    "  auth_secrets: [x]\n";

using test_support::error;
using test_support::load;

TEST(ProxyProtocolConfig, OffByDefault) {
  EXPECT_FALSE(load(kRelay).relay->proxy_protocol);
  EXPECT_FALSE(load(kRelay + "  proxy_protocol: false\n").relay->proxy_protocol);
}

TEST(ProxyProtocolConfig, On) {
  EXPECT_TRUE(load(kRelay + "  proxy_protocol: true\n").relay->proxy_protocol);
}

TEST(ProxyProtocolConfig, OnlyABool) {
  EXPECT_EQ(error(kRelay + "  proxy_protocol: v2\n"),
            "test.yaml:4:19: relay.proxy_protocol: expected true or false, got 'v2'");
  EXPECT_EQ(error(kRelay + "  proxy_protocol: 'true'\n"),
            "test.yaml:4:19: relay.proxy_protocol: expected true or false, got 'true' (remove "
            "the quotes)");
}

TEST(ProxyProtocolConfig, ShownByTheRedactedConfig) {
  const Config config = load(kRelay + "  proxy_protocol: true\n");
  const std::string text = to_redacted_yaml(config);
  EXPECT_NE(text.find("proxy_protocol: true"), std::string::npos) << text;
}

}  // namespace
}  // namespace podium::config
