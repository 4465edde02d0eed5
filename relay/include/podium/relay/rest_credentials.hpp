// TURN REST API ephemeral credentials (draft-uberti-behave-turn-rest): username `expiry:user`,
// password base64(HMAC-SHA1(secret, username)). Used by `podium turn-credentials` and signaling.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "podium/config/config.hpp"

namespace podium::relay {

struct IceServerCredential {
  std::string username;
  std::string credential;
  std::chrono::seconds ttl{0};
};

IceServerCredential mint_ice_credential(const std::string& secret, const std::string& user,
                                        std::chrono::seconds ttl);

// turn:/turns:/stun: URIs for the relay's listeners, with `host` used for wildcard or loopback
// listeners when given, and relay.external_ip where configured.
std::vector<std::string> ice_server_uris(const config::RelayConfig& config);

}  // namespace podium::relay
