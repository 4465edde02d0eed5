#include "turn/tcp_relay.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "net/listen_socket.hpp"
#include "net/stream_connection.hpp"
#include "podium/common/random.hpp"
#include "podium/monitoring/logging.hpp"
#include "podium/stun/attributes.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/xor_address.hpp"

namespace podium::relay {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// The TCP relayed transport addresses in use in this process. Connect binds its outgoing
// socket to the relayed address (section 5.2), which a listening socket allows only with
// SO_REUSEPORT on both; this registry keeps two allocations from sharing a port that way.
class RelayedPorts {
 public:
  bool claim(const tcp::endpoint& endpoint) {
    std::lock_guard lock(mutex_);
    return in_use_.emplace(endpoint.address(), endpoint.port()).second;
  }
  void release(const tcp::endpoint& endpoint) {
    std::lock_guard lock(mutex_);
    in_use_.erase({endpoint.address(), endpoint.port()});
  }

 private:
  std::mutex mutex_;
  std::set<std::pair<asio::ip::address, std::uint16_t>> in_use_;
};

RelayedPorts& relayed_ports() {
  static RelayedPorts ports;
  return ports;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// State

struct TcpRelay::TcpAllocation {
  explicit TcpAllocation(asio::io_context& io) : acceptor(io), retry(io) {}
  FiveTuple tuple;
  tcp::acceptor acceptor;
  asio::steady_timer retry;  // accept() again after an error, not in a busy loop
  tcp::endpoint local;       // the relayed transport address as bound (before external_ip)
  std::vector<std::uint32_t> connections;
};

struct TcpRelay::PeerConnection {
  enum class State : std::uint8_t { connecting, pending_bind, bound };
  explicit PeerConnection(asio::io_context& io) : socket(io), timer(io) {}
  std::uint32_t id = 0;
  FiveTuple allocation;
  SocketAddress peer;
  tcp::socket socket;
  asio::steady_timer timer;
  State state = State::connecting;
  unsigned pipe_worker = 0;
  // The Connect request to answer when the connection attempt ends.
  stun::TransactionId transaction{};
  bool fingerprint = false;
};

struct TcpRelay::BindRequest {
  std::uint32_t id = 0;
  std::string username;
  auth::Key key{};
  unsigned binder = 0;
  std::weak_ptr<StreamConnection> connection;
  stun::TransactionId transaction{};
  bool fingerprint = false;
};

// Section 5.4: after a ConnectionBind, the client data connection and the peer data connection
// carry each other's bytes. Backpressure both ways: the client's bytes are written to the peer
// from the connection's own read buffer, which it does not refill until the write is done; the
// peer is read only while the client's write buffer has room for a whole chunk.
struct TcpRelay::DataPipe final : StreamConnection::RawSink,
                                  std::enable_shared_from_this<DataPipe> {
  DataPipe(TcpRelay& relay, std::uint32_t id, std::shared_ptr<StreamConnection> client,
           tcp::socket peer)
      : relay(relay),
        id(id),
        client(std::move(client)),
        peer(std::move(peer)),
        flush_deadline(this->peer.get_executor()) {
    buffer.resize(kPipeReadChunk);
  }

  void read_peer() {
    // Not while a read is out, and not until the client's write buffer has room for a whole
    // chunk (on_raw_writable() tries again).
    if (closed || reading_peer || client->write_room() < buffer.size()) return;
    reading_peer = true;
    peer.async_read_some(
        asio::buffer(buffer),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          self->reading_peer = false;
          if (self->closed) return;
          if (ec) return self->close();
          self->client->send({}, std::span(self->buffer.data(), n), 0);
          self->relay.counters().bytes_peer_to_client += n;
          self->read_peer();
        });
  }

  void on_raw_bytes(std::span<const std::uint8_t> bytes) override {
    if (closed) return;
    writing_peer = true;
    asio::async_write(
        peer, asio::buffer(bytes.data(), bytes.size()),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          self->writing_peer = false;
          self->relay.counters().bytes_client_to_peer += n;
          if (self->closed) return;
          if (ec || self->client_closed) return self->close();
          self->client->resume_raw();
        });
  }

