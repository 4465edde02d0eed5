// The running configuration as YAML with secrets replaced (GET /admin/config). Every key is
// written, defaults included, in the syntax the loader reads, so the text loads back.
#include <chrono>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "podium/config/config.hpp"

namespace podium::config {
namespace {

constexpr const char* kRedacted = "<redacted>";

std::string duration(std::chrono::seconds value) {
  return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(value));
}

std::string size(ByteSize value) {
  return std::to_string(value.bytes);
}

std::string rate(Rate value) {
  return std::to_string(value.bits_per_second) + "bit/s";
}

std::string secret(const std::string& value) {
  return value.empty() ? std::string() : kRedacted;
}

void tls(YAML::Emitter& out, const char* key, const std::optional<TlsConfig>& value) {
  if (!value) return;
  // Paths, not secrets: the key file itself stays where it is.
  out << YAML::Key << key << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cert" << YAML::Value << value->cert;
  out << YAML::Key << "key" << YAML::Value << value->key;
  out << YAML::EndMap;
}

template <typename List, typename Format>
void list(YAML::Emitter& out, const char* key, const List& items, Format format) {
  out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& item : items) out << format(item);
  out << YAML::EndSeq;
}

void relay(YAML::Emitter& out, const RelayConfig& r) {
  out << YAML::Key << "relay" << YAML::Value << YAML::BeginMap;
  list(out, "listen", r.listen, [](const ListenUrl& u) { return u.to_string(); });
  out << YAML::Key << "realm" << YAML::Value << r.realm;
  if (r.relay_ip) {
    auto addresses = relay_addresses(r);
    if (addresses.size() == 1) {
      out << YAML::Key << "relay_ip" << YAML::Value << addresses.front().to_string();
    } else {
      list(out, "relay_ip", addresses, [](const IpAddress& a) { return a.to_string(); });
    }
  }
  if (r.external_ip) out << YAML::Key << "external_ip" << YAML::Value << r.external_ip->to_string();
  out << YAML::Key << "relay_ports" << YAML::Value
      << std::to_string(r.relay_ports.first) + "-" + std::to_string(r.relay_ports.last);
  out << YAML::Key << "users" << YAML::Value << YAML::BeginMap;
  for (const auto& [user, password] : r.users) {
    out << YAML::Key << user << YAML::Value << secret(password);
  }
  out << YAML::EndMap;
  // With ephemeral_secret, `podium serve` mints the secret at start; it is not configuration
  // (and written out, the two keys together would not load back).
  const std::vector<std::string> none;
  list(out, "auth_secrets", r.ephemeral_secret ? none : r.auth_secrets,
       [](const std::string& s) { return secret(s); });
  out << YAML::Key << "ephemeral_secret" << YAML::Value << r.ephemeral_secret;
  list(out, "allow_peers", r.allow_peers, [](const Cidr& c) { return c.to_string(); });
  list(out, "deny_peers", r.deny_peers, [](const Cidr& c) { return c.to_string(); });
  list(out, "trusted_peers", r.trusted_peers, [](const Endpoint& e) { return e.to_string(); });
  tls(out, "tls", r.tls);
  out << YAML::Key << "workers" << YAML::Value << r.workers;
  out << YAML::Key << "default_lifetime" << YAML::Value << duration(r.default_lifetime);
  out << YAML::Key << "max_lifetime" << YAML::Value << duration(r.max_lifetime);
  out << YAML::Key << "nonce_lifetime" << YAML::Value << duration(r.nonce_lifetime);
  out << YAML::Key << "credential_ttl" << YAML::Value << duration(r.credential_ttl);
  out << YAML::Key << "max_allocations" << YAML::Value << r.max_allocations;
  out << YAML::Key << "user_quota" << YAML::Value << r.user_quota;
  out << YAML::Key << "allocation_bandwidth" << YAML::Value << rate(r.allocation_bandwidth);
  out << YAML::Key << "unauthenticated_rate" << YAML::Value << r.unauthenticated_rate;
  out << YAML::Key << "software" << YAML::Value << r.software;
  out << YAML::Key << "proxy_protocol" << YAML::Value << r.proxy_protocol;
  out << YAML::Key << "mobility" << YAML::Value << r.mobility;
  if (r.rfc5780) {
    out << YAML::Key << "rfc5780" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "alternate_ip" << YAML::Value << r.rfc5780->alternate_ip.to_string();
    out << YAML::Key << "alternate_port" << YAML::Value << r.rfc5780->alternate_port;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void sfu(YAML::Emitter& out, const SfuConfig& s) {
  out << YAML::Key << "sfu" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "listen_ip" << YAML::Value << s.listen_ip.to_string();
  if (s.announced_ip) {
    out << YAML::Key << "announced_ip" << YAML::Value << s.announced_ip->to_string();
  }
  out << YAML::Key << "udp_port" << YAML::Value << s.udp_port;
  if (s.tcp_port) out << YAML::Key << "tcp_port" << YAML::Value << *s.tcp_port;
  out << YAML::Key << "workers" << YAML::Value << s.workers;
  out << YAML::Key << "max_sessions" << YAML::Value << s.max_sessions;
  out << YAML::Key << "consent_timeout" << YAML::Value << duration(s.consent_timeout);
  tls(out, "certificate", s.certificate);
  out << YAML::Key << "slides" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "guest_queue" << YAML::Value << size(s.slides.guest_queue);
  out << YAML::Key << "max_room_bytes" << YAML::Value << size(s.slides.max_room_bytes);
  out << YAML::Key << "max_slide_bytes" << YAML::Value << size(s.slides.max_slide_bytes);
  out << YAML::EndMap;
  out << YAML::EndMap;
}

void signaling(YAML::Emitter& out, const SignalingConfig& s) {
  out << YAML::Key << "signaling" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value << s.listen.to_string();
  if (!s.public_url.empty()) out << YAML::Key << "public_url" << YAML::Value << s.public_url;
  out << YAML::Key << "token_secret" << YAML::Value << secret(s.token_secret);
  out << YAML::Key << "api_key" << YAML::Value << secret(s.api_key);
  out << YAML::Key << "open_rooms" << YAML::Value << s.open_rooms;
  out << YAML::Key << "token_ttl" << YAML::Value << duration(s.token_ttl);
  out << YAML::Key << "max_sdp_bytes" << YAML::Value << size(s.max_sdp_bytes);
  out << YAML::Key << "max_image_edge" << YAML::Value << s.max_image_edge;
  out << YAML::EndMap;
}

}  // namespace

std::string to_redacted_yaml(const Config& config) {
  YAML::Emitter out;
  out << YAML::Comment("running configuration (" + config.source + "), secrets redacted");
  out << YAML::BeginMap;
  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "level" << YAML::Value << config.log.level;
  out << YAML::Key << "format" << YAML::Value
      << (config.log.format == LogConfig::Format::json ? "json" : "text");
  out << YAML::EndMap;
  if (config.metrics) {
    out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "listen" << YAML::Value << config.metrics->listen.to_string();
    out << YAML::Key << "admin_token" << YAML::Value << secret(config.metrics->admin_token);
    out << YAML::Key << "drain_timeout" << YAML::Value << duration(config.metrics->drain_timeout);
    out << YAML::EndMap;
  }
  if (config.relay) relay(out, *config.relay);
  if (config.sfu) sfu(out, *config.sfu);
  if (config.signaling) signaling(out, *config.signaling);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace podium::config
