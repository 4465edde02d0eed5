// sfu.tcp_port: the SFU's ICE-TCP port (RFC 6544 passive candidate), off when absent.
#include <string>

#include <gtest/gtest.h>

#include "load_text.hpp"
#include "podium/config/config.hpp"

namespace podium::config {
namespace {

using test_support::error;
using test_support::load;

TEST(SfuTcpPortConfig, OffWhenAbsent) {
  auto config = load("sfu: {udp_port: 40000}\n");
  ASSERT_TRUE(config.sfu.has_value());
  EXPECT_FALSE(config.sfu->tcp_port.has_value());
  EXPECT_EQ(to_redacted_yaml(config).find("tcp_port"), std::string::npos);
  EXPECT_FALSE(embedded_default().sfu->tcp_port.has_value()) << "the demo config runs UDP only";
}

TEST(SfuTcpPortConfig, ReadsThePort) {
  auto config = load("sfu:\n  udp_port: 40000\n  tcp_port: 443\n");
  ASSERT_TRUE(config.sfu->tcp_port.has_value());
  EXPECT_EQ(*config.sfu->tcp_port, 443);
  EXPECT_NE(to_redacted_yaml(config).find("tcp_port: 443"), std::string::npos);
  // 0: the OS chooses (as for every other port).
  EXPECT_EQ(load("sfu: {tcp_port: 0}\n").sfu->tcp_port, 0);
}

TEST(SfuTcpPortConfig, SameNumberAsTheUdpPortIsFine) {
  // Different protocols: no clash.
  auto config = load("sfu: {udp_port: 40000, tcp_port: 40000}\n");
  EXPECT_EQ(config.sfu->udp_port, 40000);
  EXPECT_EQ(*config.sfu->tcp_port, 40000);
}

TEST(SfuTcpPortConfig, Errors) {
  EXPECT_EQ(error("sfu:\n  tcp_port: 70000\n"),
            "test.yaml:2:13: sfu.tcp_port: 70000 is out of range (0-65535)");
  EXPECT_EQ(error("sfu:\n  tcp_port: https\n"),
            "test.yaml:2:13: sfu.tcp_port: expected a port number 0-65535, got 'https'");
  EXPECT_EQ(error("sfu:\n  tcp_port: 1\n  tcp_port: 2\n"),
            "test.yaml:3:3: sfu.tcp_port: duplicate key (first set on line 2)");
  // A TCP listener on the same address and port clashes.
  EXPECT_EQ(error("sfu:\n  tcp_port: 8080\n"
                  "signaling:\n  listen: 127.0.0.1:8080\n  open_rooms: true\n"),
            "test.yaml:4:11: signaling.listen: TCP 127.0.0.1:8080 is already used by "
            "sfu.tcp_port (127.0.0.1:8080)");
  EXPECT_EQ(error("metrics:\n  listen: 0.0.0.0:9100\n"
                  "sfu:\n  tcp_port: 9100\n"),
            "test.yaml:4:13: sfu.tcp_port: TCP 127.0.0.1:9100 is already used by metrics.listen "
            "(0.0.0.0:9100)");
}

}  // namespace
}  // namespace podium::config