  void on_raw_writable() override { read_peer(); }

  void on_raw_closed() override {
    client_closed = true;
    // The last bytes from the client still go out before the peer connection closes, within
    // the same bound as the other direction's (StreamConnection::close_when_flushed): a peer
    // that stops reading does not keep the pipe.
    if (!writing_peer) return close();
    flush_deadline.expires_after(StreamConnection::kFlushTimeout);
    flush_deadline.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->close();
    });
  }

  // Section 5.5: either side ending ends both.
  void close() {
    if (closed) return;
    closed = true;
    boost::system::error_code ec;
    peer.shutdown(tcp::socket::shutdown_both, ec);
    peer.close(ec);
    flush_deadline.cancel();
    if (!client_closed) client->close_when_flushed(StreamClose::peer_connection_closed);
    relay.shared().tcp_metrics.peer_connections().Decrement();
    auto keep = shared_from_this();
    relay.pipes_.erase(id);
    relay.post_forget(id);
  }

  TcpRelay& relay;
  std::uint32_t id;
  std::shared_ptr<StreamConnection> client;
  tcp::socket peer;
  asio::steady_timer flush_deadline;  // armed when the client has closed during a write
  std::vector<std::uint8_t> buffer;
  bool reading_peer = false;
  bool writing_peer = false;
  bool client_closed = false;
  bool closed = false;
};

TcpRelay::TcpRelay(Worker& worker) : worker_(worker) {}

SharedState& TcpRelay::shared() {
  return worker_.shared_;
}
WorkerCounters& TcpRelay::counters() {
  return worker_.counters_;
}

void TcpRelay::post_forget(std::uint32_t id) {
  auto* owner = worker_.shared_.workers[connection_id_worker(id)];
  asio::post(owner->io(), [owner, id] { owner->tcp_relay_->forget(id); });
}

TcpRelay::~TcpRelay() {
  shutdown();
}

void TcpRelay::shutdown() {
  for (auto& [id, pipe] : std::exchange(pipes_, {})) {
    boost::system::error_code ec;
    pipe->closed = true;
    pipe->peer.close(ec);
    pipe->flush_deadline.cancel();
  }
  for (auto& [id, connection] : std::exchange(peers_, {})) {
    boost::system::error_code ec;
    connection->timer.cancel();
    connection->socket.close(ec);
  }
  for (auto& [tuple, state] : std::exchange(allocations_, {})) {
    boost::system::error_code ec;
    state->acceptor.close(ec);
    relayed_ports().release(state->local);
  }
}

std::uint32_t TcpRelay::new_connection_id() {
  for (;;) {
    std::uint32_t random = 0;
    random_bytes(std::span(reinterpret_cast<std::uint8_t*>(&random), sizeof(random)));
    const auto id = make_connection_id(worker_.index_, random);
    if (!peers_.contains(id)) return id;
  }
}

TcpRelay::TcpAllocation* TcpRelay::find(const FiveTuple& tuple) {
  auto it = allocations_.find(tuple);
  return it == allocations_.end() ? nullptr : it->second.get();
}

void TcpRelay::reply(const ClientLink& link, const SocketAddress& client, stun::Method method,
                     const stun::TransactionId& transaction, int code, const auth::Key& key,
                     bool fingerprint, std::uint32_t connection_id) {
  stun::MessageBuilder builder(worker_.scratch_);
  if (code == 200) {
    builder.start(method, stun::Class::kSuccessResponse, transaction);
    if (connection_id) builder.add_connection_id(connection_id);
  } else {
    builder.start(method, stun::Class::kErrorResponse, transaction);
    builder.add_error_code(static_cast<std::uint16_t>(code));
  }
  builder.add_message_integrity(key);
  if (fingerprint) builder.add_fingerprint();
  auto bytes = builder.finish();
  if (!bytes) return;
  worker_.count_response(method, code);
  worker_.send_to_client(link, client, *bytes, {}, 0);
  worker_.flush();
}

