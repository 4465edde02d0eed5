// The STUN/TURN relay (RFC 8489, RFC 8656): the only entry point the rest of Podium uses.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "podium/config/config.hpp"
#include "podium/monitoring/metrics.hpp"

namespace podium::relay {

class RelayServer {
 public:
  RelayServer(const config::RelayConfig& config, monitoring::Metrics& metrics);
  ~RelayServer();
  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  // Binds every listener and starts the worker threads. Throws std::system_error on bind failure.
  void start();
  // Stops accepting, closes every socket and joins the workers.
  void stop();
  // The bound listeners, e.g. "udp://127.0.0.1:3478" (ports resolved when configured as 0).
  std::vector<config::ListenUrl> listeners() const;

  // SIGHUP: applies users, REST secrets, the peer policy, quotas, bandwidth and lifetimes, and
  // the tls:// certificate (new handshakes) without touching allocations. Throws
  // std::runtime_error (e.g. an unreadable certificate) before changing anything. Returns the
  // keys that differ but need a restart (listeners, realm, addresses, ports, workers), which
  // keep their running values.
  std::vector<std::string> reload(const config::RelayConfig& requested);
  // Graceful drain: new Allocates are refused (508); existing allocations, their refreshes,
  // permissions and data go on.
  void drain();
  // Allocations that exist now, over every worker.
  std::size_t active_allocations() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podium::relay
