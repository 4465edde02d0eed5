#include "turn/relay_metrics.hpp"

#include <string>

#include "policy/peer_policy.hpp"

namespace podium::relay {

namespace {

const char* auth_failure_label(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::missing_credentials:
      return "missing_credentials";
    case AuthFailure::unknown_user:
      return "unknown_user";
    case AuthFailure::expired_credential:
      return "expired_credential";
    case AuthFailure::malformed_username:
      return "malformed_request";
    case AuthFailure::bad_integrity:
      return "bad_integrity";
    case AuthFailure::stale_nonce:
      return "stale_nonce";
    case AuthFailure::invalid_nonce:
      return "invalid_nonce";
    case AuthFailure::wrong_credentials:
      return "wrong_credentials";
    case AuthFailure::count:
      break;
  }
  return "other";
}

const char* drop_label(Drop drop) {
  switch (drop) {
    case Drop::malformed:
      return "malformed";
    case Drop::no_allocation:
      return "no_allocation";
    case Drop::no_permission:
      return "no_permission";
    case Drop::unknown_channel:
      return "unknown_channel";
    case Drop::peer_refused:
      return "peer_refused";
    case Drop::bandwidth:
      return "bandwidth";
    case Drop::rate_limited:
      return "rate_limited";
    case Drop::truncated:
      return "truncated";
    case Drop::send_error:
      return "send_error";
    case Drop::count:
      break;
  }
  return "other";
}

constexpr const char* kTransports[kClientTransports] = {"udp", "tcp", "tls", "dtls"};

}  // namespace

std::size_t response_code_index(int code) {
  for (std::size_t i = 0; i + 1 < kResponseCodes.size(); ++i) {
    if (kResponseCodes[i] == code) return i;
  }
  return kResponseCodes.size() - 1;
}

std::size_t response_method_index(std::uint16_t method) {
  switch (method) {
    case 0x001:
      return 0;
    case 0x003:
      return 1;
    case 0x004:
      return 2;
    case 0x008:
      return 3;
    case 0x009:
      return 4;
    case 0x00A:
      return 5;
    case 0x00B:
      return 6;
  }
  return kResponseMethods.size() - 1;
}