// ---------------------------------------------------------------------------------------------
// Section 5.1: Allocate

void TcpRelay::handle_allocate(const Worker::Inbound& in, const Worker::Authenticated& auth) {
  auto& w = worker_;
  const auto& message = in.message;
  // The control connection must be TCP or TLS, and DONT-FRAGMENT, EVEN-PORT and
  // RESERVATION-TOKEN make no sense for TCP: 400 for each.
  if (!in.link.stream || message.has(stun::AttributeType::kDontFragment) ||
      message.has(stun::AttributeType::kEvenPort) ||
      message.has(stun::AttributeType::kReservationToken)) {
    return w.reply_error(in, 400, &auth.key);
  }
  if (w.index_ >= kMaxTcpRelayWorkers) return w.reply_error(in, 508, &auth.key);

  // RFC 8656 section 7.2 step 7: the address family, as for UDP allocations.
  auto& pool = w.shared_.relay_addresses;
  bool want_v6 = pool.default_v6();
  if (auto family_attr = message.find(stun::AttributeType::kRequestedAddressFamily)) {
    auto family = stun::decode_address_family(*family_attr);
    if (!family) return w.reply_error(in, 400, &auth.key);
    want_v6 = *family == stun::AddressFamily::kIPv6;
    if (!pool.offers(want_v6)) return w.reply_error(in, 440, &auth.key);
  }

  auto quota = w.shared_.quota.acquire(auth.quota_user);
  if (quota != policy::QuotaResult::ok) {
    int code = policy::stun_error_code(quota);
    (code == 486 ? w.shared_.metrics.quota_refusal_user() : w.shared_.metrics.quota_refusal_total())
        .Increment();
    return w.reply_error(in, code, &auth.key);
  }

  // The relayed transport address: a listening TCP socket on a relay address and port.
  auto state = std::make_unique<TcpAllocation>(w.io_);
  boost::system::error_code ec;
  bool bound = false;
  const std::size_t attempts = std::min<std::size_t>(pool.size(want_v6), 256);
  for (std::size_t i = 0; i < attempts && !bound; ++i) {
    const auto candidate = pool.next(want_v6);
    const tcp::endpoint endpoint(candidate.address(), candidate.port());
    if (!relayed_ports().claim(endpoint)) continue;
    if (state->acceptor.is_open()) state->acceptor.close(ec);
    state->acceptor.open(endpoint.protocol(), ec);
    if (!ec) state->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) set_reuseport(state->acceptor.native_handle());
    if (!ec) state->acceptor.bind(endpoint, ec);
    if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      relayed_ports().release(endpoint);
      continue;
    }
    state->local = endpoint;
    bound = true;
  }
  if (!bound) {
    state->acceptor.close(ec);
    w.shared_.quota.release(auth.quota_user);
    w.shared_.metrics.quota_refusal_total().Increment();
    return w.reply_error(in, 508, &auth.key);
  }

  const auto lifetime = granted_lifetime(w.policy_->config, message);
  auto allocation = std::make_unique<Allocation>(w.io_);
  allocation->id = random_token(6);
  allocation->tcp = true;
  allocation->five_tuple = in.tuple;
  allocation->link = in.link;
  allocation->username.assign(auth.username);
  allocation->quota_user.assign(auth.quota_user);
  allocation->key = auth.key;
  allocation->allocate_transaction = message.transaction_id();
  const auto advertised = w.shared_.external_ip ? *w.shared_.external_ip : state->local.address();
  allocation->relayed_address = SocketAddress::from(advertised, state->local.port());
  allocation->expires = w.now_ + lifetime;
  allocation->created = std::chrono::system_clock::now();
  allocation->bandwidth =
      policy::TokenBucket::for_bandwidth(w.policy_->config.allocation_bandwidth);
  allocation->permissions.reserve(4);

  stun::MessageBuilder builder(w.scratch_);
  builder.start(stun::Method::kAllocate, stun::Class::kSuccessResponse, message.transaction_id());
  builder.add_xor_address(stun::AttributeType::kXorRelayedAddress,
                          stun::Address{advertised, state->local.port()});
  builder.add_u32(stun::AttributeType::kLifetime, static_cast<std::uint32_t>(lifetime.count()));
  builder.add_xor_address(stun::AttributeType::kXorMappedAddress,
                          stun::Address{in.tuple.client.ip(), in.tuple.client.port()});
  if (!w.policy_->config.software.empty()) {
    builder.add_string(stun::AttributeType::kSoftware, w.policy_->config.software);
  }
  builder.add_message_integrity(auth.key);
  if (message.has(stun::AttributeType::kFingerprint)) builder.add_fingerprint();
  auto bytes = builder.finish();

  auto& stored = *allocation;
  w.allocations_.emplace(in.tuple, std::move(allocation));
  state->tuple = in.tuple;
  auto& listening = *state;
  allocations_.emplace(in.tuple, std::move(state));
  accept(listening);
  w.shared_.metrics.allocations_active(in.tuple.transport).Increment();
  w.shared_.metrics.allocations_created(in.tuple.transport).Increment();
  w.count_response(stun::Method::kAllocate, 200);
  log::with(*log::get("relay"), spdlog::level::info, "allocation", stored.id,
            "user {} from {} over {}: relayed tcp {} for {}s", stored.username,
            in.tuple.client.to_string(), to_string(in.tuple.transport),
            stored.relayed_address.to_string(), lifetime.count());
  if (bytes) w.send_to_client(in.link, in.tuple.client, *bytes, {}, 0);
}

