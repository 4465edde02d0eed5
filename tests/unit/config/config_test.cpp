#include "podium/config/config.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "load_text.hpp"

namespace podium::config {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address;

std::optional<std::string> test_env(const std::string& name) {
  static const std::map<std::string, std::string> variables{
      {"SECRET", "s3cret"}, {"HOST", "10.1.2.3"}, {"WORKERS", "4"}, {"EMPTY", ""}};
  auto it = variables.find(name);
  if (it == variables.end()) return std::nullopt;
  return it->second;
}

Config load(const std::string& yaml) {
  return test_support::load(yaml, &test_env);
}

std::string error(const std::string& yaml) {
  return test_support::error(yaml, &test_env);
}

// A minimal valid relay section; tests append keys to it (at two-space indentation).
const std::string relay =
    "relay:\n"
    "  listen: [udp://127.0.0.1:3478]\n"
    "  auth_secrets: [x]\n";

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "podium-config-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const {
    std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << content;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

// ---- documents and sections -------------------------------------------------------------------

TEST(Load, EmptyDocumentsGiveDefaultsWithoutComponents) {
  for (const char* text : {"", "# nothing here\n", "~\n", "---\n"}) {
    Config config = load(text);
    EXPECT_EQ(config.source, "test.yaml");
    EXPECT_EQ(config.log.level, "info");
    EXPECT_EQ(config.log.format, LogConfig::Format::text);
    EXPECT_FALSE(config.metrics);
    EXPECT_FALSE(config.relay);
    EXPECT_FALSE(config.sfu);
    EXPECT_FALSE(config.signaling);
  }
}

TEST(Load, EmptySectionsRunWithDefaults) {
  Config config = load("log:\nmetrics: {}\nsfu:\n");
  EXPECT_EQ(config.log.level, "info");
  ASSERT_TRUE(config.metrics);
  EXPECT_EQ(config.metrics->listen, *parse_endpoint("127.0.0.1:9464"));
  EXPECT_EQ(config.metrics->drain_timeout, 30s);
  EXPECT_TRUE(config.metrics->admin_token.empty());
  ASSERT_TRUE(config.sfu);
  EXPECT_EQ(config.sfu->listen_ip, make_address("127.0.0.1"));
  EXPECT_EQ(config.sfu->udp_port, 50000);
  EXPECT_EQ(config.sfu->max_sessions, 5000u);
  EXPECT_EQ(config.sfu->consent_timeout, 30s);
  EXPECT_FALSE(config.sfu->announced_ip);
  EXPECT_FALSE(config.relay);
  EXPECT_FALSE(config.signaling);
}

TEST(Load, EmptyRelaySectionStillNeedsListeners) {
  EXPECT_EQ(error("relay:\n"),
            "test.yaml:1:1: relay.listen: missing: at least one listener is required (e.g. "
            "udp://0.0.0.0:3478)");
  EXPECT_EQ(error("relay: {}\n"),
            "test.yaml:1:1: relay.listen: missing: at least one listener is required (e.g. "
            "udp://0.0.0.0:3478)");
}

TEST(Load, EmptySignalingSectionNeedsSecretsUnlessOpen) {
  EXPECT_EQ(error("signaling:\n"),
            "test.yaml:1:1: signaling.token_secret: required when open_rooms is false");
  Config config = load("signaling:\n  open_rooms: true\n");
  ASSERT_TRUE(config.signaling);
  EXPECT_TRUE(config.signaling->open_rooms);
  EXPECT_TRUE(config.signaling->token_secret.empty());
  EXPECT_EQ(config.signaling->listen, *parse_endpoint("127.0.0.1:8080"));
  EXPECT_EQ(config.signaling->token_ttl, 2h);
  EXPECT_EQ(config.signaling->max_sdp_bytes.bytes, 65536u);
  EXPECT_EQ(config.signaling->max_image_edge, 2560u);
}

TEST(Load, ReadsEveryRelayKey) {
  Config config = load(
      "relay:\n"
      "  listen:\n"
      "    - udp://0.0.0.0:3478\n"
      "    - tcp://[::]:3478\n"
      "  realm: example.org\n"
      "  relay_ip: 10.0.0.5\n"
      "  external_ip: 203.0.113.10\n"
      "  relay_ports: 40000-40100\n"
      "  users: {alice: pw1, bob: '${SECRET}'}\n"
      "  auth_secrets: [one, two]\n"
      "  allow_peers: [10.0.0.0/24]\n"
      "  deny_peers: [192.0.2.0/24, '2001:db8::/32']\n"
      "  trusted_peers: [10.0.0.9:50000, '[2001:db8::9]:0']\n"
      "  workers: 3\n"
      "  default_lifetime: 5m\n"
      "  max_lifetime: 30m\n"
      "  nonce_lifetime: 1h\n"
      "  credential_ttl: 12h\n"
      "  max_allocations: 100\n"
      "  user_quota: 5\n"
      "  allocation_bandwidth: 2Mbit/s\n"
      "  unauthenticated_rate: 0\n"
      "  software: ''\n");
  ASSERT_TRUE(config.relay);
  const RelayConfig& relay = *config.relay;
  ASSERT_EQ(relay.listen.size(), 2u);
  EXPECT_EQ(relay.listen[0].to_string(), "udp://0.0.0.0:3478");
  EXPECT_EQ(relay.listen[1].to_string(), "tcp://[::]:3478");
  EXPECT_EQ(relay.realm, "example.org");
  EXPECT_EQ(relay.relay_ip, make_address("10.0.0.5"));
  EXPECT_EQ(relay.external_ip, make_address("203.0.113.10"));
  EXPECT_EQ(relay.relay_ports, (PortRange{40000, 40100}));
  EXPECT_EQ(relay.users, (std::map<std::string, std::string>{{"alice", "pw1"}, {"bob", "s3cret"}}));
  EXPECT_EQ(relay.auth_secrets, (std::vector<std::string>{"one", "two"}));
  EXPECT_FALSE(relay.ephemeral_secret);
  ASSERT_EQ(relay.allow_peers.size(), 1u);
  EXPECT_EQ(relay.allow_peers[0].to_string(), "10.0.0.0/24");
  ASSERT_EQ(relay.deny_peers.size(), 2u);
  EXPECT_EQ(relay.deny_peers[1].to_string(), "2001:db8::/32");
  ASSERT_EQ(relay.trusted_peers.size(), 2u);
  EXPECT_EQ(relay.trusted_peers[0].to_string(), "10.0.0.9:50000");
  EXPECT_EQ(relay.trusted_peers[1].to_string(), "[2001:db8::9]:0");
  EXPECT_FALSE(relay.tls);
  EXPECT_EQ(relay.workers, 3u);
  EXPECT_EQ(relay.default_lifetime, 5min);
  EXPECT_EQ(relay.max_lifetime, 30min);
  EXPECT_EQ(relay.nonce_lifetime, 1h);
  EXPECT_EQ(relay.credential_ttl, 12h);
  EXPECT_EQ(relay.max_allocations, 100u);
  EXPECT_EQ(relay.user_quota, 5u);
  EXPECT_EQ(relay.allocation_bandwidth.bits_per_second, 2'000'000u);
  EXPECT_EQ(relay.unauthenticated_rate, 0u);
  EXPECT_EQ(relay.software, "");
}

TEST(Load, RelayDefaults) {
  Config config = load(relay);
  const RelayConfig& r = *config.relay;
  EXPECT_EQ(r.realm, "podium");
  EXPECT_FALSE(r.relay_ip);
  EXPECT_FALSE(r.external_ip);
  EXPECT_EQ(r.relay_ports, (PortRange{49152, 65535}));
  EXPECT_EQ(r.default_lifetime, 600s);
  EXPECT_EQ(r.max_lifetime, 3600s);
  EXPECT_EQ(r.nonce_lifetime, 600s);
  EXPECT_EQ(r.credential_ttl, 86400s);
  EXPECT_EQ(r.unauthenticated_rate, 20u);
  EXPECT_EQ(r.software, "podium");
  EXPECT_EQ(r.allocation_bandwidth.bits_per_second, 0u);
}

TEST(Load, ReadsEveryOtherSection) {
  Config config = load(
      "log: {level: debug, format: json}\n"
      "metrics:\n"
      "  listen: '[::1]:9000'\n"
      "  admin_token: tok\n"
      "  drain_timeout: 0s\n"
      "sfu:\n"
      "  listen_ip: 0.0.0.0\n"
      "  announced_ip: 198.51.100.1\n"
      "  udp_port: 40000\n"
      "  workers: ${WORKERS}\n"
      "  max_sessions: 10\n"
      "  consent_timeout: 1m\n"
      "signaling:\n"
      "  listen: 0.0.0.0:8443\n"
      "  public_url: https://meet.example.org/\n"
      "  token_secret: ts\n"
      "  api_key: ak\n"
      "  open_rooms: false\n"
      "  token_ttl: 30m\n"
      "  max_sdp_bytes: 128KiB\n"
      "  max_image_edge: 1920\n");
  EXPECT_EQ(config.log.level, "debug");
  EXPECT_EQ(config.log.format, LogConfig::Format::json);
  EXPECT_EQ(config.metrics->listen.to_string(), "[::1]:9000");
  EXPECT_EQ(config.metrics->admin_token, "tok");
  EXPECT_EQ(config.metrics->drain_timeout, 0s);
  EXPECT_EQ(config.sfu->listen_ip, make_address("0.0.0.0"));
  EXPECT_EQ(config.sfu->announced_ip, make_address("198.51.100.1"));
  EXPECT_EQ(config.sfu->udp_port, 40000);
  EXPECT_EQ(config.sfu->workers, 4u);
  EXPECT_EQ(config.sfu->max_sessions, 10u);
  EXPECT_EQ(config.sfu->consent_timeout, 60s);
  EXPECT_EQ(config.signaling->listen.to_string(), "0.0.0.0:8443");
  EXPECT_EQ(config.signaling->public_url, "https://meet.example.org");
  EXPECT_EQ(config.signaling->token_secret, "ts");
  EXPECT_EQ(config.signaling->api_key, "ak");
  EXPECT_FALSE(config.signaling->open_rooms);
  EXPECT_EQ(config.signaling->token_ttl, 30min);
  EXPECT_EQ(config.signaling->max_sdp_bytes.bytes, 131072u);
  EXPECT_EQ(config.signaling->max_image_edge, 1920u);
  EXPECT_FALSE(config.relay);
}

// Port 0 lets the OS choose (the integration tests read the bound ports back); such listeners
// never clash with each other.
TEST(Load, PortZeroEverywhereALocalPortIsConfigured) {
  Config config = load(
      "metrics: {listen: '127.0.0.1:0'}\n"
      "relay:\n"
      "  listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0, udp://127.0.0.1:0]\n"
      "  users: {alice: secret}\n"
      "sfu: {udp_port: 0}\n"
      "signaling: {listen: '127.0.0.1:0', open_rooms: true}\n");
  EXPECT_EQ(config.metrics->listen.port, 0);
  EXPECT_EQ(config.relay->listen[1].to_string(), "tcp://127.0.0.1:0");
  EXPECT_EQ(config.sfu->udp_port, 0);
  EXPECT_EQ(config.signaling->listen.port, 0);
}

// ---- YAML structure ----------------------------------------------------------------------------

TEST(Errors, YamlSyntax) {
  EXPECT_EQ(error("log:\n  level: [info,\nrelay: 2\n"),
            "test.yaml:4:1: (yaml): end of sequence flow not found");
  EXPECT_EQ(error("log:\n  level: \"info"), "test.yaml:2:15: (yaml): illegal EOF in scalar");
  EXPECT_EQ(error("log:\n  level: info\n   format: text\n"),
            "test.yaml:3:10: (yaml): illegal map value");
}

TEST(Errors, MoreThanOneDocument) {
  EXPECT_EQ(error("log: {}\n---\nsfu: {}\n"),
            "test.yaml:2:1: (yaml): only one YAML document is allowed");
  EXPECT_EQ(error("---\n---\n"), "test.yaml:2:1: (yaml): only one YAML document is allowed");
}

// yaml-cpp 0.7 loops forever in YAML::LoadAll on these (an endless run of empty documents).
TEST(Errors, StrayFlowIndicatorsTerminate) {
  EXPECT_EQ(error(","), "test.yaml:1:1: (yaml): unexpected ','");
  EXPECT_EQ(error(", `"), "test.yaml:1:1: (yaml): unexpected ','");
  EXPECT_EQ(error("a: b\n,\n"), "test.yaml:2:1: (yaml): end of map not found");
  EXPECT_EQ(error("]"), "test.yaml:1:1: (yaml): illegal flow end");
  EXPECT_EQ(error("log: {}\n---\n,\n"), "test.yaml:2:1: (yaml): only one YAML document is allowed");
}

TEST(Errors, RootMustBeAMapping) {
  EXPECT_EQ(error("- relay\n"),
            "test.yaml:1:1: (root): expected a mapping of sections (log, metrics, relay, sfu, "
            "signaling), got a list");
  EXPECT_EQ(error("relay\n"),
            "test.yaml:1:1: (root): expected a mapping of sections (log, metrics, relay, sfu, "
            "signaling), got a string");
}

TEST(Errors, UnknownSection) {
  EXPECT_EQ(error("log: {}\nrely:\n"),
            "test.yaml:2:1: rely: unknown section (did you mean 'relay'?)");
  EXPECT_EQ(error("database: {}\n"),
            "test.yaml:1:1: database: unknown section (known: log, metrics, relay, sfu, "
            "signaling)");
}

TEST(Errors, UnknownKeySuggestsClosest) {
  EXPECT_EQ(error(relay + "  realn: x\n"),
            "test.yaml:4:3: relay.realn: unknown key (did you mean 'realm'?)");
  EXPECT_EQ(error("sfu:\n  udpport: 1\n"),
            "test.yaml:2:3: sfu.udpport: unknown key (did you mean 'udp_port'?)");
  EXPECT_EQ(error("log:\n  colour: true\n"),
            "test.yaml:2:3: log.colour: unknown key (known: level, format)");
  EXPECT_EQ(error("relay:\n  tls: {cert: a, kye: b}\n"),
            "test.yaml:2:18: relay.tls.kye: unknown key (did you mean 'key'?)");
}

TEST(Errors, DuplicateKey) {
  EXPECT_EQ(error("sfu:\n  udp_port: 1000\n  udp_port: 2000\n"),
            "test.yaml:3:3: sfu.udp_port: duplicate key (first set on line 2)");
  EXPECT_EQ(error("sfu: {}\nsfu: {}\n"), "test.yaml:2:1: sfu: duplicate key (first set on line 1)");
}

TEST(Errors, KeysMustBeScalars) {
  EXPECT_EQ(error("sfu:\n  [a]: 1\n"), "test.yaml:2:3: sfu: keys must be plain names");
}

TEST(Errors, SectionOfWrongType) {
  EXPECT_EQ(error("relay: [udp://127.0.0.1:3478]\n"),
            "test.yaml:1:8: relay: expected a mapping with keys like listen, got a list");
  EXPECT_EQ(error("log: debug\n"),
            "test.yaml:1:6: log: expected a mapping with keys like level, got a string");
}

// ---- value types -------------------------------------------------------------------------------

TEST(Errors, StringWhereListExpected) {
  EXPECT_EQ(error("relay:\n  listen: udp://127.0.0.1:3478\n"),
            "test.yaml:2:11: relay.listen: expected a list of listen URLs, got a string");
  EXPECT_EQ(error(relay + "  allow_peers: 10.0.0.0/8\n"),
            "test.yaml:4:16: relay.allow_peers: expected a list of networks, got a string");
}

TEST(Errors, ListWhereStringExpected) {
  EXPECT_EQ(error(relay + "  realm: [a, b]\n"),
            "test.yaml:4:10: relay.realm: expected a string, got a list");
}

TEST(Errors, MissingScalarValue) {
  EXPECT_EQ(error(relay + "  realm:\n"),
            "test.yaml:4:3: relay.realm: missing value: expected a string (remove the key to use "
            "the default)");
}

TEST(Errors, NullListsAndMapsAreEmpty) {
  Config config = load(relay + "  allow_peers:\n  deny_peers: []\n  users:\n");
  EXPECT_TRUE(config.relay->allow_peers.empty());
  EXPECT_TRUE(config.relay->deny_peers.empty());
  EXPECT_TRUE(config.relay->users.empty());
}

TEST(Errors, IntegerValues) {
  EXPECT_EQ(error("sfu:\n  udp_port: http\n"),
            "test.yaml:2:13: sfu.udp_port: expected a port number 0-65535, got 'http'");
  EXPECT_EQ(error("sfu:\n  udp_port: \"50000\"\n"),
            "test.yaml:2:13: sfu.udp_port: expected a port number 0-65535, got the quoted string "
            "'50000' (remove the quotes)");
  EXPECT_EQ(error("sfu:\n  udp_port: 70000\n"),
            "test.yaml:2:13: sfu.udp_port: 70000 is out of range (0-65535)");
  EXPECT_EQ(error("sfu:\n  udp_port: -1\n"),
            "test.yaml:2:13: sfu.udp_port: expected a port number 0-65535, got '-1'");
  EXPECT_EQ(error("sfu:\n  udp_port: 5e4\n"),
            "test.yaml:2:13: sfu.udp_port: expected a port number 0-65535, got '5e4'");
  EXPECT_EQ(error("sfu:\n  workers: 5000\n"),
            "test.yaml:2:12: sfu.workers: 5000 is out of range (0-1024)");
  EXPECT_EQ(error("sfu:\n  max_sessions: 0\n"),
            "test.yaml:2:17: sfu.max_sessions: 0 is out of range (1-1000000)");
  EXPECT_EQ(error(relay + "  max_allocations: 99999999999999999999\n"),
            "test.yaml:4:20: relay.max_allocations: expected an integer 0-4294967295, got "
            "'99999999999999999999'");
  EXPECT_EQ(error(relay + "  workers: 2.5\n"),
            "test.yaml:4:12: relay.workers: expected an integer 0-1024, got '2.5'");
}

TEST(Errors, BooleanValues) {
  EXPECT_EQ(error("signaling:\n  open_rooms: yes\n"),
            "test.yaml:2:15: signaling.open_rooms: expected true or false, got 'yes'");
  EXPECT_EQ(error("signaling:\n  open_rooms: 'true'\n"),
            "test.yaml:2:15: signaling.open_rooms: expected true or false, got 'true' (remove the "
            "quotes)");
  EXPECT_EQ(error("signaling:\n  open_rooms: [true]\n"),
            "test.yaml:2:15: signaling.open_rooms: expected true or false, got a list");
}

TEST(Errors, Addresses) {
  EXPECT_EQ(error("sfu:\n  listen_ip: localhost\n"),
            "test.yaml:2:14: sfu.listen_ip: expected an IP address, got 'localhost' (host names "
            "are not resolved)");
  EXPECT_EQ(error("metrics:\n  listen: localhost:9464\n"),
            "test.yaml:2:11: metrics.listen: expected an IP address, got 'localhost' (host names "
            "are not resolved)");
  EXPECT_EQ(error("metrics:\n  listen: 127.0.0.1\n"),
            "test.yaml:2:11: metrics.listen: missing port in '127.0.0.1' (expected HOST:PORT, "
            "e.g. 127.0.0.1:8080)");
  EXPECT_EQ(error("metrics:\n  listen: 127.0.0.1:99999\n"),
            "test.yaml:2:11: metrics.listen: port 99999 is out of range (0-65535)");
  EXPECT_EQ(error(relay + "  external_ip: 203.0.113\n"),
            "test.yaml:4:16: relay.external_ip: expected an IP address, got '203.0.113'");
}

TEST(Errors, ListenUrls) {
  EXPECT_EQ(error("relay:\n  listen:\n    - udp://127.0.0.1:3478\n    - tcp://127.0.0.1\n"),
            "test.yaml:4:7: relay.listen[1]: missing port in '127.0.0.1' (expected HOST:PORT, "
            "e.g. 127.0.0.1:8080)");
  EXPECT_EQ(error("relay:\n  listen: [udp://127.0.0.1:3478, sctp://127.0.0.1:1]\n"),
            "test.yaml:2:34: relay.listen[1]: unknown transport 'sctp' in 'sctp://127.0.0.1:1' "
            "(use udp, tcp, tls or dtls)");
  EXPECT_EQ(error("relay:\n  listen: [{udp: 3478}]\n"),
            "test.yaml:2:12: relay.listen[0]: expected a listen URL, got a mapping");
}

TEST(Errors, Cidrs) {
  EXPECT_EQ(error(relay + "  allow_peers: [10.0.0.0/8, 172.16.0.1/12]\n"),
            "test.yaml:4:29: relay.allow_peers[1]: host bits are set in '172.16.0.1/12' (did you "
            "mean 172.16.0.0/12?)");
  EXPECT_EQ(error(relay + "  deny_peers:\n    - 10.0.0.0/40\n"),
            "test.yaml:5:7: relay.deny_peers[0]: prefix length 40 in '10.0.0.0/40' is out of "
            "range (0-32)");
}

TEST(Errors, PortRange) {
  EXPECT_EQ(error(relay + "  relay_ports: 60000-50000\n"),
            "test.yaml:4:16: relay.relay_ports: port range '60000-50000' ends before it starts");
  EXPECT_EQ(error(relay + "  relay_ports: 50000\n"),
            "test.yaml:4:16: relay.relay_ports: expected a port range FIRST-LAST (e.g. "
            "49152-65535), got '50000'");
}

TEST(Errors, Durations) {
  EXPECT_EQ(error(relay + "  nonce_lifetime: 600\n"),
            "test.yaml:4:19: relay.nonce_lifetime: duration '600' has no unit (add a unit, e.g. "
            "600s)");
  EXPECT_EQ(error(relay + "  nonce_lifetime: 10 minutes\n"),
            "test.yaml:4:19: relay.nonce_lifetime: unknown unit ' minutes' in duration '10 "
            "minutes' (use ms, s, m, h or d)");
  EXPECT_EQ(error("sfu:\n  consent_timeout: 1500ms\n"),
            "test.yaml:2:20: sfu.consent_timeout: must be a whole number of seconds");
  EXPECT_EQ(error("sfu:\n  consent_timeout: 2s\n"),
            "test.yaml:2:20: sfu.consent_timeout: must be at least 5s");
  EXPECT_EQ(error(relay + "  credential_ttl: 0s\n"),
            "test.yaml:4:19: relay.credential_ttl: must be at least 1s");
}

TEST(Errors, MaxLifetimeAtMostOneHour) {
  EXPECT_EQ(error(relay + "  max_lifetime: 2h\n"),
            "test.yaml:4:17: relay.max_lifetime: must be at most 1h");
  EXPECT_EQ(load(relay + "  max_lifetime: 1h\n").relay->max_lifetime, 1h);
}

TEST(Errors, DefaultLifetimeAboveMaxLifetime) {
  EXPECT_EQ(error(relay + "  default_lifetime: 30m\n  max_lifetime: 20m\n"),
            "test.yaml:4:21: relay.default_lifetime: default_lifetime (30m) must not exceed "
            "max_lifetime (20m)");
  // Only max_lifetime given: the default 10m is too long for it; reported at max_lifetime.
  EXPECT_EQ(error(relay + "  max_lifetime: 5m\n"),
            "test.yaml:4:17: relay.max_lifetime: default_lifetime (10m) must not exceed "
            "max_lifetime (5m)");
}

TEST(Errors, Sizes) {
  EXPECT_EQ(error("signaling:\n  open_rooms: true\n  max_sdp_bytes: 50M\n"),
            "test.yaml:3:18: signaling.max_sdp_bytes: unknown unit 'M' in size '50M' (use B, kB, "
            "MB, GB, KiB, MiB or GiB)");
  EXPECT_EQ(error("signaling:\n  open_rooms: true\n  max_image_edge: 100\n"),
            "test.yaml:3:19: signaling.max_image_edge: 100 is out of range (256-16384)");
  EXPECT_EQ(error("signaling:\n  open_rooms: true\n  max_sdp_bytes: 100\n"),
            "test.yaml:3:18: signaling.max_sdp_bytes: must be between 1KiB and 16MiB");
  EXPECT_EQ(load("signaling:\n  open_rooms: true\n  max_sdp_bytes: 2048\n")
                .signaling->max_sdp_bytes.bytes,
            2048u);
}

TEST(Errors, Rates) {
  EXPECT_EQ(error(relay + "  allocation_bandwidth: 2Mbps\n"),
            "test.yaml:4:25: relay.allocation_bandwidth: unknown unit 'Mbps' in rate '2Mbps' (use "
            "bit/s, kbit/s, Mbit/s, Gbit/s, B/s, kB/s, MB/s or GB/s)");
  EXPECT_EQ(error(relay + "  allocation_bandwidth: 500\n"),
            "test.yaml:4:25: relay.allocation_bandwidth: rate '500' has no unit (add a unit, e.g. "
            "500kbit/s)");
}

TEST(Errors, LogLevelAndFormat) {
  EXPECT_EQ(error("log:\n  level: verbose\n"),
            "test.yaml:2:10: log.level: unknown log level 'verbose' (expected one of trace, "
            "debug, info, warn, error, critical, off)");
  EXPECT_EQ(error("log:\n  level: infoo\n"),
            "test.yaml:2:10: log.level: unknown log level 'infoo' (did you mean 'info'?)");
  EXPECT_EQ(error("log:\n  format: xml\n"),
            "test.yaml:2:11: log.format: unknown log format 'xml' (expected text or json)");
  for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    EXPECT_EQ(load(std::string("log: {level: ") + level + "}\n").log.level, level);
  }
}

