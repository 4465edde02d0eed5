// The SFU as `podium serve` runs it: the media worker on `sfu.listen_ip`:`sfu.udp_port` (one
// UDP port for every session, ICE-lite + DTLS-SRTP), its DTLS certificate, its metrics, and the
// SessionService that signaling calls.
#pragma once

#include <cstddef>
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
  // Graceful drain: new sessions are refused (503 through signaling); existing ones go on.
  void drain();
  // Sessions that exist now (0 when the SFU is not running). Control path: waits for the media
  // thread.
  std::size_t active_sessions();

  std::uint16_t udp_port() const;
  // The bound ICE-TCP port (RFC 6544), 0 when sfu.tcp_port is not set.
  std::uint16_t tcp_port() const;
  SessionService& sessions();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podium::sfu
