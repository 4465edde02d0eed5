// HTTP signaling on `signaling.listen`: the web client, the rooms API and the WHIP (RFC 9725)
// and WHEP endpoints (docs/signaling.md).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "podium/common/http_server.hpp"
#include "podium/config/config.hpp"
#include "podium/monitoring/metrics.hpp"
#include "podium/sfu/session_service.hpp"

namespace podium::signaling {

// Where TURN/STUN servers for WHIP/WHEP clients come from: the relay's URIs (as
// relay::ice_server_uris() produces them) and its TURN REST secret. Every 201 carries one Link
// header field per URI, with a fresh REST credential valid for `ttl` on the turn:/turns: ones.
struct IceServerSource {
  std::vector<std::string> uris;  // turn:/turns:/stun: URIs
  std::string secret;             // TURN REST API secret (relay.auth_secrets[0])
  std::chrono::seconds ttl{86400};
};

// What signaling uses of the other components in the process.
struct SignalingDeps {
  // The SFU that WHIP/WHEP sessions go to; null answers them 503 (no SFU in this process). Must
  // outlive the SignalingServer, or at least its stop().
  sfu::SessionService* sessions = nullptr;
  // ICE servers for WHIP/WHEP answers; none without a relay in the process.
  std::optional<IceServerSource> ice;
};

class SignalingServer {
 public:
  SignalingServer(boost::asio::io_context& io, const config::SignalingConfig& config,
                  monitoring::Metrics& metrics, SignalingDeps deps = {});
  ~SignalingServer();
  void start();  // throws on bind failure
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // What the listener does with one parsed request from `remote`, metrics included (call on the
  // io_context's thread). The HTTP fuzzer drives the server through it.
  void handle(const http::Request& request, const http::RequestContext& context,
              http::Response& response);

  // SIGHUP (call on the io_context's thread): API key, token secret, open_rooms, token_ttl,
  // public_url and max_image_edge take effect for the next request; returns the keys that
  // differ but need a restart (listen, max_sdp_bytes). With open rooms and no token_secret the
  // secret generated at start is kept, so tokens already handed out stay valid.
  std::vector<std::string> reload(const config::SignalingConfig& next);
  // SIGHUP, with the relay's reloaded REST secret (the first of relay.auth_secrets) and
  // credential_ttl: the ICE servers of later WHIP/WHEP answers carry credentials minted with
  // them (the URIs stay). No effect when signaling hands out no ICE servers.
  void reload_ice_credentials(const std::string& secret, std::chrono::seconds ttl);
  // Graceful drain: POST /api/rooms answers 503; WHIP/WHEP refusals come from the SFU.
  void drain();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podium::signaling