TEST(Errors, Strings) {
  EXPECT_EQ(error(relay + "  realm: ''\n"), "test.yaml:4:10: relay.realm: must not be empty");
  EXPECT_EQ(error(relay + "  realm: " + std::string(128, 'r') + "\n"),
            "test.yaml:4:10: relay.realm: must be shorter than 128 characters");
  EXPECT_EQ(error(relay + "  software: " + std::string(200, 's') + "\n"),
            "test.yaml:4:13: relay.software: must be shorter than 128 characters");
}

TEST(Errors, PublicUrl) {
  EXPECT_EQ(error("signaling:\n  open_rooms: true\n  public_url: meet.example.org\n"),
            "test.yaml:3:15: signaling.public_url: expected an http:// or https:// URL, got "
            "'meet.example.org'");
  EXPECT_EQ(error("signaling:\n  open_rooms: true\n  public_url: https://\n"),
            "test.yaml:3:15: signaling.public_url: the URL has no host");
  EXPECT_EQ(error("signaling:\n  open_rooms: true\n  public_url: https://x.org/?a=b\n"),
            "test.yaml:3:15: signaling.public_url: the URL must not contain a query, fragment or "
            "spaces");
  EXPECT_EQ(load("signaling:\n  open_rooms: true\n  public_url: http://127.0.0.1:8080/app/\n")
                .signaling->public_url,
            "http://127.0.0.1:8080/app");
}

