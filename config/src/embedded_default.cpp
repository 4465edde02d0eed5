#include "podium/config/config.hpp"

namespace podium::config {

const char* embedded_default_yaml() {
  return R"yaml(# podium serve without --config: every component on 127.0.0.1.
log:
  level: info
  format: text

metrics:
  listen: 127.0.0.1:9464

relay:
  listen:
    - udp://127.0.0.1:3478
    - tcp://127.0.0.1:3478
  realm: podium
  relay_ip: 127.0.0.1
  relay_ports: 49152-65535
  # A random TURN REST secret is generated at start; signaling mints browser credentials with it.
  ephemeral_secret: true
  # Loopback peers are denied by default; the local demo relays between 127.0.0.1 addresses.
  allow_peers: [127.0.0.0/8]

sfu:
  listen_ip: 127.0.0.1
  udp_port: 50000

signaling:
  listen: 127.0.0.1:8080
  public_url: http://127.0.0.1:8080
  # Anyone may create and join rooms; no token_secret or api_key needed.
  open_rooms: true
)yaml";
}

Config embedded_default() {
  return load_string(embedded_default_yaml(), "<embedded default>");
}

}  // namespace podium::config
