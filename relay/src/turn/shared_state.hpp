// What every worker thread of the relay shares: configuration, credentials, nonces, peer policy,
// allocation quotas, relay ports and metrics. What a reload (SIGHUP) may change lives in an
// immutable RelayPolicy that is replaced as a whole: each worker keeps its own reference and
// takes the new one at its next request (Worker::refresh_policy), so the packet path takes no
// locks.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auth/credentials.hpp"
#include "auth/nonce.hpp"
#include "podium/config/config.hpp"
#include "podium/monitoring/metrics.hpp"
#include "policy/allocation_quota.hpp"
#include "policy/peer_policy.hpp"
#include "turn/relay_metrics.hpp"

namespace podium::relay {

// Hands out relay ports from `relay.relay_ports`, round robin across workers.
class PortAllocator {
 public:
  explicit PortAllocator(config::PortRange range);
  // The next candidate port; callers try to bind it and ask again on EADDRINUSE.
  std::uint16_t next();
  std::size_t size() const { return static_cast<std::size_t>(range_.last - range_.first) + 1; }

 private:
  config::PortRange range_;
  std::atomic<std::uint32_t> cursor_;
};

// RFC 8656 section 7.2 (EVEN-PORT with R bit): relayed ports reserved for a later Allocate
// that presents the RESERVATION-TOKEN. Shared by workers; used only on Allocate, so a mutex.
class PortReservations {
 public:
  ~PortReservations();
  // Keeps the bound socket `fd` for about 30 s; returns its 8-byte token.
  std::uint64_t put(int fd, std::chrono::steady_clock::time_point now);
  // The reserved socket for `token`, or -1. The caller owns the fd afterwards.
  int take(std::uint64_t token);
  void expire(std::chrono::steady_clock::time_point now);

 private:
  struct Entry {
    int fd;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, Entry> entries_;
};

// The reloadable part: users and REST secrets, the peer policy, and the per-allocation limits
// and lifetimes read from `config` (allocation_bandwidth, default/max_lifetime, software,
// unauthenticated_rate). Realm, listeners, relay addresses and ports need a restart.
struct RelayPolicy {
  explicit RelayPolicy(const config::RelayConfig& relay);
  config::RelayConfig config;
  auth::CredentialStore credentials;
  policy::PeerPolicy peer_policy;
};

struct SharedState {
  SharedState(const config::RelayConfig& relay, monitoring::Metrics& metrics);

  config::RelayConfig config;  // as started; see policy() for what reloads change
  std::string realm;
  std::unique_ptr<auth::NonceIssuer> nonces;
  policy::AllocationQuota quota;
  PortAllocator ports;
  PortReservations reservations;
  RelayMetrics metrics;
  boost::asio::ip::address relay_ip;       // relayed sockets bind here
  boost::asio::ip::address advertised_ip;  // XOR-RELAYED-ADDRESS carries this (external_ip)
  std::atomic<bool> draining{false};       // new Allocates are refused (graceful drain)

  std::shared_ptr<const RelayPolicy> policy() const {
    std::lock_guard lock(policy_mutex_);
    return policy_;
  }
  // Publishes a new policy; workers take it at their next request.
  void set_policy(std::shared_ptr<const RelayPolicy> next) {
    std::lock_guard lock(policy_mutex_);
    policy_ = std::move(next);
    policy_generation.fetch_add(1, std::memory_order_release);
  }
  std::atomic<std::uint64_t> policy_generation{1};

 private:
  mutable std::mutex policy_mutex_;
  std::shared_ptr<const RelayPolicy> policy_;
};

}  // namespace podium::relay