// ---- environment substitution ------------------------------------------------------------------

TEST(Env, SubstitutesInsideStrings) {
  Config config = load(
      "relay:\n"
      "  listen: ['udp://${HOST}:3478']\n"
      "  realm: pre-${SECRET}-${SECRET}-post\n"
      "  auth_secrets: ['${SECRET}', 'a$b', '$${SECRET}', '${EMPTY}x']\n"
      "  workers: ${WORKERS}\n");
  EXPECT_EQ(config.relay->listen[0].to_string(), "udp://10.1.2.3:3478");
  EXPECT_EQ(config.relay->realm, "pre-s3cret-s3cret-post");
  EXPECT_EQ(config.relay->auth_secrets,
            (std::vector<std::string>{"s3cret", "a$b", "${SECRET}", "x"}));
  EXPECT_EQ(config.relay->workers, 4u);
}

TEST(Env, UnsetVariableIsNamed) {
  EXPECT_EQ(error("relay:\n  listen: [udp://127.0.0.1:3478]\n  auth_secrets:\n    - "
                  "${TURN_SECRET}\n"),
            "test.yaml:4:7: relay.auth_secrets[0]: environment variable TURN_SECRET is not set");
  EXPECT_EQ(error(relay + "  users:\n    alice: ${ALICE_PASSWORD}\n"),
            "test.yaml:5:12: relay.users.alice: environment variable ALICE_PASSWORD is not set");
}

