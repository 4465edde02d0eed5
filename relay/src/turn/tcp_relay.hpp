// RFC 6062: TURN extensions for TCP allocations. A TCP allocation's relayed transport address
// is a listening TCP socket; each peer data connection (made for a Connect request, or accepted
// from a peer and announced with a ConnectionAttempt indication) is paired by a ConnectionBind
// with a new client data connection, after which the two carry raw bytes both ways.
//
// Threads: a worker owns its allocations and their peer connections. A client data connection
// lands on whichever worker the kernel hashes it to, so ConnectionBind crosses workers: the
// CONNECTION-ID names the owning worker, which hands the peer socket (by descriptor) to the
// worker of the data connection. That worker then runs the pipe; the owner keeps the id so it
// can close the pipe when the allocation ends. Control-plane events only; the bytes of a pipe
// never cross threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "turn/worker.hpp"

namespace podium::relay {

// CONNECTION-ID (RFC 6062 section 6.2.1): the owning worker's index in the top 8 bits, a
// random 24-bit number below.
inline constexpr unsigned kConnectionIdWorkerShift = 24;
inline constexpr unsigned kMaxTcpRelayWorkers = 1u << (32 - kConnectionIdWorkerShift);
constexpr std::uint32_t make_connection_id(unsigned worker, std::uint32_t random) {
  return (static_cast<std::uint32_t>(worker) << kConnectionIdWorkerShift) |
         (random & ((1u << kConnectionIdWorkerShift) - 1));
}
constexpr unsigned connection_id_worker(std::uint32_t id) {
  return id >> kConnectionIdWorkerShift;
}

// RFC 6062 section 5.2: a Connect waits at least 30 s for the peer; section 5.3: a peer data
// connection without a ConnectionBind is closed after 30 s.
inline constexpr std::chrono::seconds kPeerConnectTimeout{30};
inline constexpr std::chrono::seconds kConnectionBindTimeout{30};
// Peer data connections per allocation (pending and bound), so one client cannot hold an
// unbounded number of descriptors.
inline constexpr std::size_t kMaxPeerConnections = 64;
// Bytes read from a peer per read; read only when the client's write buffer has this much room.
inline constexpr std::size_t kPipeReadChunk = 16 * 1024;

class TcpRelay {
 public:
  explicit TcpRelay(Worker& worker);
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  // Section 5.1: an Allocate with REQUESTED-TRANSPORT TCP (after authentication and the
  // retransmission and drain checks of Worker::handle_allocate).
  void handle_allocate(const Worker::Inbound& in, const Worker::Authenticated& auth);
  // Section 5.2 (authenticated, on the allocation's control connection).
  void handle_connect(const Worker::Inbound& in, Allocation& allocation);
  // Section 5.4 (on a new connection; authenticated here).
  void handle_connection_bind(const Worker::Inbound& in);
  // The allocation ends: its listener, peer connections and data connections close.
  void on_allocation_deleted(Allocation& allocation);
  void shutdown();

 private:
  struct PeerConnection;
  struct DataPipe;
  struct TcpAllocation;
  struct BindRequest;

  SharedState& shared();
  WorkerCounters& counters();
  // Tells the worker owning `id` that its pipe ended.
  void post_forget(std::uint32_t id);
  std::uint32_t new_connection_id();
  TcpAllocation* find(const FiveTuple& tuple);
  void accept(TcpAllocation& state);
  void on_peer_accepted(TcpAllocation& state, boost::asio::ip::tcp::socket socket);
  void on_connected(const std::shared_ptr<PeerConnection>& connection,
                    const boost::system::error_code& ec);
  void arm_bind_timer(const std::shared_ptr<PeerConnection>& connection);
  // Closes a peer connection this worker still holds (connecting or pending) and forgets it.
  void drop(std::uint32_t id);
  // A pipe on another worker (or this one) ended: forget its id.
  void forget(std::uint32_t id);
  void close_pipe(std::uint32_t id);
  // ConnectionBind, on the owning worker: hands the peer socket over (or refuses).
  void take_for_bind(BindRequest request);
  // ConnectionBind, back on the data connection's worker.
  void complete_bind(BindRequest request, int code, int fd, SocketAddress peer);
  void reply(const ClientLink& link, const SocketAddress& client, stun::Method method,
             const stun::TransactionId& transaction, int code, const auth::Key& key,
             bool fingerprint, std::uint32_t connection_id = 0);

  Worker& worker_;
  std::unordered_map<FiveTuple, std::unique_ptr<TcpAllocation>, FiveTupleHash> allocations_;
  // Peer connections owned here: connecting, pending a ConnectionBind, or bound (then the pipe
  // runs on `pipe_worker` and only the id is kept here).
  std::unordered_map<std::uint32_t, std::shared_ptr<PeerConnection>> peers_;
  // Pipes running on this worker, by CONNECTION-ID.
  std::unordered_map<std::uint32_t, std::shared_ptr<DataPipe>> pipes_;
};

}  // namespace podium::relay
