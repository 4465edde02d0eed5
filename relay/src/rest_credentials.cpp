#include "podium/relay/rest_credentials.hpp"

#include "auth/credentials.hpp"

namespace podium::relay {

IceServerCredential mint_ice_credential(const std::string& secret, const std::string& user,
                                        std::chrono::seconds ttl) {
  auto minted = auth::mint_rest_credential(secret, user, ttl, std::chrono::system_clock::now());
  return {minted.username, minted.password, minted.ttl};
}

std::vector<std::string> ice_server_uris(const config::RelayConfig& config) {
  std::vector<std::string> uris;
  for (const auto& listen : config.listen) {
    // What clients can reach: external_ip, else the listener's own address, else (wildcard
    // listeners) relay_ip, which config validation requires to be concrete in that case.
    auto address = config.external_ip ? *config.external_ip : listen.endpoint.address;
    if (!config.external_ip && address.is_unspecified() && config.relay_ip) {
      address = *config.relay_ip;
    }
    std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    std::string hostport = host + ":" + std::to_string(listen.endpoint.port);
    switch (listen.transport) {
      case config::Transport::udp:
        uris.push_back("stun:" + hostport);
        uris.push_back("turn:" + hostport + "?transport=udp");
        break;
      case config::Transport::tcp:
        uris.push_back("turn:" + hostport + "?transport=tcp");
        break;
      case config::Transport::tls:
        uris.push_back("turns:" + hostport + "?transport=tcp");
        break;
      case config::Transport::dtls:
        break;
    }
  }
  return uris;
}

}  // namespace podium::relay
