// The relay's Prometheus metrics. Counters on the packet path are kept per worker thread in
// plain integers (WorkerCounters) and added to the shared families once a second, so metrics
// stay live without atomics or locks per packet.
#pragma once

#include <array>
#include <cstdint>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "net/five_tuple.hpp"
#include "net/stream_close.hpp"

namespace podium::relay {

enum class AuthFailure : std::uint8_t {
  missing_credentials,  // request without MESSAGE-INTEGRITY (the normal first 401 round trip)
  unknown_user,
  expired_credential,
  malformed_username,
  bad_integrity,
  stale_nonce,
  invalid_nonce,
  wrong_credentials,  // 441: another user than the allocation's
  count
};

enum class Drop : std::uint8_t {
  malformed,
  no_allocation,
  no_permission,
  unknown_channel,
  peer_refused,
  bandwidth,
  rate_limited,
  truncated,
  send_error,
  count
};

// Reasons a peer address is refused; mirrors policy::PeerRefusal's labels.
inline constexpr std::size_t kPeerRefusalReasons = 16;

// Responses are counted per (method, code) from these fixed lists; others count as "other".
inline constexpr std::array<int, 18> kResponseCodes = {200, 300, 400, 401, 403, 420, 437, 438, 440,
                                                       441, 442, 443, 446, 447, 486, 500, 508, 0};
inline constexpr std::array<const char*, 8> kResponseMethods = {
    "Binding",     "Allocate", "Refresh",        "CreatePermission",
    "ChannelBind", "Connect",  "ConnectionBind", "other"};
std::size_t response_code_index(int code);
std::size_t response_method_index(std::uint16_t method);

struct WorkerCounters {
  std::array<std::array<std::uint64_t, kResponseCodes.size()>, kResponseMethods.size()> responses{};
  std::uint64_t packets_client_to_peer = 0;
  std::uint64_t bytes_client_to_peer = 0;
  std::uint64_t packets_peer_to_client = 0;
  std::uint64_t bytes_peer_to_client = 0;
  std::array<std::uint64_t, kClientTransports> binding_requests{};  // by ClientTransport
  std::array<std::uint64_t, static_cast<std::size_t>(AuthFailure::count)> auth_failures{};
  std::array<std::uint64_t, static_cast<std::size_t>(Drop::count)> drops{};
  std::array<std::uint64_t, kPeerRefusalReasons> peer_refusals{};
};

class RelayMetrics {
 public:
  explicit RelayMetrics(prometheus::Registry& registry);

  // Adds `counters` to the shared families and zeroes them (called by each worker every second).
  void flush(WorkerCounters& counters);

  prometheus::Gauge& allocations_active(ClientTransport transport) {
    return *allocations_active_[static_cast<std::size_t>(transport)];
  }
  prometheus::Counter& allocations_created(ClientTransport transport) {
    return *allocations_created_[static_cast<std::size_t>(transport)];
  }
  prometheus::Counter& allocations_expired() { return *allocations_expired_; }
  prometheus::Counter& allocations_deleted() { return *allocations_deleted_; }
  prometheus::Counter& allocations_terminated() { return *allocations_terminated_; }
  prometheus::Counter& connection_closed(ClientTransport transport, StreamClose reason) {
    return *connections_closed_[static_cast<std::size_t>(transport)]
                               [static_cast<std::size_t>(reason)];
  }
  prometheus::Gauge& permissions_active() { return *permissions_active_; }
  prometheus::Gauge& channels_active() { return *channels_active_; }
  prometheus::Counter& quota_refusal_user() { return *quota_user_; }
  prometheus::Counter& quota_refusal_total() { return *quota_total_; }
  prometheus::Counter& listener_error(ClientTransport transport) {
    return *listener_errors_[static_cast<std::size_t>(transport)];
  }

 private:
  std::array<std::array<prometheus::Counter*, kResponseCodes.size()>, kResponseMethods.size()>
      responses_{};
  std::array<prometheus::Gauge*, kClientTransports> allocations_active_{};
  std::array<prometheus::Counter*, kClientTransports> allocations_created_{};
  prometheus::Counter* allocations_expired_;
  prometheus::Counter* allocations_deleted_;
  prometheus::Counter* allocations_terminated_ = nullptr;
  std::array<std::array<prometheus::Counter*, static_cast<std::size_t>(StreamClose::count)>,
             kClientTransports>
      connections_closed_{};
  prometheus::Gauge* permissions_active_;
  prometheus::Gauge* channels_active_;
  prometheus::Counter* quota_user_;
  prometheus::Counter* quota_total_;
  std::array<prometheus::Counter*, kClientTransports> listener_errors_{};
  std::array<prometheus::Counter*, 2> packets_{};
  std::array<prometheus::Counter*, 2> bytes_{};
  std::array<prometheus::Counter*, kClientTransports> binding_requests_{};
  std::array<prometheus::Counter*, static_cast<std::size_t>(AuthFailure::count)> auth_failures_{};
  std::array<prometheus::Counter*, static_cast<std::size_t>(Drop::count)> drops_{};
  std::array<prometheus::Counter*, kPeerRefusalReasons> peer_refusals_{};
};

}  // namespace podium::relay