TEST(Env, MalformedReferences) {
  EXPECT_EQ(error(relay + "  realm: ${SECRET\n"),
            "test.yaml:4:10: relay.realm: unterminated ${ (write $${ for a literal ${)");
  EXPECT_EQ(error(relay + "  realm: ${1X}\n"),
            "test.yaml:4:10: relay.realm: invalid environment variable name '1X' in ${...}");
  EXPECT_EQ(error(relay + "  realm: ${}\n"),
            "test.yaml:4:10: relay.realm: invalid environment variable name '' in ${...}");
}

TEST(Env, EmptyValueThenFailsValidation) {
  EXPECT_EQ(error(relay + "  realm: ${EMPTY}\n"), "test.yaml:4:10: relay.realm: must not be empty");
}

TEST(Env, DefaultLookupIsProcessEnvironment) {
  ::setenv("PODIUM_CONFIG_TEST_REALM", "from-env", 1);
  Config config = load_string(relay + "  realm: ${PODIUM_CONFIG_TEST_REALM}\n", "env.yaml");
  ::unsetenv("PODIUM_CONFIG_TEST_REALM");
  EXPECT_EQ(config.relay->realm, "from-env");
}

// ---- relay cross-field rules -------------------------------------------------------------------

TEST(Relay, EmptyListenList) {
  EXPECT_EQ(error("relay:\n  listen: []\n  auth_secrets: [x]\n"),
            "test.yaml:2:11: relay.listen: at least one listener is required (e.g. "
            "udp://0.0.0.0:3478)");
}

