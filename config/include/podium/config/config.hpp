// Podium's configuration: one YAML file with the top-level sections log, metrics, relay, sfu and
// signaling. A component runs only when its section is present. Everything is validated before
// anything binds; errors are reported as `FILE:LINE:COL: key.path: what is wrong`.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "podium/config/values.hpp"

namespace podium::config {

struct LogConfig {
  enum class Format { text, json };
  std::string level = "info";  // trace|debug|info|warn|error|critical|off
  Format format = Format::text;
};

struct MetricsConfig {
  Endpoint listen{*parse_endpoint("127.0.0.1:9464")};
  std::string admin_token;  // bearer token for /admin/* (empty: admin API disabled)
  std::chrono::seconds drain_timeout{30};
};

struct TlsConfig {
  std::string cert;  // PEM certificate chain file
  std::string key;   // PEM private key file
  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

// relay.rfc5780: NAT behaviour discovery (RFC 5780) on the first udp:// listener with a concrete
// address: the relay also answers on alternate_ip and alternate_port (all four combinations).
struct Rfc5780Config {
  IpAddress alternate_ip;
  std::uint16_t alternate_port = 0;
  friend bool operator==(const Rfc5780Config&, const Rfc5780Config&) = default;
};

struct RelayConfig {
  std::vector<ListenUrl> listen;  // udp://, tcp://, tls:// (dtls:// reserved)
  std::string realm = "podium";
  // Addresses relayed sockets bind to (default: the listen host). `relay_ip` is the only one, or
  // the first when relay.relay_ip is a YAML list; `extra_relay_ips` holds the rest of the list
  // (one address has at most 64k ports, so more allocations need more addresses). Use
  // relay_addresses() for all of them.
  std::optional<IpAddress> relay_ip;
  std::vector<IpAddress> extra_relay_ips;
  std::optional<IpAddress> external_ip;  // address advertised in XOR-RELAYED-ADDRESS (behind NAT);
                                         // only with a single relay address
  PortRange relay_ports{49152, 65535};
  std::map<std::string, std::string> users;  // static long-term credentials user: password
  std::vector<std::string> auth_secrets;     // TURN REST API secrets; first mints, all verify
  // Generate a random TURN REST secret at start (minting and verifying, never written anywhere).
  // Set by the embedded default; cannot be combined with auth_secrets.
  bool ephemeral_secret = false;
  std::vector<Cidr> allow_peers;  // exceptions to the default peer deny list
  std::vector<Cidr> deny_peers;   // extra denied peer ranges
  // Exact peers allowed whatever the ranges say (except deny_peers): e.g. a media server on the
  // relay's own host. Port 0 means any port. `podium serve` adds its own SFU here.
  std::vector<Endpoint> trusted_peers;
  std::optional<TlsConfig> tls;
  unsigned workers = 0;  // data-path threads; 0 = one per core
  std::chrono::seconds default_lifetime{600};
  std::chrono::seconds max_lifetime{3600};  // at most 3600
  std::chrono::seconds nonce_lifetime{600};
  std::chrono::seconds credential_ttl{86400};  // default TTL minted by `podium turn-credentials`
  unsigned max_allocations = 0;                // total allocations; 0 = unlimited
  unsigned user_quota = 0;                     // allocations per user; 0 = unlimited
  Rate allocation_bandwidth{0};                // per-allocation cap; 0 = unlimited
  unsigned unauthenticated_rate = 20;          // unauthenticated requests/s per source address
  std::string software = "podium";             // SOFTWARE attribute ("" to omit)
  // Every tcp:// and tls:// listener requires a PROXY protocol v2 header (HAProxy spec section
  // 2.2) as the first bytes of a connection and takes the client address from it.
  bool proxy_protocol = false;
  // RFC 8016: UDP allocations requested with MOBILITY-TICKET get a ticket that moves them to the
  // client's new address (a Refresh carrying it); off: such an Allocate gets 405.
  bool mobility = false;
  std::optional<Rfc5780Config> rfc5780;  // off when absent
};

// The configured relay addresses: relay_ip followed by extra_relay_ips; empty without relay_ip.
std::vector<IpAddress> relay_addresses(const RelayConfig& relay);

// relay.rfc5780: the udp:// listener it applies to (the first with the alternate's family), or
// nullptr.
const ListenUrl* rfc5780_primary(const std::vector<ListenUrl>& listen,
                                 const Rfc5780Config& rfc5780);

// The slides data channel (docs/protocol.md).
struct SlidesConfig {
  // What SCTP may hold for one guest (queued and unacknowledged): a guest that cannot keep up
  // waits at this bound without slowing the others.
  ByteSize guest_queue{2u << 20};
  // One room's stored deck; least recently used slides are evicted, never the current one.
  ByteSize max_room_bytes{256u << 20};
  // One slide.
  ByteSize max_slide_bytes{50u << 20};
  friend bool operator==(const SlidesConfig&, const SlidesConfig&) = default;
};

struct SfuConfig {
  IpAddress listen_ip = *parse_ip_address("127.0.0.1");
  std::optional<IpAddress> announced_ip;
  std::uint16_t udp_port = 50000;
  // ICE-TCP (RFC 6544 passive candidate, RFC 4571 framing) on listen_ip: off when absent;
  // 0 lets the OS choose.
  std::optional<std::uint16_t> tcp_port;
  unsigned workers = 0;  // 0 = one per core
  unsigned max_sessions = 5000;
  std::chrono::seconds consent_timeout{30};
  // DTLS certificate (ECDSA P-256 recommended) and key; none: a fresh one is generated at start.
  std::optional<TlsConfig> certificate;
  SlidesConfig slides;
  friend bool operator==(const SfuConfig&, const SfuConfig&) = default;
};

struct SignalingConfig {
  Endpoint listen{*parse_endpoint("127.0.0.1:8080")};
  std::string public_url;  // empty: derived from listen
  std::string token_secret;
  std::string api_key;
  bool open_rooms = false;
  std::chrono::seconds token_ttl{7200};
  ByteSize max_sdp_bytes{64 * 1024};
  // The presenter page downscales photos to this longest edge (pixels) before uploading.
  unsigned max_image_edge = 2560;
};

struct Config {
  std::string source;  // file name, or "<embedded default>"
  LogConfig log;
  std::optional<MetricsConfig> metrics;
  std::optional<RelayConfig> relay;
  std::optional<SfuConfig> sfu;
  std::optional<SignalingConfig> signaling;
};

// Thrown by the loaders. what() is the full `FILE:LINE:COL: key.path: message` line.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, int column, std::string key_path, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }      // 1-based; 0 when unknown
  int column() const { return column_; }  // 1-based; 0 when unknown
  const std::string& key_path() const { return key_path_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string key_path_;
  std::string message_;
};

// Environment lookup used for `${NAME}` substitution; defaults to ::getenv.
using EnvLookup = std::optional<std::string> (*)(const std::string& name);

Config load_file(const std::string& path, EnvLookup env = nullptr);
Config load_string(const std::string& yaml, const std::string& file_name, EnvLookup env = nullptr);

// The configuration as YAML in the loader's syntax, every key written (defaults included), with
// passwords, REST secrets, the token secret, the API key and the admin token replaced by
// "<redacted>" (GET /admin/config). File paths are not secrets and stay.
std::string to_redacted_yaml(const Config& config);

// The configuration `podium serve` runs without --config: everything on 127.0.0.1,
// TURN/STUN on 3478 UDP+TCP, HTTP on 8080, metrics on 9464, rooms open without tokens.
Config embedded_default();
const char* embedded_default_yaml();

}  // namespace podium::config
