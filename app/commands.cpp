#include <cstdio>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "podium/config/config.hpp"
#include "podium/relay/rest_credentials.hpp"
#include "podium/signaling/room_token.hpp"

namespace podium::app {

int check_config(const std::string& config_path) {
  try {
    auto config = config::load_file(config_path);
    std::string components;
    if (config.relay) components += " relay";
    if (config.sfu) components += " sfu";
    if (config.signaling) components += " signaling";
    if (config.metrics) components += " metrics";
    std::printf("%s: OK (runs:%s)\n", config_path.c_str(),
                components.empty() ? " nothing" : components.c_str());
    return 0;
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

namespace {

// --ttl: a duration of at least one second, or `fallback` when not given.
std::optional<std::chrono::seconds> parse_ttl(const std::string& text,
                                              std::chrono::seconds fallback) {
  if (text.empty()) return fallback;
  auto parsed = config::parse_duration(text);
  if (!parsed) {
    std::fprintf(stderr, "podium: --ttl: %s\n", parsed.error().c_str());
    return std::nullopt;
  }
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(*parsed);
  if (ttl.count() <= 0) {
    std::fprintf(stderr, "podium: --ttl: must be at least 1s\n");
    return std::nullopt;
  }
  return ttl;
}

std::optional<config::Config> load(const std::string& config_path) {
  try {
    return config::load_file(config_path);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return std::nullopt;
  }
}

}  // namespace

int room_token(const std::string& config_path, const std::string& room,
               const std::string& role_text, const std::string& ttl_text) {
  auto config = load(config_path);
  if (!config) return 1;
  if (!config->signaling || config->signaling->token_secret.empty()) {
    std::fprintf(stderr, "%s: signaling.token_secret: no token secret configured\n",
                 config_path.c_str());
    return 1;
  }
  if (!signaling::valid_room_name(room)) {
    std::fprintf(stderr, "podium: --room: 1-64 characters of A-Z a-z 0-9 _ -\n");
    return 2;
  }
  signaling::Role role = signaling::Role::guest;
  signaling::parse_role(role_text, role);
  auto ttl = parse_ttl(ttl_text, config->signaling->token_ttl);
  if (!ttl) return 2;
  std::printf("%s\n", signaling::mint_room_token(config->signaling->token_secret, room, role,
                                                 std::chrono::system_clock::now() + *ttl)
                          .c_str());
  return 0;
}

int turn_credentials(const std::string& config_path, const std::string& user,
                     const std::string& ttl_text) {
  auto loaded = load(config_path);
  if (!loaded) return 1;
  auto& config = *loaded;
  if (!config.relay || config.relay->auth_secrets.empty()) {
    std::fprintf(stderr, "%s: relay.auth_secrets: no TURN REST secret configured\n",
                 config_path.c_str());
    return 1;
  }
  auto ttl = parse_ttl(ttl_text, config.relay->credential_ttl);
  if (!ttl) return 2;
  auto credential = relay::mint_ice_credential(config.relay->auth_secrets.front(), user, *ttl);
  nlohmann::json out{{"username", credential.username},
                     {"credential", credential.credential},
                     {"ttl", credential.ttl.count()},
                     {"uris", relay::ice_server_uris(*config.relay)}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace podium::app