TEST(Relay, DuplicateListener) {
  EXPECT_EQ(error("relay:\n  listen:\n    - udp://127.0.0.1:3478\n    - udp://127.0.0.1:3478\n"
                  "  auth_secrets: [x]\n"),
            "test.yaml:4:7: relay.listen[1]: duplicate listener (same as relay.listen[0])");
}

TEST(Relay, TcpAndTlsOnTheSamePortClash) {
  TempDir dir;
  std::string cert = dir.write("cert.pem", "cert");
  std::string key = dir.write("key.pem", "key");
  EXPECT_EQ(error("relay:\n  listen: [tcp://0.0.0.0:3478, tls://127.0.0.1:3478]\n"
                  "  relay_ip: 127.0.0.1\n  auth_secrets: [x]\n  tls: {cert: " +
                  cert + ", key: " + key + "}\n"),
            "test.yaml:2:32: relay.listen[1]: TCP 127.0.0.1:3478 is already used by "
            "relay.listen[0] (0.0.0.0:3478)");
}

TEST(Relay, UdpAndTcpOnTheSamePortAreFine) {
  Config config = load(
      "relay:\n  listen: [udp://127.0.0.1:3478, tcp://127.0.0.1:3478, "
      "'udp://[::1]:3478']\n  auth_secrets: [x]\n");
  EXPECT_EQ(config.relay->listen.size(), 3u);
}

TEST(Relay, TlsListenerNeedsTlsSection) {
  EXPECT_EQ(error("relay:\n  listen:\n    - udp://127.0.0.1:3478\n    - tls://127.0.0.1:5349\n"
                  "  auth_secrets: [x]\n"),
            "test.yaml:4:7: relay.listen[1]: tls:// needs a certificate: add relay.tls with cert "
            "and key");
  EXPECT_EQ(error("relay:\n  listen: [dtls://127.0.0.1:5349]\n  auth_secrets: [x]\n"),
            "test.yaml:2:12: relay.listen[0]: dtls:// needs a certificate: add relay.tls with "
            "cert and key");
}

TEST(Relay, DtlsListenerWithTlsIsAUdpSocket) {
  TempDir dir;
  const std::string tls = "  tls:\n    cert: " + dir.write("cert.pem", "cert") +
                          "\n    key: " + dir.write("key.pem", "key") + "\n";
  // dtls:// (TURN over DTLS) and tls:// may share a port number: one is UDP, the other TCP.
  Config config = load(
      "relay:\n  listen: [dtls://127.0.0.1:5349, tls://127.0.0.1:5349]\n"
      "  auth_secrets: [x]\n" +
      tls);
  ASSERT_EQ(config.relay->listen.size(), 2u);
  EXPECT_EQ(config.relay->listen[0].transport, Transport::dtls);
  EXPECT_EQ(config.relay->listen[0].to_string(), "dtls://127.0.0.1:5349");
  // A dtls:// listener binds UDP: it clashes with a udp:// one on the same port.
  EXPECT_EQ(error("relay:\n  listen: [udp://127.0.0.1:5349, dtls://127.0.0.1:5349]\n"
                  "  auth_secrets: [x]\n" +
                  tls),
            "test.yaml:2:34: relay.listen[1]: UDP 127.0.0.1:5349 is already used by "
            "relay.listen[0] (127.0.0.1:5349)");
}

TEST(Relay, TlsFilesMustBeReadable) {
  TempDir dir;
  std::string cert = dir.write("cert.pem", "cert");
  std::string missing = (dir.path() / "nope.pem").string();
  EXPECT_EQ(error(relay + "  tls:\n    cert: " + missing + "\n    key: " + cert + "\n"),
            "test.yaml:5:11: relay.tls.cert: cannot read certificate file " + missing +
                ": No such file or directory");
  EXPECT_EQ(error(relay + "  tls:\n    cert: " + cert + "\n    key: " + dir.path().string() + "\n"),
            "test.yaml:6:10: relay.tls.key: cannot read private key file " + dir.path().string() +
                ": Is a directory");
  if (::geteuid() != 0) {
    std::filesystem::permissions(cert, std::filesystem::perms::none);
    EXPECT_EQ(error(relay + "  tls:\n    cert: " + cert + "\n    key: " + cert + "\n"),
              "test.yaml:5:11: relay.tls.cert: cannot read certificate file " + cert +
                  ": Permission denied");
  }
}

TEST(Relay, TlsNeedsCertAndKey) {
  EXPECT_EQ(error(relay + "  tls:\n    cert: /dev/null\n"),
            "test.yaml:4:3: relay.tls.key: missing (path of the PEM private key)");
  EXPECT_EQ(error(relay + "  tls:\n"),
            "test.yaml:4:3: relay.tls: expected a mapping with cert and key");
  EXPECT_EQ(error(relay + "  tls: {cert: '', key: /dev/null}\n"),
            "test.yaml:4:15: relay.tls.cert: must not be empty");
}

TEST(Relay, TlsPathsRelativeToTheConfigFile) {
  TempDir dir;
  dir.write("tls/cert.pem", "cert");
  dir.write("tls/key.pem", "key");
  std::string file =
      dir.write("podium.yaml", relay + "  tls:\n    cert: tls/cert.pem\n    key: tls/key.pem\n");
  Config config = load_file(file, &test_env);
  ASSERT_TRUE(config.relay->tls);
  EXPECT_EQ(config.relay->tls->cert, (dir.path() / "tls/cert.pem").string());
  EXPECT_EQ(config.relay->tls->key, (dir.path() / "tls/key.pem").string());
  EXPECT_EQ(config.source, file);
}