void TcpRelay::on_allocation_deleted(Allocation& allocation) {
  auto it = allocations_.find(allocation.five_tuple);
  if (it == allocations_.end()) return;
  auto state = std::move(it->second);
  allocations_.erase(it);
  boost::system::error_code ec;
  state->acceptor.close(ec);
  relayed_ports().release(state->local);
  for (auto id : state->connections) {
    auto peer = peers_.find(id);
    if (peer == peers_.end()) continue;
    auto connection = peer->second;
    peers_.erase(peer);
    if (connection->state == PeerConnection::State::bound) {
      // The pipe runs on the data connection's worker.
      auto* pipe_worker = worker_.shared_.workers[connection->pipe_worker];
      asio::post(pipe_worker->io(), [pipe_worker, id] { pipe_worker->tcp_relay_->close_pipe(id); });
      continue;
    }
    if (connection->state == PeerConnection::State::pending_bind) {
      worker_.shared_.tcp_metrics.peer_connections().Decrement();
    }
    connection->timer.cancel();
    connection->socket.close(ec);
  }
}

// ---------------------------------------------------------------------------------------------
// Section 5.3: a peer connects to the relayed transport address

void TcpRelay::accept(TcpAllocation& state) {
  state.acceptor.async_accept(
      [this, tuple = state.tuple](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        auto* current = find(tuple);
        if (!current) return;  // the allocation ended
        if (ec) {
          // Out of descriptors (EMFILE/ENFILE): the waiting peer keeps the acceptor readable,
          // so an immediate retry would spin. Counted as a refused attempt; retried in 100 ms.
          worker_.shared_.tcp_metrics.attempt(TcpConnectResult::refused).Increment();
          current->retry.expires_after(std::chrono::milliseconds(100));
          current->retry.async_wait([this, tuple](const boost::system::error_code& wait) {
            if (wait) return;
            if (auto* state = find(tuple)) accept(*state);
          });
          return;
        }
        on_peer_accepted(*current, std::move(socket));
        accept(*current);
      });
}

