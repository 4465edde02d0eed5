// What every worker thread of the relay shares: configuration, credentials, nonces, peer policy,
// allocation quotas, relayed addresses and metrics. What a reload (SIGHUP) may change lives in an
// immutable RelayPolicy that is replaced as a whole: each worker keeps its own reference and
// takes the new one at its next request (Worker::refresh_policy), so the packet path takes no
// locks.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "auth/credentials.hpp"
#include "auth/nonce.hpp"
#include "podium/config/config.hpp"
#include "podium/monitoring/metrics.hpp"
#include "policy/allocation_quota.hpp"
#include "policy/peer_policy.hpp"
#include "turn/mobility.hpp"
#include "turn/relay_metrics.hpp"
#include "turn/tcp_relay_metrics.hpp"

namespace podium::relay {

class Worker;

// Hands out relayed transport addresses: (address, port) pairs from the relay addresses
// (relay.relay_ip, one or a list) and relay.relay_ports, round robin across workers. Consecutive
// candidates alternate between the addresses of a family, so allocations spread over all of them.
class RelayAddressPool {
 public:
  RelayAddressPool(const std::vector<boost::asio::ip::address>& addresses, config::PortRange range);
  // Whether an address of that family is configured.
  bool offers(bool v6) const { return !family(v6).addresses.empty(); }
  // The family of an Allocate without REQUESTED-ADDRESS-FAMILY: IPv4 (RFC 8656 section 7.2)
  // when one is configured, else IPv6 (a relay with IPv6 addresses only).
  bool default_v6() const { return !offers(false); }
  // The next candidate of that family (which must be offered); callers try to bind it and ask
  // again on EADDRINUSE.
  boost::asio::ip::udp::endpoint next(bool v6);
  // Candidate pairs of that family (addresses x ports).
  std::size_t size(bool v6) const { return family(v6).addresses.size() * ports(); }
  std::size_t ports() const { return static_cast<std::size_t>(range_.last - range_.first) + 1; }

 private:
  struct Family {
    std::vector<boost::asio::ip::address> addresses;
    std::atomic<std::uint64_t> cursor{0};
  };
  const Family& family(bool v6) const { return v6 ? v6_ : v4_; }
  config::PortRange range_;
  Family v4_;
  Family v6_;
};

// The addresses relayed sockets bind to: relay.relay_ip (all of a list), else the first
// listener's concrete address.
std::vector<boost::asio::ip::address> relay_bind_addresses(const config::RelayConfig& relay);

// Allocations the relay can hold: one per (relay address, relay port) pair, capped by
// relay.max_allocations when that is set. Published as podium_relay_allocation_capacity.
std::size_t allocation_capacity(const config::RelayConfig& relay);

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
  RelayAddressPool relay_addresses;  // relayed sockets bind to these
  PortReservations reservations;
  RelayMetrics metrics;
  TcpRelayMetrics tcp_metrics;  // RFC 6062 TCP allocations
  MobilityTickets mobility;     // RFC 8016 (relay.mobility)
  // Every worker, set before they start: an RFC 6062 ConnectionBind may reach another worker
  // than the one holding its peer connection (turn/tcp_relay.cpp).
  std::vector<Worker*> workers;
  // XOR-RELAYED-ADDRESS carries this when set (relay.external_ip, single relay address only);
  // else the address the relayed socket is bound to.
  std::optional<boost::asio::ip::address> external_ip;
  std::atomic<bool> draining{false};  // new Allocates are refused (graceful drain)

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
