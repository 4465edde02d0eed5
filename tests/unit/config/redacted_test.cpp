// to_redacted_yaml (GET /admin/config): every secret replaced, everything else kept, and the text
// loads back to a configuration that renders the same way.
#include <string>

#include <gtest/gtest.h>

#include "podium/config/config.hpp"

namespace podium::config {
namespace {

constexpr const char* kFull = R"(
log: {level: debug, format: json}
metrics:
  listen: 127.0.0.1:9464
  admin_token: admin-secret-1
  drain_timeout: 45s
relay:
  listen: [udp://127.0.0.1:3478, tcp://127.0.0.1:3478]
  realm: example.org
  relay_ip: [127.0.0.1, 127.0.0.2]
  relay_ports: 40000-40999
  users: {alice: alice-password-2, bob: bob-password-3}
  auth_secrets: [rest-secret-4, rest-secret-5]
  allow_peers: [10.0.0.0/24]
  deny_peers: [192.0.2.0/24, 2001:db8::/32]
  trusted_peers: [10.0.0.9:50000]
  workers: 2
  default_lifetime: 5m
  max_lifetime: 30m
  nonce_lifetime: 2m
  credential_ttl: 12h
  max_allocations: 1000
  user_quota: 10
  allocation_bandwidth: 5Mbit/s
  unauthenticated_rate: 50
  software: ""
sfu:
  listen_ip: 127.0.0.1
  announced_ip: 203.0.113.10
  udp_port: 50001
  max_sessions: 100
  consent_timeout: 20s
  slides: {guest_queue: 1MiB, max_room_bytes: 64MiB, max_slide_bytes: 8MiB}
signaling:
  listen: 127.0.0.1:8081
  public_url: https://meet.example.org
  token_secret: token-secret-6
  api_key: api-key-7
  open_rooms: false
  token_ttl: 3h
  max_sdp_bytes: 32KiB
  max_image_edge: 1920
)";

// The first line names the source file; the rest is the configuration.
std::string body(const std::string& yaml) {
  return yaml.substr(yaml.find('\n') + 1);
}

TEST(RedactedConfig, HidesEverySecretAndKeepsTheRest) {
  const auto config = load_string(kFull, "full.yaml");
  const std::string yaml = to_redacted_yaml(config);
  for (const char* secret : {"admin-secret-1", "alice-password-2", "bob-password-3",
                             "rest-secret-4", "rest-secret-5", "token-secret-6", "api-key-7"}) {
    EXPECT_EQ(yaml.find(secret), std::string::npos) << secret;
  }
  for (const char* kept :
       {"realm: example.org", "udp://127.0.0.1:3478", "relay_ports: 40000-40999",
        "alice:", "127.0.0.2", "2001:db8::/32", "allocation_bandwidth: 5000000bit/s",
        "public_url: https://meet.example.org", "max_image_edge: 1920", "drain_timeout: 45s",
        "guest_queue: 1048576", "consent_timeout: 20s", "format: json"}) {
    EXPECT_NE(yaml.find(kept), std::string::npos) << kept << "\n" << yaml;
  }
  std::size_t redactions = 0;
  for (auto at = yaml.find("<redacted>"); at != std::string::npos;
       at = yaml.find("<redacted>", at + 1)) {
    ++redactions;
  }
  EXPECT_EQ(redactions, 7u) << yaml;
}

TEST(RedactedConfig, LoadsBackToTheSameConfiguration) {
  const std::string yaml = to_redacted_yaml(load_string(kFull, "full.yaml"));
  const auto again = load_string(yaml, "redacted.yaml");
  EXPECT_EQ(body(to_redacted_yaml(again)), body(yaml));
  // And the embedded default (no secrets in it before podium serve mints one).
  const std::string defaults = to_redacted_yaml(embedded_default());
  EXPECT_EQ(body(to_redacted_yaml(load_string(defaults, "default.yaml"))), body(defaults));
}

}  // namespace
}  // namespace podium::config