void TcpRelay::on_peer_accepted(TcpAllocation& state, tcp::socket socket) {
  auto& metrics = worker_.shared_.tcp_metrics;
  auto* allocation = worker_.find_allocation(state.tuple);
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (!allocation || ec) return;
  const auto peer = SocketAddress::from(remote.address(), remote.port());
  // Without a permission for the peer's IP address the connection is refused; so it is when
  // the allocation already has its share of connections.
  if (!allocation->find_permission(peer) || state.connections.size() >= kMaxPeerConnections) {
    metrics.attempt(TcpConnectResult::refused).Increment();
    log::with(*log::get("relay"), spdlog::level::debug, "allocation", allocation->id,
              "TCP connection from {} refused (no permission or too many)", peer.to_string());
    socket.close(ec);
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  auto connection = std::make_shared<PeerConnection>(worker_.io_);
  connection->id = new_connection_id();
  connection->allocation = state.tuple;
  connection->peer = peer;
  connection->socket = std::move(socket);
  connection->state = PeerConnection::State::pending_bind;
  peers_.emplace(connection->id, connection);
  state.connections.push_back(connection->id);
  metrics.peer_connections().Increment();
  metrics.attempt(TcpConnectResult::offered).Increment();
  arm_bind_timer(connection);

  // The ConnectionAttempt indication: XOR-PEER-ADDRESS and CONNECTION-ID.
  stun::TransactionId transaction{};
  worker_.next_transaction_id(transaction);
  stun::MessageBuilder builder(worker_.scratch_);
  builder.start(stun::Method::kConnectionAttempt, stun::Class::kIndication, transaction);
  builder.add_xor_address(stun::AttributeType::kXorPeerAddress,
                          stun::Address{peer.ip(), peer.port()});
  builder.add_connection_id(connection->id);
  if (auto bytes = builder.finish()) {
    worker_.send_to_client(allocation->link, allocation->five_tuple.client, *bytes, {}, 0);
    worker_.flush();
  }
}

void TcpRelay::arm_bind_timer(const std::shared_ptr<PeerConnection>& connection) {
  connection->timer.expires_after(kConnectionBindTimeout);
  connection->timer.async_wait(
      [this, weak = std::weak_ptr(connection)](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || self->state != PeerConnection::State::pending_bind) return;
        worker_.shared_.tcp_metrics.bind(TcpBindResult::timeout).Increment();
        worker_.shared_.tcp_metrics.peer_connections().Decrement();
        drop(self->id);
      });
}

void TcpRelay::drop(std::uint32_t id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  auto connection = it->second;
  peers_.erase(it);
  if (auto* state = find(connection->allocation)) std::erase(state->connections, id);
  boost::system::error_code ec;
  connection->timer.cancel();
  connection->socket.close(ec);
}

void TcpRelay::forget(std::uint32_t id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  if (auto* state = find(it->second->allocation)) std::erase(state->connections, id);
  peers_.erase(it);
}

void TcpRelay::close_pipe(std::uint32_t id) {
  auto it = pipes_.find(id);
  if (it != pipes_.end()) it->second->close();
}

// ---------------------------------------------------------------------------------------------
// Section 5.2: Connect

