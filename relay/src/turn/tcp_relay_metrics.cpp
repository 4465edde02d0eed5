#include "turn/tcp_relay_metrics.hpp"

#include <prometheus/family.h>

namespace podium::relay {

TcpRelayMetrics::TcpRelayMetrics(prometheus::Registry& registry) {
  auto& connections =
      prometheus::BuildCounter()
          .Name("podium_relay_tcp_connections_total")
          .Help(
              "RFC 6062 peer data connections of TCP allocations: made for a Connect request "
              "(direction connect) or accepted from a peer (direction attempt), by result.")
          .Register(registry);
  connect_[static_cast<std::size_t>(TcpConnectResult::connected)] =
      &connections.Add({{"direction", "connect"}, {"result", "connected"}});
  connect_[static_cast<std::size_t>(TcpConnectResult::refused)] =
      &connections.Add({{"direction", "connect"}, {"result", "refused"}});
  connect_[static_cast<std::size_t>(TcpConnectResult::failed)] =
      &connections.Add({{"direction", "connect"}, {"result", "failed"}});
  attempt_[static_cast<std::size_t>(TcpConnectResult::offered)] =
      &connections.Add({{"direction", "attempt"}, {"result", "offered"}});
  attempt_[static_cast<std::size_t>(TcpConnectResult::refused)] =
      &connections.Add({{"direction", "attempt"}, {"result", "refused"}});
  // Combinations that cannot happen share a series rather than being null.
  connect_[static_cast<std::size_t>(TcpConnectResult::offered)] =
      connect_[static_cast<std::size_t>(TcpConnectResult::connected)];
  attempt_[static_cast<std::size_t>(TcpConnectResult::connected)] =
      attempt_[static_cast<std::size_t>(TcpConnectResult::offered)];
  attempt_[static_cast<std::size_t>(TcpConnectResult::failed)] =
      attempt_[static_cast<std::size_t>(TcpConnectResult::refused)];

  auto& binds = prometheus::BuildCounter()
                    .Name("podium_relay_tcp_connection_binds_total")
                    .Help(
                        "RFC 6062 ConnectionBind outcomes, and pending peer connections closed "
                        "because no ConnectionBind came within 30 s.")
                    .Register(registry);
  bind_[static_cast<std::size_t>(TcpBindResult::bound)] = &binds.Add({{"result", "bound"}});
  bind_[static_cast<std::size_t>(TcpBindResult::unknown_id)] =
      &binds.Add({{"result", "unknown_id"}});
  bind_[static_cast<std::size_t>(TcpBindResult::wrong_credentials)] =
      &binds.Add({{"result", "wrong_credentials"}});
  bind_[static_cast<std::size_t>(TcpBindResult::timeout)] = &binds.Add({{"result", "timeout"}});

  peer_connections_ = &prometheus::BuildGauge()
                           .Name("podium_relay_tcp_peer_connections_active")
                           .Help(
                               "RFC 6062 peer data connections open (pending a ConnectionBind "
                               "or bound to a client data connection).")
                           .Register(registry)
                           .Add({});
}

}  // namespace podium::relay
