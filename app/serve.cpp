// `podium serve`: wires the components whose config sections are present into one process.
#include <csignal>
#include <cstdio>
#include <optional>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "commands.hpp"
#include "podium/common/random.hpp"
#include "podium/config/config.hpp"
#include "podium/monitoring/logging.hpp"
#include "podium/monitoring/metrics.hpp"
#include "podium/monitoring/metrics_endpoint.hpp"
#include "podium/relay/relay_server.hpp"
#include "podium/relay/rest_credentials.hpp"
#include "podium/sfu/sfu_server.hpp"
#include "podium/signaling/signaling_server.hpp"
#include "podium/version.hpp"

namespace podium::app {

namespace asio = boost::asio;

namespace {

std::string http_url(const asio::ip::tcp::endpoint& endpoint) {
  config::Endpoint e{endpoint.address(), endpoint.port()};
  return "http://" + e.to_string();
}

// Lines a person (and the integration tests) read to learn where things listen.
void announce(const char* component, const std::string& url) {
  std::printf("podium: %s listening on %s\n", component, url.c_str());
  std::fflush(stdout);
}

}  // namespace

int serve(const std::optional<std::string>& config_path) {
  config::Config config;
  try {
    config = config_path ? config::load_file(*config_path) : config::embedded_default();
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }

  // The embedded default has no TURN secret of its own: mint one for this run, shared by the
  // relay (to verify) and signaling (to hand out credentials).
  if (config.relay && config.relay->ephemeral_secret && config.relay->auth_secrets.empty()) {
    config.relay->auth_secrets.push_back(random_token(32));
  }

  log::setup(config.log);
  auto logger = log::get("podium");
  logger->info("podium {} ({}) starting with {}", kVersion, kRevision, config.source);

  monitoring::Metrics metrics(kVersion);
  asio::io_context control(1);
  // Registered before anything starts: a signal that arrives while the components start (or
  // right after the "listening" lines) is queued and handled below, never the default action.
  asio::signal_set signals(control, SIGINT, SIGTERM);

  std::optional<monitoring::MetricsEndpoint> metrics_endpoint;
  std::optional<relay::RelayServer> relay_server;
  std::optional<sfu::SfuServer> sfu_server;
  std::optional<signaling::SignalingServer> signaling_server;

  const char* starting = "";
  try {
    if (config.metrics) {
      starting = "metrics";
      metrics_endpoint.emplace(control, *config.metrics, metrics);
      metrics_endpoint->start();
      announce("metrics", http_url(metrics_endpoint->local_endpoint()));
    }
    if (config.sfu) {
      starting = "sfu";
      sfu_server.emplace(*config.sfu, metrics);
      sfu_server->start();
      config::Endpoint media{config.sfu->announced_ip.value_or(config.sfu->listen_ip),
                             sfu_server->udp_port()};
      announce("sfu", "udp://" + media.to_string());
      // Browsers relaying through the bundled TURN server must reach the SFU, which is often on
      // the relay's own address (refused by the peer policy) or in a private range: trust
      // exactly its media port.
      if (config.relay) {
        config.relay->trusted_peers.push_back(media);
        if (!config.sfu->listen_ip.is_unspecified() && config.sfu->listen_ip != media.address) {
          config.relay->trusted_peers.push_back({config.sfu->listen_ip, media.port});
        }
      }
    }
    if (config.relay) {
      starting = "relay";
      relay_server.emplace(*config.relay, metrics);
      relay_server->start();
      for (const auto& listener : relay_server->listeners()) {
        announce("relay", listener.to_string());
      }
    }
    if (config.signaling) {
      starting = "signaling";
      signaling::SignalingDeps deps;
      if (sfu_server) deps.sessions = &sfu_server->sessions();
      // Clients get the bundled relay as their ICE servers, with fresh REST credentials.
      if (relay_server && !config.relay->auth_secrets.empty()) {
        auto relay_config = *config.relay;
        relay_config.listen = relay_server->listeners();
        deps.ice = signaling::IceServerSource{relay::ice_server_uris(relay_config),
                                              config.relay->auth_secrets.front(),
                                              config.relay->credential_ttl};
      }
      signaling_server.emplace(control, *config.signaling, metrics, std::move(deps));
      signaling_server->start();
      announce("signaling", http_url(signaling_server->local_endpoint()));
    }
  } catch (const std::runtime_error& e) {  // std:: and boost::system::system_error, TLS files
    std::fprintf(stderr, "podium: cannot start %s: %s\n", starting, e.what());
    logger->error("cannot start {}: {}", starting, e.what());
    if (sfu_server) sfu_server->stop();
    if (relay_server) relay_server->stop();
    return 1;
  }

  if (!config.metrics && !config.relay && !config.sfu && !config.signaling) {
    std::fprintf(stderr, "podium: %s runs nothing (no metrics, relay, sfu or signaling section)\n",
                 config.source.c_str());
    return 1;
  }
  if (signaling_server) {
    std::string url = config.signaling->public_url.empty()
                          ? http_url(signaling_server->local_endpoint()) + "/"
                          : config.signaling->public_url + "/";
    std::printf("podium: open %s in a browser\n", url.c_str());
    std::fflush(stdout);
  }
  if (metrics_endpoint) metrics_endpoint->set_ready(true);
  logger->info("ready");

  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    logger->info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
    if (metrics_endpoint) metrics_endpoint->set_ready(false);
    if (signaling_server) signaling_server->stop();
    if (sfu_server) sfu_server->stop();
    if (relay_server) relay_server->stop();
    if (metrics_endpoint) metrics_endpoint->stop();
    control.stop();
  });
  control.run();
  logger->info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace podium::app
