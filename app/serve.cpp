// `podium serve`: wires the components whose config sections are present into one process.
#include <csignal>
#include <cstdio>
#include <optional>
#include <system_error>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <chrono>
#include <exception>
#include <functional>
#include <string_view>
#include <tuple>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "admin_api.hpp"
#include "commands.hpp"
#include "control_signals.hpp"
#include "podium/common/http_server.hpp"
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

// The embedded default has no TURN secret of its own: one is minted for the run, shared by the
// relay (to verify) and signaling (to hand out credentials). A reload keeps the running one.
void mint_ephemeral_secret(config::Config& config, const config::Config* running) {
  if (!config.relay || !config.relay->ephemeral_secret || !config.relay->auth_secrets.empty()) {
    return;
  }
  if (running && running->relay && running->relay->ephemeral_secret) {
    config.relay->auth_secrets = running->relay->auth_secrets;
  } else {
    config.relay->auth_secrets.push_back(random_token(32));
  }
}

// Browsers relaying through the bundled TURN server must reach the SFU, which is often on the
// relay's own address (refused by the peer policy) or in a private range: trust exactly its
// media port.
void trust_sfu(config::Config& config, const config::Endpoint& media) {
  if (!config.relay || !config.sfu) return;
  config.relay->trusted_peers.push_back(media);
  if (!config.sfu->listen_ip.is_unspecified() && config.sfu->listen_ip != media.address) {
    config.relay->trusted_peers.push_back({config.sfu->listen_ip, media.port});
  }
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
  mint_ephemeral_secret(config, nullptr);

  log::setup(config.log);
  auto logger = log::get("podium");
  logger->info("podium {} ({}) starting with {}", kVersion, kRevision, config.source);

  monitoring::Metrics metrics(kVersion);
  auto& reloads = prometheus::BuildCounter()
                      .Name("podium_config_reloads_total")
                      .Help(
                          "Configuration reloads (SIGHUP), by result: ok, or refused (the new "
                          "file did not validate or could not be applied; the old one runs).")
                      .Register(metrics.registry());
  auto& reloads_ok = reloads.Add({{"result", "ok"}});
  auto& reloads_refused = reloads.Add({{"result", "refused"}});
  auto& draining_gauge = prometheus::BuildGauge()
                             .Name("podium_draining")
                             .Help("1 while a graceful drain (SIGTERM, POST /admin/drain) runs.")
                             .Register(metrics.registry())
                             .Add({});
  asio::io_context control(1);
  // Before anything starts (any thread): a signal that arrives while the components start (or
  // right after the "listening" lines) is queued and handled below, never the default action.
  ControlSignals signals(control);

  std::optional<monitoring::MetricsEndpoint> metrics_endpoint;
  std::optional<relay::RelayServer> relay_server;
  std::optional<sfu::SfuServer> sfu_server;
  std::optional<signaling::SignalingServer> signaling_server;
  std::optional<config::Endpoint> sfu_media;

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
      sfu_media = config::Endpoint{config.sfu->announced_ip.value_or(config.sfu->listen_ip),
                                   sfu_server->udp_port()};
      announce("sfu", "udp://" + sfu_media->to_string());
      if (sfu_server->tcp_port() != 0) {  // ICE-TCP (RFC 6544) on the same address
        announce(
            "sfu",
            "tcp://" + config::Endpoint{sfu_media->address, sfu_server->tcp_port()}.to_string());
      }
      trust_sfu(config, *sfu_media);
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

  // --- Shutdown: at once (SIGINT, or a second signal), or drained (SIGTERM, POST /admin/drain):
  // no new allocations or sessions, /readyz 503, and the process exits 0 when the last one has
  // ended or metrics.drain_timeout has passed.
  bool stopped = false;
  auto shutdown = [&](const char* why) {
    if (stopped) return;
    stopped = true;
    logger->info("shutting down ({})", why);
    if (metrics_endpoint) metrics_endpoint->set_ready(false);
    if (signaling_server) signaling_server->stop();
    if (sfu_server) sfu_server->stop();
    if (relay_server) relay_server->stop();
    if (metrics_endpoint) metrics_endpoint->stop();
    control.stop();
  };
  auto active = [&] {
    std::size_t allocations = relay_server ? relay_server->active_allocations() : 0;
    std::size_t sessions = sfu_server ? sfu_server->active_sessions() : 0;
    return std::pair{allocations, sessions};
  };
  std::optional<std::chrono::steady_clock::time_point> drain_deadline;
  asio::steady_timer drain_timer(control);
  // Checked every 250 ms, the first time after 250 ms (so that the answer to POST /admin/drain
  // is written before a drain with nothing to wait for stops the listener).
  std::function<void()> watch_drain = [&] {
    drain_timer.expires_after(std::chrono::milliseconds(250));
    drain_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      auto [allocations, sessions] = active();
      if (allocations + sessions == 0) return shutdown("drained");
      if (std::chrono::steady_clock::now() >= *drain_deadline) {
        logger->warn("drain timeout: {} allocations and {} sessions are cut", allocations,
                     sessions);
        return shutdown("drain timeout");
      }
      watch_drain();
    });
  };
  auto start_drain = [&](const char* why) {
    if (drain_deadline || stopped) return;
    const auto timeout = config.metrics ? config.metrics->drain_timeout : std::chrono::seconds(30);
    drain_deadline = std::chrono::steady_clock::now() + timeout;
    draining_gauge.Set(1);
    if (metrics_endpoint) metrics_endpoint->set_ready(false);
    if (relay_server) relay_server->drain();
    if (sfu_server) sfu_server->drain();
    if (signaling_server) signaling_server->drain();
    auto [allocations, sessions] = active();
    logger->info(
        "draining ({}): {} allocations and {} sessions may run up to {}s; a second "
        "signal stops at once",
        why, allocations, sessions, timeout.count());
    watch_drain();
  };

  // --- SIGHUP: the config file again. A file that does not validate, or a component that
  // refuses its part (an unreadable certificate), leaves everything as it was.
  auto reload = [&] {
    if (!config_path) {
      logger->warn("SIGHUP: running on the embedded default config; nothing to reload");
      return;
    }
    config::Config next;
    try {
      next = config::load_file(*config_path);
    } catch (const std::exception& e) {  // config::ConfigError: FILE:LINE:COL: key: what
      reloads_refused.Increment();
      logger->error("reload refused, the running config stays: {}", e.what());
      return;
    }
    mint_ephemeral_secret(next, &config);
    if (sfu_media) trust_sfu(next, *sfu_media);
    std::vector<std::string> restart_only;
    for (auto [name, before, after] :
         {std::tuple{"metrics", config.metrics.has_value(), next.metrics.has_value()},
          std::tuple{"relay", config.relay.has_value(), next.relay.has_value()},
          std::tuple{"sfu", config.sfu.has_value(), next.sfu.has_value()},
          std::tuple{"signaling", config.signaling.has_value(), next.signaling.has_value()}}) {
      if (before != after)
        restart_only.push_back(std::string(name) + " (section added or removed)");
    }
    try {
      // The relay first: it is the part that can refuse (certificate files).
      if (relay_server && next.relay) {
        auto keys = relay_server->reload(*next.relay);
        restart_only.insert(restart_only.end(), keys.begin(), keys.end());
        config.relay = next.relay;
      }
    } catch (const std::exception& e) {  // certificate files; anything else a component refuses
      reloads_refused.Increment();
      logger->error("reload refused, the running config stays: {}", e.what());
      return;
    }
    if (signaling_server && next.signaling) {
      auto keys = signaling_server->reload(*next.signaling);
      restart_only.insert(restart_only.end(), keys.begin(), keys.end());
      config.signaling = next.signaling;
      // A rotated REST secret (the new one first) is the one browsers get from now on.
      if (relay_server && next.relay && !next.relay->auth_secrets.empty()) {
        signaling_server->reload_ice_credentials(next.relay->auth_secrets.front(),
                                                 next.relay->credential_ttl);
      }
    }
    if (config.metrics && next.metrics) {
      if (next.metrics->listen != config.metrics->listen) restart_only.push_back("metrics.listen");
      config.metrics->admin_token = next.metrics->admin_token;
      config.metrics->drain_timeout = next.metrics->drain_timeout;
    }
    if (config.sfu && next.sfu && !(*next.sfu == *config.sfu)) {
      restart_only.push_back("sfu (the SFU reloads nothing yet)");
    }
    config.log = next.log;
    log::setup(config.log);
    reloads_ok.Increment();
    for (const auto& key : restart_only) {
      logger->warn("reload: {} changed but needs a restart; the running value stays", key);
    }
    logger->info("configuration reloaded from {}", *config_path);
  };

  // The admin API on the metrics listener (app/admin_api.hpp), with metrics.admin_token.
  AdminApi admin{&config, relay_server ? &*relay_server : nullptr, [&] {
                   start_drain("POST /admin/drain");
                   auto [allocations, sessions] = active();
                   const auto left = drain_deadline
                                         ? std::chrono::duration_cast<std::chrono::seconds>(
                                               *drain_deadline - std::chrono::steady_clock::now())
                                         : std::chrono::seconds(0);
                   return nlohmann::json{{"draining", true},
                                         {"allocations", allocations},
                                         {"sessions", sessions},
                                         {"deadline_seconds", std::max<long>(0, left.count())}};
                 }};
  if (metrics_endpoint) {
    metrics_endpoint->add_route("/admin/",
                                [&](const http::Request& request, const http::RequestContext&,
                                    http::Response& response) { admin.handle(request, response); });
  }

  if (metrics_endpoint) metrics_endpoint->set_ready(true);
  logger->info("ready");

  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reload();
      } else if (signal == SIGTERM && !drain_deadline) {
        logger->info("received SIGTERM");
        start_drain("SIGTERM");
      } else {
        logger->info("received {}", signal == SIGINT ? "SIGINT" : "SIGTERM");
        shutdown(signal == SIGINT ? "SIGINT" : "second SIGTERM");
      }
      if (!stopped) wait_signal();
    });
  };
  wait_signal();
  control.run();
  logger->info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace podium::app
