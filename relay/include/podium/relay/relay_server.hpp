// The STUN/TURN relay (RFC 8489, RFC 8656): the only entry point the rest of Podium uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "podium/config/config.hpp"
#include "podium/monitoring/metrics.hpp"

namespace podium::relay {

// One allocation as the admin API lists it (GET /admin/allocations).
struct AllocationInfo {
  std::string id;         // the id log lines carry (allocation=ID)
  std::string username;   // USERNAME of the Allocate (for REST credentials `expiry:user`)
  std::string user;       // who it counts against: the user part of a REST username
  std::string transport;  // client transport: udp, tcp, tls or dtls
  std::string client;     // client address of the 5-tuple, IP:PORT ([v6]:PORT)
  std::string server;     // server address of the 5-tuple (the listener)
  std::string relayed;    // XOR-RELAYED-ADDRESS
  // The IPv6 relayed address of a dual-stack allocation (ADDITIONAL-ADDRESS-FAMILY), or empty.
  std::string relayed_additional;
  std::int64_t age_seconds = 0;
  std::int64_t expires_in_seconds = 0;
  std::size_t permissions = 0;
  std::size_t channels = 0;
  std::uint64_t bytes_to_peer = 0;    // payload relayed from the client to peers
  std::uint64_t bytes_to_client = 0;  // payload relayed from peers to the client
};

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

  // Admin API (control path: each worker answers on its own thread; waits at most 2 s for it).
  // Every allocation, oldest first.
  std::vector<AllocationInfo> list_allocations();
  // Ends every allocation of `user` (matched against the user an allocation counts against and
  // against its USERNAME) at once, closing TCP/TLS connections that carried them. Returns how
  // many ended. The client learns it at its next request (437) or from the closed connection;
  // whether it may allocate again is the credentials' business (change or remove them first).
  std::size_t terminate_user(const std::string& user);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podium::relay