RelayMetrics::RelayMetrics(prometheus::Registry& registry) {
  auto& responses = prometheus::BuildCounter()
                        .Name("podium_relay_responses_total")
                        .Help("STUN/TURN responses sent, by method and code (200 for success).")
                        .Register(registry);
  for (std::size_t m = 0; m < kResponseMethods.size(); ++m) {
    for (std::size_t c = 0; c < kResponseCodes.size(); ++c) {
      std::string code = kResponseCodes[c] ? std::to_string(kResponseCodes[c]) : "other";
      responses_[m][c] = &responses.Add({{"method", kResponseMethods[m]}, {"code", code}});
    }
  }
  auto& active = prometheus::BuildGauge()
                     .Name("podium_relay_allocations_active")
                     .Help("TURN allocations currently active, by client transport.")
                     .Register(registry);
  auto& created = prometheus::BuildCounter()
                      .Name("podium_relay_allocations_created_total")
                      .Help("TURN allocations created, by client transport.")
                      .Register(registry);
  auto& errors = prometheus::BuildCounter()
                     .Name("podium_relay_listener_errors_total")
                     .Help("Socket errors on the relay's client listeners, by transport.")
                     .Register(registry);
  auto& bindings = prometheus::BuildCounter()
                       .Name("podium_relay_binding_requests_total")
                       .Help("STUN Binding requests answered, by client transport.")
                       .Register(registry);
  for (std::size_t i = 0; i < kClientTransports; ++i) {
    allocations_active_[i] = &active.Add({{"transport", kTransports[i]}});
    allocations_created_[i] = &created.Add({{"transport", kTransports[i]}});
    listener_errors_[i] = &errors.Add({{"transport", kTransports[i]}});
    binding_requests_[i] = &bindings.Add({{"transport", kTransports[i]}});
  }
  allocations_expired_ = &prometheus::BuildCounter()
                              .Name("podium_relay_allocations_expired_total")
                              .Help("TURN allocations that ended because their lifetime ran out.")
                              .Register(registry)
                              .Add({});
  allocations_deleted_ =
      &prometheus::BuildCounter()
           .Name("podium_relay_allocations_deleted_total")
           .Help("TURN allocations deleted by the client (Refresh with lifetime 0).")
           .Register(registry)
           .Add({});
  allocations_terminated_ =
      &prometheus::BuildCounter()
           .Name("podium_relay_allocations_terminated_total")
           .Help("TURN allocations ended by an operator (admin API: terminate a user).")
           .Register(registry)
           .Add({});
  auto& closed = prometheus::BuildCounter()
                     .Name("podium_relay_connections_closed_total")
                     .Help(
                         "TCP/TLS connections and DTLS sessions of clients that ended, by client "
                         "transport and reason.")
                     .Register(registry);
  for (std::size_t t = 0; t < connections_closed_.size(); ++t) {
    for (std::size_t r = 0; r < connections_closed_[t].size(); ++r) {
      connections_closed_[t][r] = &closed.Add(
          {{"transport", kTransports[t]}, {"reason", to_string(static_cast<StreamClose>(r))}});
    }
  }
  permissions_active_ = &prometheus::BuildGauge()
                             .Name("podium_relay_permissions_active")
                             .Help("TURN permissions currently installed.")
                             .Register(registry)
                             .Add({});
  channels_active_ = &prometheus::BuildGauge()
                          .Name("podium_relay_channels_active")
                          .Help("TURN channel bindings currently active.")
                          .Register(registry)
                          .Add({});
  auto& quota = prometheus::BuildCounter()
                    .Name("podium_relay_quota_refusals_total")
                    .Help("Allocate requests refused by quota: per user (486) or total (508).")
                    .Register(registry);
  quota_user_ = &quota.Add({{"quota", "user"}});
  quota_total_ = &quota.Add({{"quota", "total"}});
  auto& packets = prometheus::BuildCounter()
                      .Name("podium_relay_packets_total")
                      .Help("Packets relayed, by direction.")
                      .Register(registry);
  auto& bytes = prometheus::BuildCounter()
                    .Name("podium_relay_bytes_total")
                    .Help("Application payload bytes relayed, by direction.")
                    .Register(registry);
  packets_[0] = &packets.Add({{"direction", "client_to_peer"}});
  packets_[1] = &packets.Add({{"direction", "peer_to_client"}});
  bytes_[0] = &bytes.Add({{"direction", "client_to_peer"}});
  bytes_[1] = &bytes.Add({{"direction", "peer_to_client"}});
  auto& auth = prometheus::BuildCounter()
                   .Name("podium_relay_auth_failures_total")
                   .Help(
                       "Requests that failed authentication, by reason "
                       "(missing_credentials is the normal first round trip).")
                   .Register(registry);
  for (std::size_t i = 0; i < auth_failures_.size(); ++i) {
    auth_failures_[i] = &auth.Add({{"reason", auth_failure_label(static_cast<AuthFailure>(i))}});
  }
  auto& drops = prometheus::BuildCounter()
                    .Name("podium_relay_dropped_packets_total")
                    .Help("Packets from clients or peers that were not relayed, by reason.")
                    .Register(registry);
  for (std::size_t i = 0; i < drops_.size(); ++i) {
    drops_[i] = &drops.Add({{"reason", drop_label(static_cast<Drop>(i))}});
  }
  auto& refusals = prometheus::BuildCounter()
                       .Name("podium_relay_peer_refusals_total")
                       .Help("Peer addresses refused by the peer policy (403), by reason.")
                       .Register(registry);
  for (std::size_t i = 1; i < peer_refusals_.size(); ++i) {
    auto label = policy::to_string(static_cast<policy::PeerRefusal>(i));
    if (label.empty() || label == "unknown") continue;
    peer_refusals_[i] = &refusals.Add({{"reason", std::string(label)}});
  }
}

void RelayMetrics::flush(WorkerCounters& c) {
  auto add = [](prometheus::Counter* counter, std::uint64_t& value) {
    if (counter && value) counter->Increment(static_cast<double>(value));
    value = 0;
  };
  add(packets_[0], c.packets_client_to_peer);
  add(bytes_[0], c.bytes_client_to_peer);
  add(packets_[1], c.packets_peer_to_client);
  add(bytes_[1], c.bytes_peer_to_client);
  for (std::size_t i = 0; i < kClientTransports; ++i) {
    add(binding_requests_[i], c.binding_requests[i]);
  }
  for (std::size_t i = 0; i < auth_failures_.size(); ++i)
    add(auth_failures_[i], c.auth_failures[i]);
  for (std::size_t i = 0; i < drops_.size(); ++i) add(drops_[i], c.drops[i]);
  for (std::size_t i = 0; i < peer_refusals_.size(); ++i)
    add(peer_refusals_[i], c.peer_refusals[i]);
  for (std::size_t m = 0; m < responses_.size(); ++m) {
    for (std::size_t i = 0; i < responses_[m].size(); ++i) add(responses_[m][i], c.responses[m][i]);
  }
}

}  // namespace podium::relay
