// One data-path thread of the relay: its own io_context, its own SO_REUSEPORT listener sockets,
// and the allocations whose clients the kernel hashes to those sockets. Nothing here is shared
// with other workers except SharedState, so the packet path takes no locks.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "podium/common/udp_batch.hpp"
#include "podium/relay/relay_server.hpp"
#include "podium/stun/message.hpp"
#include "policy/source_rate_limiter.hpp"
#include "turn/allocation.hpp"
#include "turn/shared_state.hpp"

namespace podium::relay {

// Room for a STUN response or a TURN header in front of relayed data.
using SendBatch = net::BasicSendBatch<576>;
using net::kRecvBatch;
using net::RecvBatch;

class StreamConnection;
class TcpRelay;
class DtlsListener;
class DtlsServer;
class DtlsSession;

// RFC 8656 sections 7.2 and 7.3: the lifetime granted for a request's LIFETIME (default and
// maximum from relay.default_lifetime / relay.max_lifetime).
std::chrono::seconds granted_lifetime(const config::RelayConfig& config,
                                      const stun::MessageView& message);

class Worker {
  friend class TcpRelay;  // RFC 6062 TCP allocations (turn/tcp_relay.cpp)

 public:
  Worker(unsigned index, SharedState& shared);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds a listener on `endpoint` with SO_REUSEPORT; returns the bound endpoint (resolves
  // port 0). Throws std::system_error on failure (start-up path).
  // `rfc5780_role`: -1, or which of the four RFC 5780 sockets this is (bit 0: alternate IP,
  // bit 1: alternate port; 0 is the primary listener).
  config::Endpoint listen_udp(const config::Endpoint& endpoint, int rfc5780_role = -1);
  config::Endpoint listen_stream(const config::Endpoint& endpoint, ClientTransport transport,
                                 boost::asio::ssl::context* tls);
  // dtls:// (TURN over DTLS): a UDP socket with SO_REUSEPORT whose sessions `dtls` secures.
  config::Endpoint listen_dtls(const config::Endpoint& endpoint, DtlsServer& dtls);

  void start();  // spawns the thread
  void stop();   // thread-safe; closes everything and lets the thread finish
  void join();

  boost::asio::io_context& io() { return io_; }
  std::size_t allocation_count() const { return allocations_.size(); }

  // Called by StreamConnection (same thread).
  void on_stream_frame(StreamConnection& connection, std::span<const std::uint8_t> frame);
  void on_stream_closed(StreamConnection& connection, StreamClose reason);
  // Called by DtlsListener (same thread): one decrypted record; a session that ended.
  void on_dtls_record(DtlsSession& session, std::span<const std::uint8_t> record);
  void on_dtls_closed(DtlsSession& session, StreamClose reason);
  // A receive error on a dtls:// listener's socket.
  void on_dtls_listener_error() {
    shared_.metrics.listener_error(ClientTransport::dtls).Increment();
  }
  WorkerCounters& counters() { return counters_; }
  bool has_allocation(const FiveTuple& tuple) const { return allocations_.contains(tuple); }
  // relay.proxy_protocol: records the 5-tuple a connection's PROXY header gave it; false when a
  // live connection of this worker already has it (the two would share one allocation).
  bool claim_tuple(StreamConnection& connection);

  // Admin API; call on this worker's thread (post to io()).
  void describe_allocations(std::vector<AllocationInfo>& out) const;
  std::size_t terminate_allocations(const std::string& user);

 private:
  struct UdpListener {
    explicit UdpListener(boost::asio::io_context& io) : socket(io) {}
    boost::asio::ip::udp::socket socket;
    SocketAddress local;
  };
  struct StreamListener {
    StreamListener(boost::asio::io_context& io) : acceptor(io), retry(io) {}
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::steady_timer retry;  // accept() after an error (EMFILE): not in a busy loop
    ClientTransport transport;
    boost::asio::ssl::context* tls = nullptr;
    SocketAddress local;
  };

  // One message from a client, with what is needed to answer it.
  struct Inbound {
    const FiveTuple& tuple;
    ClientLink link;
    const stun::MessageView& message;
  };
  struct Authenticated {
    auth::Key key;
    std::string_view username;
    std::string_view quota_user;
  };

  // Receive loops.
  void arm_udp(UdpListener& listener);
  void on_udp_readable(UdpListener& listener);
  // `additional`: the IPv6 socket of a dual-stack allocation (ADDITIONAL-ADDRESS-FAMILY).
  void arm_relay(Allocation& allocation, bool additional = false);
  void on_relay_readable(Allocation& allocation, bool additional);
  void accept(StreamListener& listener);
  void on_tick();

  // Client messages (UDP datagrams or TCP/TLS frames).
  void handle_client_message(const FiveTuple& tuple, ClientLink link,
                             std::span<const std::uint8_t> bytes);
  void handle_stun(const Inbound& in);
  void handle_binding(const Inbound& in);
  void handle_allocate(const Inbound& in);
  // Binds `socket` to a free (address, port) of that family from relay.relay_ip x
  // relay.relay_ports; with `reserve_next` also reserves port + 1 (EVEN-PORT's R bit).
  bool bind_relayed_socket(boost::asio::ip::udp::socket& socket, bool v6, bool even_port,
                           bool reserve_next, std::optional<std::uint64_t>& new_reservation);
  void handle_refresh(const Inbound& in, Allocation& allocation);
  // Closes one relayed socket of a dual-stack allocation and drops its family's permissions and
  // channels (Refresh with LIFETIME 0 and REQUESTED-ADDRESS-FAMILY, RFC 8656 section 7.3).
  void close_relayed_family(Allocation& allocation, bool v6);

  // RFC 8016 mobility (turn/mobility.cpp). A Refresh with MOBILITY-TICKET from a 5-tuple without
  // an allocation: asks the ticket's worker to hand the allocation over.
  void handle_mobility_refresh(const Inbound& in, const Authenticated& auth);
  // On the allocation's worker: detaches it (its relayed sockets' descriptors released) and
  // posts it to `to`, or tells `to` why not.
  void release_for_move(std::string ticket, FiveTuple from, std::string username, Worker& to);
  // On the receiving worker: installs a released allocation under the waiting request's 5-tuple
  // and answers that request (and its retransmissions).
  void adopt_moved(std::string ticket, std::unique_ptr<Allocation> allocation, int fd,
                   int additional_fd);
  void move_failed(const std::string& ticket, MobilityResult result);
  void answer_mobility_refresh(const PendingMove& move, const Allocation* allocation, int error);
  void handle_create_permission(const Inbound& in, Allocation& allocation);
  void handle_channel_bind(const Inbound& in, Allocation& allocation);
  void handle_send_indication(const Inbound& in, Allocation& allocation);
  void handle_channel_data(Allocation& allocation, std::span<const std::uint8_t> bytes);

  // Peer data arriving on a relayed socket.
  void relay_to_client(Allocation& allocation, const SocketAddress& peer,
                       std::span<const std::uint8_t> payload);
  // Client data leaving through the relayed socket.
  void send_to_peer(Allocation& allocation, const SocketAddress& peer,
                    std::span<const std::uint8_t> payload);

  std::optional<Authenticated> authenticate(const Inbound& in);
  bool check_peer(const Inbound& in, const stun::Address& peer);
  void reply_error(const Inbound& in, int code, const auth::Key* key = nullptr,
                   std::span<const stun::AttributeType> unknown = {});
  void reply_challenge(const Inbound& in, int code);
  // Queues `bytes` to the client over its link.
  void send_to_client(const ClientLink& link, const SocketAddress& client,
                      std::span<const std::uint8_t> head, std::span<const std::uint8_t> payload,
                      std::size_t padding);
  void flush();
  void count_response(stun::Method method, int code) {
    ++counters_.responses[response_method_index(static_cast<std::uint16_t>(method))]
                         [response_code_index(code)];
  }
  // Transaction ids for Data indications: unique per worker, not secret (nothing answers them).
  void next_transaction_id(stun::TransactionId& out);

  Allocation* find_allocation(const FiveTuple& tuple);
  void delete_allocation(Allocation& allocation, const char* why);
  void expire(SteadyTime now);

  // Takes the SharedState's current RelayPolicy if a reload published a new one.
  void refresh_policy();

  unsigned index_;
  SharedState& shared_;
  std::shared_ptr<const RelayPolicy> policy_;  // this worker's reference (see refresh_policy)
  std::uint64_t policy_generation_ = 0;
  boost::asio::io_context io_;
  std::thread thread_;
  boost::asio::steady_timer tick_;
  std::vector<std::unique_ptr<UdpListener>> udp_listeners_;
  // relay.rfc5780: this worker's sockets of the four roles (all set, or none).
  std::array<UdpListener*, 4> rfc5780_{};
  std::vector<std::unique_ptr<StreamListener>> stream_listeners_;
  std::vector<std::unique_ptr<DtlsListener>> dtls_listeners_;
  std::unordered_map<StreamConnection*, std::shared_ptr<StreamConnection>> connections_;
  // relay.proxy_protocol: the 5-tuples connections took from their PROXY headers.
  std::unordered_map<FiveTuple, StreamConnection*, FiveTupleHash> claimed_tuples_;
  // RFC 8016: Refreshes waiting for another worker to hand over their allocation, by ticket.
  std::unordered_map<std::string, std::unique_ptr<PendingMove>> pending_moves_;
  std::unordered_map<FiveTuple, std::unique_ptr<Allocation>, FiveTupleHash> allocations_;
  policy::SourceRateLimiter unauthenticated_limiter_;
  WorkerCounters counters_;
  SteadyTime now_{};
  std::unique_ptr<RecvBatch> recv_;
  std::unique_ptr<SendBatch> send_;
  std::array<std::uint8_t, 2048> scratch_{};  // responses are built here
  std::uint64_t transaction_counter_ = 0;
  std::uint32_t transaction_salt_ = 0;
  bool stopping_ = false;
  // Last, so its sockets close before the io_context goes.
  std::unique_ptr<TcpRelay> tcp_relay_;
};

}  // namespace podium::relay
