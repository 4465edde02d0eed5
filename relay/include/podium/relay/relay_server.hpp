// The STUN/TURN relay (RFC 8489, RFC 8656): the only entry point the rest of Podium uses.
#pragma once

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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podium::relay