TEST(Relay, NeedsCredentials) {
  EXPECT_EQ(error("relay:\n  listen: [udp://127.0.0.1:3478]\n"),
            "test.yaml:1:1: relay.users: the relay needs credentials: set users, auth_secrets or "
            "ephemeral_secret: true");
  EXPECT_EQ(error("relay:\n  listen: [udp://127.0.0.1:3478]\n  auth_secrets: []\n"),
            "test.yaml:3:17: relay.auth_secrets: the relay needs credentials: set users, "
            "auth_secrets or ephemeral_secret: true");
  EXPECT_EQ(error("relay:\n  listen: [udp://127.0.0.1:3478]\n  users: {}\n"),
            "test.yaml:3:10: relay.users: the relay needs credentials: set users, auth_secrets or "
            "ephemeral_secret: true");
  EXPECT_TRUE(load("relay:\n  listen: [udp://127.0.0.1:3478]\n  users: {a: b}\n").relay);
}

TEST(Relay, EphemeralSecret) {
  Config config = load("relay:\n  listen: [udp://127.0.0.1:3478]\n  ephemeral_secret: true\n");
  EXPECT_TRUE(config.relay->ephemeral_secret);
  EXPECT_EQ(error(relay + "  ephemeral_secret: true\n"),
            "test.yaml:4:21: relay.ephemeral_secret: cannot be combined with auth_secrets (the "
            "first secret already mints)");
}

TEST(Relay, Users) {
  EXPECT_EQ(error(relay + "  users: [alice]\n"),
            "test.yaml:4:10: relay.users: expected a mapping of user: password, got a list");
  EXPECT_EQ(error(relay + "  users:\n    alice:\n"),
            "test.yaml:5:5: relay.users.alice: missing value: expected a string (remove the key to "
            "use the default)");
  EXPECT_EQ(error(relay + "  users:\n    alice: ''\n"),
            "test.yaml:5:12: relay.users.alice: must not be empty");
  EXPECT_EQ(error(relay + "  users:\n    alice: [pw]\n"),
            "test.yaml:5:12: relay.users.alice: expected a string, got a list");
  EXPECT_EQ(error(relay + "  users:\n    '1700000000:bob': pw\n"),
            "test.yaml:5:5: relay.users.1700000000:bob: user names must not contain ':' (reserved "
            "for TURN REST credentials)");
  EXPECT_EQ(error(relay + "  users:\n    bob: a\n    bob: b\n"),
            "test.yaml:6:5: relay.users.bob: duplicate user");
  EXPECT_EQ(error(relay + "  users:\n    '': pw\n"),
            "test.yaml:5:5: relay.users.: user name must not be empty");
}

TEST(Relay, AuthSecretsMustBeNonEmptyStrings) {
  EXPECT_EQ(error("relay:\n  listen: [udp://127.0.0.1:3478]\n  auth_secrets: [a, '']\n"),
            "test.yaml:3:21: relay.auth_secrets[1]: must not be empty");
  EXPECT_EQ(error("relay:\n  listen: [udp://127.0.0.1:3478]\n  auth_secrets: s3cret\n"),
            "test.yaml:3:17: relay.auth_secrets: expected a list of secrets, got a string");
}

TEST(Relay, AdvertisedAddressMustBeConcrete) {
  EXPECT_EQ(error("relay:\n  listen: [udp://0.0.0.0:3478]\n  auth_secrets: [x]\n"),
            "test.yaml:2:12: relay.listen[0]: listens on 0.0.0.0, so set relay.relay_ip (or "
            "relay.external_ip) to the address relayed sockets are reached at");
  EXPECT_EQ(error("relay:\n  listen: [udp://0.0.0.0:3478]\n  auth_secrets: [x]\n"
                  "  relay_ip: 0.0.0.0\n"),
            "test.yaml:4:13: relay.relay_ip: 0.0.0.0 cannot be advertised to clients: set "
            "relay.external_ip too");
  EXPECT_EQ(error(relay + "  external_ip: '::'\n"),
            "test.yaml:4:16: relay.external_ip: must be the concrete address clients reach the "
            "relay at, not ::");
  Config config = load(
      "relay:\n  listen: [udp://0.0.0.0:3478]\n  auth_secrets: [x]\n"
      "  relay_ip: 0.0.0.0\n  external_ip: 203.0.113.1\n");
  EXPECT_EQ(config.relay->external_ip, make_address("203.0.113.1"));
}

// relay.relay_ip as a list: several relay addresses (one address has at most 64k ports).
TEST(Relay, RelayIpListGivesSeveralAddresses) {
  Config config = load(relay + "  relay_ip: [10.0.0.5, 10.0.0.6, '2001:db8::5']\n");
  const RelayConfig& r = *config.relay;
  EXPECT_EQ(r.relay_ip, make_address("10.0.0.5"));
  EXPECT_EQ(r.extra_relay_ips,
            (std::vector<IpAddress>{make_address("10.0.0.6"), make_address("2001:db8::5")}));
  EXPECT_EQ(relay_addresses(r),
            (std::vector<IpAddress>{make_address("10.0.0.5"), make_address("10.0.0.6"),
                                    make_address("2001:db8::5")}));
  Config block = load(relay + "  relay_ip:\n    - 127.0.0.1\n    - 127.0.0.2\n");
  EXPECT_EQ(relay_addresses(*block.relay),
            (std::vector<IpAddress>{make_address("127.0.0.1"), make_address("127.0.0.2")}));
  // The scalar form and a one-address list are the same configuration.
  Config scalar = load(relay + "  relay_ip: 10.0.0.5\n");
  EXPECT_EQ(relay_addresses(*scalar.relay), std::vector<IpAddress>{make_address("10.0.0.5")});
  EXPECT_TRUE(scalar.relay->extra_relay_ips.empty());
  Config one = load(relay + "  relay_ip: [10.0.0.5]\n  external_ip: 203.0.113.1\n");
  EXPECT_EQ(one.relay->relay_ip, make_address("10.0.0.5"));
  EXPECT_TRUE(one.relay->extra_relay_ips.empty());
  EXPECT_EQ(one.relay->external_ip, make_address("203.0.113.1"));
  EXPECT_TRUE(relay_addresses(*load(relay).relay).empty());
}

