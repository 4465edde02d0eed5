// The SFU as `podium serve` runs it: the media worker on `sfu.listen_ip`:`sfu.udp_port` (one
// UDP port for every session, ICE-lite + DTLS-SRTP), its DTLS certificate, its metrics, and the
// SessionService that signaling calls.
#pragma once

#include <cstdint>
#include <memory>

#include "podium/config/config.hpp"
#include "podium/monitoring/metrics.hpp"
#include "podium/sfu/session_service.hpp"

namespace podium::sfu {

class SfuServer {
 public:
  SfuServer(const config::SfuConfig& config, monitoring::Metrics& metrics);
  ~SfuServer();
  SfuServer(const SfuServer&) = delete;
  SfuServer& operator=(const SfuServer&) = delete;

  // Generates (or loads) the DTLS certificate, binds the UDP port and starts the media thread.
  // Throws std::runtime_error on failure (startup path).
  void start();
  // Closes every session (close_notify to connected peers) and stops the thread.
  void stop();

  std::uint16_t udp_port() const;
  SessionService& sessions();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podium::sfu