void TcpRelay::handle_connect(const Worker::Inbound& in, Allocation& allocation) {
  auto& w = worker_;
  auto& metrics = w.shared_.tcp_metrics;
  const auto& message = in.message;
  auto* state = find(allocation.five_tuple);
  // Connect belongs to TCP allocations only.
  if (!allocation.tcp || !state) return w.reply_error(in, 400, &allocation.key);
  auto peer_attr = message.find(stun::AttributeType::kXorPeerAddress);
  if (!peer_attr) return w.reply_error(in, 400, &allocation.key);
  auto decoded = stun::decode_xor_address(*peer_attr, message.transaction_id());
  if (!decoded) return w.reply_error(in, 400, &allocation.key);
  auto address = decoded->normalized();
  if (address.ip.is_v6() != allocation.relayed_address.is_v6()) {
    return w.reply_error(in, 443, &allocation.key);
  }
  const auto peer = SocketAddress::from(address.ip, address.port);
  // The peer policy as for UDP peers, and a permission for the peer's IP address (403).
  if (!w.check_peer(in, address) || !allocation.find_permission(peer)) {
    metrics.connect(TcpConnectResult::refused).Increment();
    return w.reply_error(in, 403, &allocation.key);
  }
  // 446: a connection (pending or not) to this peer transport address exists.
  for (auto id : state->connections) {
    auto it = peers_.find(id);
    if (it != peers_.end() && it->second->peer == peer) {
      return w.reply_error(in, 446, &allocation.key);
    }
  }
  if (state->connections.size() >= kMaxPeerConnections) {
    metrics.connect(TcpConnectResult::refused).Increment();
    return w.reply_error(in, 508, &allocation.key);
  }

  auto connection = std::make_shared<PeerConnection>(w.io_);
  connection->id = new_connection_id();
  connection->allocation = allocation.five_tuple;
  connection->peer = peer;
  connection->transaction = message.transaction_id();
  connection->fingerprint = message.has(stun::AttributeType::kFingerprint);
  const tcp::endpoint remote(address.ip, address.port);
  boost::system::error_code ec;
  // The outgoing connection's local endpoint is the relayed transport address.
  connection->socket.open(remote.protocol(), ec);
  if (!ec) connection->socket.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) set_reuseport(connection->socket.native_handle());
  if (!ec) connection->socket.bind(state->local, ec);
  if (ec) {
    metrics.connect(TcpConnectResult::failed).Increment();
    log::with(*log::get("relay"), spdlog::level::debug, "allocation", allocation.id,
              "Connect to {}: cannot bind {}: {}", peer.to_string(),
              state->local.address().to_string(), ec.message());
    return w.reply_error(in, 447, &allocation.key);
  }
  peers_.emplace(connection->id, connection);
  state->connections.push_back(connection->id);
  connection->timer.expires_after(kPeerConnectTimeout);
  connection->timer.async_wait(
      [weak = std::weak_ptr(connection)](const boost::system::error_code& timer_ec) {
        auto self = weak.lock();
        if (timer_ec || !self || self->state != PeerConnection::State::connecting) return;
        boost::system::error_code ignored;
        self->socket.close(ignored);  // the connect handler sees operation_aborted: 447
      });
  connection->socket.async_connect(remote,
                                   [this, connection](const boost::system::error_code& connect_ec) {
                                     on_connected(connection, connect_ec);
                                   });
}

void TcpRelay::on_connected(const std::shared_ptr<PeerConnection>& connection,
                            const boost::system::error_code& ec) {
  auto& metrics = worker_.shared_.tcp_metrics;
  auto it = peers_.find(connection->id);
  // Dropped meanwhile (the allocation ended): nothing to answer.
  if (it == peers_.end() || it->second != connection) return;
  connection->timer.cancel();
  auto* allocation = worker_.find_allocation(connection->allocation);
  if (!allocation) return drop(connection->id);
  if (ec) {
    metrics.connect(TcpConnectResult::failed).Increment();
    log::with(*log::get("relay"), spdlog::level::debug, "allocation", allocation->id,
              "Connect to {} failed: {}", connection->peer.to_string(), ec.message());
    reply(allocation->link, allocation->five_tuple.client, stun::Method::kConnect,
          connection->transaction, 447, allocation->key, connection->fingerprint);
    return drop(connection->id);
  }
  boost::system::error_code ignored;
  connection->socket.set_option(tcp::no_delay(true), ignored);
  connection->state = PeerConnection::State::pending_bind;
  metrics.connect(TcpConnectResult::connected).Increment();
  metrics.peer_connections().Increment();
  arm_bind_timer(connection);
  reply(allocation->link, allocation->five_tuple.client, stun::Method::kConnect,
        connection->transaction, 200, allocation->key, connection->fingerprint, connection->id);
}

// ---------------------------------------------------------------------------------------------
// Section 5.4: ConnectionBind

