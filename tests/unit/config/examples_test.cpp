#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "podium/config/config.hpp"

namespace podium::config {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address;

const std::string examples = std::string(PODIUM_SOURCE_DIR) + "/config/examples/";

// A directory holding the certificate files podium.yaml points at through ${PODIUM_TLS_DIR}.
const std::string& tls_dir() {
  static const std::string dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "podium-tls-XXXXXX").string();
    std::string path = ::mkdtemp(pattern.data());
    std::ofstream(path + "/fullchain.pem") << "certificate";
    std::ofstream(path + "/privkey.pem") << "key";
    return path;
  }();
  return dir;
}

std::optional<std::string> example_env(const std::string& name) {
  static const std::map<std::string, std::string> variables{
      {"PODIUM_ADMIN_TOKEN", "admin-token"}, {"PODIUM_ALICE_PASSWORD", "alice-pw"},
      {"PODIUM_TURN_SECRET", "turn-secret"}, {"PODIUM_TOKEN_SECRET", "token-secret"},
      {"PODIUM_API_KEY", "api-key"},
  };
  if (name == "PODIUM_TLS_DIR") return tls_dir();
  auto it = variables.find(name);
  if (it == variables.end()) return std::nullopt;
  return it->second;
}

class Examples : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { std::filesystem::remove_all(tls_dir()); }
};

TEST_F(Examples, FullBundleLoads) {
  Config config = load_file(examples + "podium.yaml", &example_env);
  EXPECT_EQ(config.log.format, LogConfig::Format::json);
  ASSERT_TRUE(config.metrics);
  EXPECT_EQ(config.metrics->admin_token, "admin-token");
  ASSERT_TRUE(config.relay);
  const RelayConfig& relay = *config.relay;
  ASSERT_EQ(relay.listen.size(), 3u);
  EXPECT_EQ(relay.listen[2].to_string(), "tls://0.0.0.0:5349");
  EXPECT_EQ(relay.users.at("alice"), "alice-pw");
  EXPECT_EQ(relay.auth_secrets, std::vector<std::string>{"turn-secret"});
  ASSERT_TRUE(relay.tls);
  EXPECT_EQ(relay.tls->cert, tls_dir() + "/fullchain.pem");
  EXPECT_EQ(relay.tls->key, tls_dir() + "/privkey.pem");
  EXPECT_EQ(relay.external_ip, make_address("203.0.113.10"));
  EXPECT_EQ(relay.allocation_bandwidth.bits_per_second, 5'000'000u);
  ASSERT_TRUE(config.sfu);
  EXPECT_EQ(config.sfu->announced_ip, make_address("203.0.113.10"));
  EXPECT_EQ(config.sfu->slides.guest_queue.bytes, 2u << 20);
  EXPECT_EQ(config.sfu->slides.max_slide_bytes.bytes, 50u << 20);
  EXPECT_EQ(config.sfu->slides.max_room_bytes.bytes, 256u << 20);
  ASSERT_TRUE(config.signaling);
  EXPECT_EQ(config.signaling->token_secret, "token-secret");
  EXPECT_EQ(config.signaling->api_key, "api-key");
  EXPECT_EQ(config.signaling->public_url, "https://meet.example.org");
}

TEST_F(Examples, FullBundleNamesMissingSecrets) {
  try {
    load_file(examples + "podium.yaml",
              [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "metrics.admin_token");
    EXPECT_EQ(e.message(), "environment variable PODIUM_ADMIN_TOKEN is not set");
  }
}

TEST_F(Examples, RelayOnlyLoads) {
  Config config = load_file(examples + "relay.yaml", &example_env);
  ASSERT_TRUE(config.relay);
  EXPECT_TRUE(config.metrics);
  EXPECT_FALSE(config.sfu);
  EXPECT_FALSE(config.signaling);
  EXPECT_EQ(config.relay->auth_secrets, std::vector<std::string>{"turn-secret"});
  EXPECT_EQ(config.relay->realm, "turn.example.org");
}

TEST(EmbeddedDefault, Loads) {
  Config config = embedded_default();
  EXPECT_EQ(config.source, "<embedded default>");
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.log.format, LogConfig::Format::text);

  ASSERT_TRUE(config.metrics);
  EXPECT_EQ(config.metrics->listen.to_string(), "127.0.0.1:9464");

  ASSERT_TRUE(config.relay);
  const RelayConfig& relay = *config.relay;
  ASSERT_EQ(relay.listen.size(), 2u);
  EXPECT_EQ(relay.listen[0].to_string(), "udp://127.0.0.1:3478");
  EXPECT_EQ(relay.listen[1].to_string(), "tcp://127.0.0.1:3478");
  EXPECT_EQ(relay.realm, "podium");
  EXPECT_EQ(relay.relay_ip, make_address("127.0.0.1"));
  EXPECT_EQ(relay.relay_ports, (PortRange{49152, 65535}));
  ASSERT_EQ(relay.allow_peers.size(), 1u);
  EXPECT_EQ(relay.allow_peers[0].to_string(), "127.0.0.0/8");
  EXPECT_TRUE(relay.users.empty());
  EXPECT_TRUE(relay.auth_secrets.empty());
  EXPECT_TRUE(relay.ephemeral_secret);

  ASSERT_TRUE(config.sfu);
  EXPECT_EQ(config.sfu->listen_ip, make_address("127.0.0.1"));
  EXPECT_EQ(config.sfu->udp_port, 50000);

  ASSERT_TRUE(config.signaling);
  EXPECT_EQ(config.signaling->listen.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(config.signaling->public_url, "http://127.0.0.1:8080");
  EXPECT_TRUE(config.signaling->open_rooms);
  EXPECT_TRUE(config.signaling->token_secret.empty());
}

TEST(EmbeddedDefault, IsTheSameAsLoadingItsText) {
  Config a = embedded_default();
  Config b = load_string(embedded_default_yaml(), "x");
  EXPECT_EQ(a.relay->listen, b.relay->listen);
  EXPECT_EQ(a.signaling->listen, b.signaling->listen);
}

}  // namespace
}  // namespace podium::config