TEST(Relay, RelayIpListErrors) {
  EXPECT_EQ(error(relay + "  relay_ip: []\n"),
            "test.yaml:4:13: relay.relay_ip: expected at least one IP address (remove the key to "
            "use the first listener's address)");
  EXPECT_EQ(error(relay + "  relay_ip: [10.0.0.5, 10.0.0]\n"),
            "test.yaml:4:24: relay.relay_ip[1]: expected an IP address, got '10.0.0'");
  EXPECT_EQ(error(relay + "  relay_ip:\n    - 10.0.0.5\n    - {a: b}\n"),
            "test.yaml:6:7: relay.relay_ip[1]: expected an IP address, got a mapping");
  EXPECT_EQ(error(relay + "  relay_ip: [10.0.0.5, 10.0.0.6, 10.0.0.5]\n"),
            "test.yaml:4:34: relay.relay_ip[2]: 10.0.0.5 is listed twice (also "
            "relay.relay_ip[0])");
  EXPECT_EQ(error(relay + "  relay_ip: [10.0.0.5, 0.0.0.0]\n"),
            "test.yaml:4:24: relay.relay_ip[1]: 0.0.0.0 cannot be one of several relay "
            "addresses: list the concrete addresses relayed sockets bind to");
  EXPECT_EQ(error(relay + "  relay_ip: [10.0.0.5, 10.0.0.6]\n  external_ip: 203.0.113.1\n"),
            "test.yaml:5:16: relay.external_ip: cannot be combined with several relay.relay_ip "
            "addresses: it would replace every one of them in XOR-RELAYED-ADDRESS, so "
            "allocations on the same port of different addresses would be advertised as the "
            "same address. List addresses clients reach directly, or run one relay per external "
            "address");
  // A one-address list follows the single-address rules, pointing at the element.
  EXPECT_EQ(error("relay:\n  listen: [udp://0.0.0.0:3478]\n  auth_secrets: [x]\n"
                  "  relay_ip: [0.0.0.0]\n"),
            "test.yaml:4:14: relay.relay_ip[0]: 0.0.0.0 cannot be advertised to clients: set "
            "relay.external_ip too");
  // The scalar form's messages are unchanged.
  EXPECT_EQ(error(relay + "  relay_ip: {a: b}\n"),
            "test.yaml:4:13: relay.relay_ip: expected an IP address, got a mapping");
}

// ---- other cross-field rules -------------------------------------------------------------------

TEST(Sfu, WildcardListenNeedsAnnouncedIp) {
  EXPECT_EQ(error("sfu:\n  listen_ip: 0.0.0.0\n"),
            "test.yaml:2:14: sfu.listen_ip: 0.0.0.0 cannot be announced to browsers: set "
            "sfu.announced_ip too");
  EXPECT_EQ(error("sfu:\n  listen_ip: 0.0.0.0\n  announced_ip: 0.0.0.0\n"),
            "test.yaml:3:17: sfu.announced_ip: must be the concrete address browsers reach the SFU "
            "at, not 0.0.0.0");
}

// ---- sfu.slides --------------------------------------------------------------------------------

// A `slides` mapping inside a minimal sfu section; `keys` at four-space indentation.
std::string slides(const std::string& keys) {
  return "sfu:\n  slides:\n" + keys;
}

TEST(SfuSlides, Defaults) {
  for (const char* text : {"sfu:\n", "sfu:\n  slides:\n", "sfu:\n  slides: {}\n"}) {
    Config config = load(text);
    ASSERT_TRUE(config.sfu) << text;
    EXPECT_EQ(config.sfu->slides.guest_queue.bytes, 2u * 1024 * 1024) << text;
    EXPECT_EQ(config.sfu->slides.max_room_bytes.bytes, 256u * 1024 * 1024) << text;
    EXPECT_EQ(config.sfu->slides.max_slide_bytes.bytes, 50u * 1024 * 1024) << text;
  }
}

TEST(SfuSlides, ReadsEveryKey) {
  Config config =
      load(slides("    guest_queue: 4MiB\n"
                  "    max_room_bytes: 1GiB\n"
                  "    max_slide_bytes: 100MB\n"));
  EXPECT_EQ(config.sfu->slides.guest_queue.bytes, 4u * 1024 * 1024);
  EXPECT_EQ(config.sfu->slides.max_room_bytes.bytes, 1024u * 1024 * 1024);
  EXPECT_EQ(config.sfu->slides.max_slide_bytes.bytes, 100'000'000u);
  // Keys left out keep their defaults; bare numbers are bytes; flow style works too.
  config = load("sfu: {slides: {guest_queue: 524288}}\n");
  EXPECT_EQ(config.sfu->slides.guest_queue.bytes, 524288u);
  EXPECT_EQ(config.sfu->slides.max_room_bytes.bytes, 256u * 1024 * 1024);
  EXPECT_EQ(config.sfu->slides.max_slide_bytes.bytes, 50u * 1024 * 1024);
  // Environment variables are substituted before the size is read.
  config = load(slides("    guest_queue: ${WORKERS}MiB\n"));
  EXPECT_EQ(config.sfu->slides.guest_queue.bytes, 4u * 1024 * 1024);
}

TEST(SfuSlides, RangesAreInclusive) {
  Config low =
      load(slides("    guest_queue: 256KiB\n"
                  "    max_room_bytes: 1MiB\n"
                  "    max_slide_bytes: 1KiB\n"));
  EXPECT_EQ(low.sfu->slides.guest_queue.bytes, 256u * 1024);
  EXPECT_EQ(low.sfu->slides.max_room_bytes.bytes, 1024u * 1024);
  EXPECT_EQ(low.sfu->slides.max_slide_bytes.bytes, 1024u);
  Config high =
      load(slides("    guest_queue: 256MiB\n"
                  "    max_room_bytes: 64GiB\n"
                  "    max_slide_bytes: 1GiB\n"));
  EXPECT_EQ(high.sfu->slides.guest_queue.bytes, 256ull << 20);
  EXPECT_EQ(high.sfu->slides.max_room_bytes.bytes, 64ull << 30);
  EXPECT_EQ(high.sfu->slides.max_slide_bytes.bytes, 1ull << 30);
}

TEST(SfuSlides, OutOfRange) {
  EXPECT_EQ(error(slides("    guest_queue: 255KiB\n")),
            "test.yaml:3:18: sfu.slides.guest_queue: must be between 256KiB and 256MiB");
  EXPECT_EQ(error(slides("    guest_queue: 257MiB\n")),
            "test.yaml:3:18: sfu.slides.guest_queue: must be between 256KiB and 256MiB");
  EXPECT_EQ(error(slides("    guest_queue: 0\n")),
            "test.yaml:3:18: sfu.slides.guest_queue: must be between 256KiB and 256MiB");
  EXPECT_EQ(error(slides("    max_slide_bytes: 1023\n")),
            "test.yaml:3:22: sfu.slides.max_slide_bytes: must be between 1KiB and 1GiB");
  EXPECT_EQ(error(slides("    max_slide_bytes: 2GiB\n")),
            "test.yaml:3:22: sfu.slides.max_slide_bytes: must be between 1KiB and 1GiB");
  EXPECT_EQ(error(slides("    max_room_bytes: 1000KiB\n")),
            "test.yaml:3:21: sfu.slides.max_room_bytes: must be between 1MiB and 64GiB");
  EXPECT_EQ(error(slides("    max_room_bytes: 65GiB\n")),
            "test.yaml:3:21: sfu.slides.max_room_bytes: must be between 1MiB and 64GiB");
}