void TcpRelay::handle_connection_bind(const Worker::Inbound& in) {
  auto& w = worker_;
  auto auth = w.authenticate(in);
  if (!auth) return;
  const auto& message = in.message;
  // Only on a TCP or TLS connection that is not a control connection and not already bound.
  if (!in.link.stream || w.has_allocation(in.tuple) || in.link.stream->held_or_raw()) {
    return w.reply_error(in, 400, &auth->key);
  }
  std::optional<std::uint32_t> id;
  if (auto id_attr = message.find(stun::AttributeType::kConnectionId)) {
    if (auto decoded = stun::decode_connection_id(*id_attr)) id = *decoded;
  }
  const unsigned owner = id ? connection_id_worker(*id) : 0;
  if (!id || owner >= w.shared_.workers.size()) {
    w.shared_.tcp_metrics.bind(TcpBindResult::unknown_id).Increment();
    return w.reply_error(in, 400, &auth->key);
  }
  BindRequest request;
  request.id = *id;
  request.username.assign(auth->username);
  request.key = auth->key;
  request.binder = w.index_;
  request.connection = in.link.stream->shared_from_this();
  request.transaction = message.transaction_id();
  request.fingerprint = message.has(stun::AttributeType::kFingerprint);
  // Nothing more is read from the connection until the owning worker has answered.
  in.link.stream->hold();
  auto* owner_worker = w.shared_.workers[owner];
  asio::post(owner_worker->io(), [owner_worker, request = std::move(request)]() mutable {
    owner_worker->tcp_relay_->take_for_bind(std::move(request));
  });
}

void TcpRelay::take_for_bind(BindRequest request) {
  int code = 400;
  int fd = -1;
  SocketAddress peer;
  auto it = peers_.find(request.id);
  if (it == peers_.end() || it->second->state != PeerConnection::State::pending_bind) {
    worker_.shared_.tcp_metrics.bind(TcpBindResult::unknown_id).Increment();
  } else if (auto* allocation = worker_.find_allocation(it->second->allocation);
             !allocation || allocation->username != request.username) {
    // Section 5.4: the same credentials as the allocation (441, as RFC 8656 section 5).
    worker_.shared_.tcp_metrics.bind(TcpBindResult::wrong_credentials).Increment();
    ++worker_.counters_.auth_failures[static_cast<std::size_t>(AuthFailure::wrong_credentials)];
    code = allocation ? 441 : 400;
  } else {
    auto& connection = *it->second;
    boost::system::error_code ec;
    connection.timer.cancel();
    fd = connection.socket.release(ec);
    if (ec) {
      fd = -1;
      code = 447;
      worker_.shared_.tcp_metrics.peer_connections().Decrement();
      drop(request.id);
    } else {
      code = 200;
      connection.state = PeerConnection::State::bound;
      connection.pipe_worker = request.binder;
      peer = connection.peer;
    }
  }
  auto* binder = worker_.shared_.workers[request.binder];
  asio::post(binder->io(), [binder, request = std::move(request), code, fd, peer]() mutable {
    binder->tcp_relay_->complete_bind(std::move(request), code, fd, peer);
  });
}

void TcpRelay::complete_bind(BindRequest request, int code, int fd, SocketAddress peer) {
  auto& w = worker_;
  auto connection = request.connection.lock();
  auto abandon = [&] {
    if (fd < 0) return;
    ::close(fd);
    w.shared_.tcp_metrics.peer_connections().Decrement();
    post_forget(request.id);
  };
  if (!connection || connection->closed()) return abandon();
  const ClientLink link{-1, connection.get()};
  if (code == 200) {
    tcp::socket socket(w.io_);
    boost::system::error_code ec;
    socket.assign(peer.is_v6() ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) {
      abandon();
      code = 447;
    } else {
      fd = -1;
      auto pipe = std::make_shared<DataPipe>(*this, request.id, connection, std::move(socket));
      pipes_.emplace(request.id, pipe);
      w.shared_.tcp_metrics.bind(TcpBindResult::bound).Increment();
      // The success response goes out first; from then on the connection carries raw bytes.
      reply(link, connection->tuple().client, stun::Method::kConnectionBind, request.transaction,
            200, request.key, request.fingerprint);
      connection->start_raw(pipe);
      pipe->read_peer();
      return;
    }
  }
  reply(link, connection->tuple().client, stun::Method::kConnectionBind, request.transaction, code,
        request.key, request.fingerprint);
  connection->release_hold();
}

}  // namespace podium::relay
