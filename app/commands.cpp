#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "podium/config/config.hpp"
#include "podium/relay/rest_credentials.hpp"

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

int turn_credentials(const std::string& config_path, const std::string& user,
                     const std::string& ttl_text) {
  config::Config config;
  try {
    config = config::load_file(config_path);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  if (!config.relay || config.relay->auth_secrets.empty()) {
    std::fprintf(stderr, "%s: relay.auth_secrets: no TURN REST secret configured\n",
                 config_path.c_str());
    return 1;
  }
  auto ttl = config.relay->credential_ttl;
  if (!ttl_text.empty()) {
    auto parsed = config::parse_duration(ttl_text);
    if (!parsed) {
      std::fprintf(stderr, "podium: --ttl: %s\n", parsed.error().c_str());
      return 2;
    }
    ttl = std::chrono::duration_cast<std::chrono::seconds>(*parsed);
    if (ttl.count() <= 0) {
      std::fprintf(stderr, "podium: --ttl: must be at least 1s\n");
      return 2;
    }
  }
  auto credential = relay::mint_ice_credential(config.relay->auth_secrets.front(), user, ttl);
  nlohmann::json out{{"username", credential.username},
                     {"credential", credential.credential},
                     {"ttl", credential.ttl.count()},
                     {"uris", relay::ice_server_uris(*config.relay)}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace podium::app