TEST(SfuSlides, MalformedSizes) {
  EXPECT_EQ(error(slides("    guest_queue: 4M\n")),
            "test.yaml:3:18: sfu.slides.guest_queue: unknown unit 'M' in size '4M' (use B, kB, MB, "
            "GB, KiB, MiB or GiB)");
  EXPECT_EQ(error(slides("    max_slide_bytes: -1\n")),
            "test.yaml:3:22: sfu.slides.max_slide_bytes: invalid size '-1' (expected e.g. 512, "
            "64KiB, 50MB)");
  EXPECT_EQ(error(slides("    max_room_bytes: 99999999999GiB\n")),
            "test.yaml:3:21: sfu.slides.max_room_bytes: size '99999999999GiB' is too large");
  EXPECT_EQ(error(slides("    guest_queue: [1MiB]\n"))
                .rfind("test.yaml:3:18: sfu.slides.guest_queue: ", 0),
            0u);
}

TEST(SfuSlides, UnknownKey) {
  EXPECT_EQ(error(slides("    guest_queu: 4MiB\n")),
            "test.yaml:3:5: sfu.slides.guest_queu: unknown key (did you mean 'guest_queue'?)");
  EXPECT_EQ(error(slides("    bandwidth: 1MiB\n")),
            "test.yaml:3:5: sfu.slides.bandwidth: unknown key (known: guest_queue, max_room_bytes, "
            "max_slide_bytes)");
  EXPECT_EQ(error(slides("    guest_queue: 4MiB\n    guest_queue: 8MiB\n")),
            "test.yaml:4:5: sfu.slides.guest_queue: duplicate key (first set on line 3)");
  // The section itself must be a mapping.
  EXPECT_EQ(
      error("sfu:\n  slides: 4MiB\n").rfind("test.yaml:2:11: sfu.slides: expected a mapping", 0),
      0u);
}

TEST(SfuSlides, RoomMustHoldTheLargestSlide) {
  EXPECT_EQ(
      error(slides("    max_slide_bytes: 100MiB\n    max_room_bytes: 64MiB\n")),
      "test.yaml:4:21: sfu.slides.max_room_bytes: must be at least sfu.slides.max_slide_bytes "
      "(104857600 bytes)");
  // Only max_slide_bytes given: the default room (256MiB) is too small; reported at `slides`.
  EXPECT_EQ(error(slides("    max_slide_bytes: 512MiB\n")),
            "test.yaml:2:3: sfu.slides.max_room_bytes: must be at least sfu.slides.max_slide_bytes "
            "(536870912 bytes)");
  // Equal is fine: the room holds exactly one slide of the largest size.
  Config config = load(slides("    max_slide_bytes: 2MiB\n    max_room_bytes: 2MiB\n"));
  EXPECT_EQ(config.sfu->slides.max_room_bytes, config.sfu->slides.max_slide_bytes);
}

TEST(Signaling, ClosedRoomsNeedTokenSecretAndApiKey) {
  EXPECT_EQ(error("signaling:\n  listen: 127.0.0.1:8080\n  api_key: k\n"),
            "test.yaml:1:1: signaling.token_secret: required when open_rooms is false");
  EXPECT_EQ(error("signaling:\n  token_secret: t\n"),
            "test.yaml:1:1: signaling.api_key: required when open_rooms is false");
  EXPECT_EQ(error("signaling:\n  token_secret: ''\n  api_key: k\n"),
            "test.yaml:2:17: signaling.token_secret: required when open_rooms is false");
  EXPECT_EQ(error("signaling:\n  token_secret: t\n  api_key: ${EMPTY}\n  open_rooms: false\n"),
            "test.yaml:3:12: signaling.api_key: required when open_rooms is false");
  Config config = load("signaling:\n  token_secret: t\n  api_key: k\n");
  EXPECT_FALSE(config.signaling->open_rooms);
}

TEST(Sockets, HttpListenersClash) {
  EXPECT_EQ(error("metrics:\n  listen: 127.0.0.1:8080\nsignaling:\n  listen: 127.0.0.1:8080\n"
                  "  open_rooms: true\n"),
            "test.yaml:4:11: signaling.listen: TCP 127.0.0.1:8080 is already used by "
            "metrics.listen (127.0.0.1:8080)");
  // The default metrics listener clashes with a signaling listener on the wildcard address.
  EXPECT_EQ(error("metrics:\nsignaling:\n  listen: 0.0.0.0:9464\n  open_rooms: true\n"),
            "test.yaml:3:11: signaling.listen: TCP 0.0.0.0:9464 is already used by "
            "metrics.listen (127.0.0.1:9464)");
}

TEST(Sockets, RelayAndSfuUdpClash) {
  EXPECT_EQ(error(relay + "sfu:\n  udp_port: 3478\n"),
            "test.yaml:5:13: sfu.udp_port: UDP 127.0.0.1:3478 is already used by relay.listen[0] "
            "(127.0.0.1:3478)");
}

TEST(Sockets, NoClashAcrossFamiliesOrAddressesOrPortZero) {
  EXPECT_NO_THROW(
      load("metrics:\n  listen: 127.0.0.1:8080\nsignaling:\n  listen: '[::]:8080'\n"
           "  open_rooms: true\n"));
  EXPECT_NO_THROW(
      load("metrics:\n  listen: 127.0.0.1:8080\nsignaling:\n  listen: "
           "127.0.0.2:8080\n  open_rooms: true\n"));
  EXPECT_NO_THROW(
      load("metrics:\n  listen: 127.0.0.1:0\nsignaling:\n  listen: 127.0.0.1:0\n"
           "  open_rooms: true\n"));
  EXPECT_NO_THROW(load(relay + "signaling:\n  listen: 127.0.0.1:3478\n  open_rooms: true\n"));
}

// ---- files and the error type ------------------------------------------------------------------

TEST(LoadFile, MissingFile) {
  try {
    load_file("/nonexistent/podium.yaml", &test_env);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "/nonexistent/podium.yaml: cannot read configuration file: No such file or "
                 "directory");
    EXPECT_EQ(e.line(), 0);
    EXPECT_EQ(e.key_path(), "");
  }
}

TEST(LoadFile, ErrorsNameTheFile) {
  TempDir dir;
  std::string file = dir.write("bad.yaml", "log:\n  level: loud\n");
  try {
    load_file(file, &test_env);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), file);
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.column(), 10);
    EXPECT_EQ(e.key_path(), "log.level");
    EXPECT_EQ(e.message(),
              "unknown log level 'loud' (expected one of trace, debug, info, warn, error, "
              "critical, off)");
    EXPECT_EQ(std::string(e.what()), file + ":2:10: log.level: " + e.message());
  }
}

TEST(ConfigErrorType, Formatting) {
  EXPECT_STREQ(ConfigError("f.yaml", 3, 7, "relay.realm", "bad").what(),
               "f.yaml:3:7: relay.realm: bad");
  EXPECT_STREQ(ConfigError("f.yaml", 0, 0, "relay", "bad").what(), "f.yaml: relay: bad");
  EXPECT_STREQ(ConfigError("f.yaml", 1, 1, "", "bad").what(), "f.yaml:1:1: bad");
  ConfigError e("f.yaml", 3, 7, "k", "m");
  EXPECT_EQ(e.file(), "f.yaml");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.column(), 7);
  EXPECT_EQ(e.key_path(), "k");
  EXPECT_EQ(e.message(), "m");
}

}  // namespace
}  // namespace podium::config
