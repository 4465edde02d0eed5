// Metrics of RFC 6062 TCP allocations: peer data connections made (Connect) and offered
// (ConnectionAttempt), ConnectionBind outcomes, and the peer connections open now. Updated on
// connection events only (never per byte), so the families are used directly.
#pragma once

#include <array>
#include <cstdint>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace podium::relay {

// podium_relay_tcp_connections_total{direction, result}
enum class TcpConnectResult : std::uint8_t {
  connected,  // Connect: the relay reached the peer (section 5.2)
  refused,    // Connect: no permission or peer policy (403); attempt: no permission or limit
  failed,     // Connect: the peer refused or did not answer in time (447)
  offered,    // attempt: a peer connected and the client got a ConnectionAttempt (section 5.3)
  count
};
// podium_relay_tcp_connection_binds_total{result}
enum class TcpBindResult : std::uint8_t {
  bound,              // the client data connection now carries the peer's bytes (section 5.4)
  unknown_id,         // no pending peer connection with that CONNECTION-ID (400)
  wrong_credentials,  // another user than the allocation's (441)
  timeout,            // no ConnectionBind within 30 s: the peer connection was closed
  count
};

class TcpRelayMetrics {
 public:
  explicit TcpRelayMetrics(prometheus::Registry& registry);
  prometheus::Counter& connect(TcpConnectResult result) {
    return *connect_[static_cast<std::size_t>(result)];
  }
  prometheus::Counter& attempt(TcpConnectResult result) {
    return *attempt_[static_cast<std::size_t>(result)];
  }
  prometheus::Counter& bind(TcpBindResult result) {
    return *bind_[static_cast<std::size_t>(result)];
  }
  prometheus::Gauge& peer_connections() { return *peer_connections_; }

 private:
  std::array<prometheus::Counter*, static_cast<std::size_t>(TcpConnectResult::count)> connect_{};
  std::array<prometheus::Counter*, static_cast<std::size_t>(TcpConnectResult::count)> attempt_{};
  std::array<prometheus::Counter*, static_cast<std::size_t>(TcpBindResult::count)> bind_{};
  prometheus::Gauge* peer_connections_ = nullptr;
};

}  // namespace podium::relay
