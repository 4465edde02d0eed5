#include "turn/worker.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include "net/dtls_listener.hpp"
#include "net/listen_socket.hpp"
#include "net/stream_connection.hpp"
#include "podium/common/random.hpp"
#include "podium/monitoring/logging.hpp"
#include "podium/stun/channel_data.hpp"
#include "turn/tcp_relay.hpp"

namespace podium::relay {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;

namespace {

// Bounded work per readiness event, so one busy socket cannot starve the others.
constexpr int kMaxBatchesPerWakeup = 8;

}  // namespace

Worker::Worker(unsigned index, SharedState& shared)
    : index_(index),
      shared_(shared),
      io_(1),
      tick_(io_),
      unauthenticated_limiter_(shared.config.unauthenticated_rate),
      recv_(std::make_unique<RecvBatch>()),
      send_(std::make_unique<SendBatch>()) {
  random_bytes(std::span(reinterpret_cast<std::uint8_t*>(&transaction_salt_), 4));
  refresh_policy();
  tcp_relay_ = std::make_unique<TcpRelay>(*this);
}

void Worker::refresh_policy() {
  const auto generation = shared_.policy_generation.load(std::memory_order_acquire);
  if (generation == policy_generation_) return;
  policy_ = shared_.policy();
  policy_generation_ = generation;
  unauthenticated_limiter_.set_rate(policy_->config.unauthenticated_rate);
}

Worker::~Worker() {
  stop();
  join();
}

config::Endpoint Worker::listen_udp(const config::Endpoint& endpoint, int rfc5780_role) {
  auto listener = std::make_unique<UdpListener>(io_);
  // Room for bursts while the worker is busy with a batch.
  auto bound = bind_udp_listener(listener->socket, endpoint, 4 * 1024 * 1024);
  listener->local = SocketAddress::from(bound.address(), bound.port());
  if (rfc5780_role >= 0) rfc5780_[static_cast<std::size_t>(rfc5780_role)] = listener.get();
  udp_listeners_.push_back(std::move(listener));
  return {bound.address(), bound.port()};
}

config::Endpoint Worker::listen_stream(const config::Endpoint& endpoint, ClientTransport transport,
                                       asio::ssl::context* tls) {
  auto listener = std::make_unique<StreamListener>(io_);
  tcp::endpoint ep(endpoint.address, endpoint.port);
  listener->acceptor.open(ep.protocol());
  listener->acceptor.set_option(asio::socket_base::reuse_address(true));
  set_reuseport(listener->acceptor.native_handle());
  if (ep.address().is_v6()) listener->acceptor.set_option(asio::ip::v6_only(true));
  listener->acceptor.bind(ep);
  listener->acceptor.listen(asio::socket_base::max_listen_connections);
  listener->transport = transport;
  listener->tls = tls;
  auto bound = listener->acceptor.local_endpoint();
  listener->local = SocketAddress::from(bound.address(), bound.port());
  stream_listeners_.push_back(std::move(listener));
  return {bound.address(), bound.port()};
}

config::Endpoint Worker::listen_dtls(const config::Endpoint& endpoint, DtlsServer& dtls) {
  auto listener = std::make_unique<DtlsListener>(*this, io_, dtls);
  auto bound = listener->bind(endpoint);
  dtls_listeners_.push_back(std::move(listener));
  return bound;
}

void Worker::start() {
  for (auto& listener : udp_listeners_) arm_udp(*listener);
  for (auto& listener : dtls_listeners_) listener->start();
  for (auto& listener : stream_listeners_) accept(*listener);
  tick_.expires_after(std::chrono::seconds(1));
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_tick();
  });
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), ("relay-" + std::to_string(index_)).c_str());
    io_.run();
  });
}

void Worker::stop() {
  asio::post(io_, [this] {
    if (stopping_) return;
    stopping_ = true;
    tick_.cancel();
    boost::system::error_code ec;
    for (auto& listener : udp_listeners_) listener->socket.close(ec);
    for (auto& listener : stream_listeners_) {
      listener->acceptor.close(ec);
      listener->retry.cancel();
    }
    // Closing connections calls back on_stream_closed, which deletes their allocations.
    auto connections = connections_;
    for (auto& [raw, connection] : connections) connection->close(StreamClose::shutdown);
    for (auto& listener : dtls_listeners_) listener->close();  // ends sessions and allocations
    while (!allocations_.empty()) delete_allocation(*allocations_.begin()->second, "shutdown");
    tcp_relay_->shutdown();
    shared_.metrics.flush(counters_);
    io_.stop();
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

// ---------------------------------------------------------------------------------------------
// Receive loops

void Worker::arm_udp(UdpListener& listener) {
  listener.socket.async_wait(udp::socket::wait_read, [this, &listener](const auto& ec) {
    if (ec) return;
    on_udp_readable(listener);
  });
}

void Worker::on_udp_readable(UdpListener& listener) {
  const int fd = listener.socket.native_handle();
  now_ = std::chrono::steady_clock::now();
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    int n = recv_->receive(fd);
    if (n <= 0) {
      if (n < 0) shared_.metrics.listener_error(ClientTransport::udp).Increment();
      break;
    }
    for (int i = 0; i < n; ++i) {
      auto datagram = recv_->at(static_cast<std::size_t>(i));
      if (datagram.truncated) {
        ++counters_.drops[static_cast<std::size_t>(Drop::truncated)];
        continue;
      }
      FiveTuple tuple{datagram.source, listener.local, ClientTransport::udp};
      handle_client_message(tuple, ClientLink{fd, nullptr}, datagram.data);
    }
    flush();
    if (n < static_cast<int>(kRecvBatch)) break;
  }
  arm_udp(listener);
}

void Worker::arm_relay(Allocation& allocation, bool additional) {
  auto& socket = additional ? allocation.additional_socket : allocation.relay_socket;
  socket.async_wait(udp::socket::wait_read,
                    [this, tuple = allocation.five_tuple, additional](const auto& ec) {
                      if (ec) return;
                      // The allocation may be gone by now: look it up again.
                      if (auto* a = find_allocation(tuple)) on_relay_readable(*a, additional);
                    });
}

void Worker::on_relay_readable(Allocation& allocation, bool additional) {
  auto& socket = additional ? allocation.additional_socket : allocation.relay_socket;
  if (!socket.is_open()) return;  // closed by a Refresh (section 7.3) meanwhile
  const int fd = socket.native_handle();
  now_ = std::chrono::steady_clock::now();
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    int n = recv_->receive(fd);
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) {
      auto datagram = recv_->at(static_cast<std::size_t>(i));
      if (datagram.truncated) {
        ++counters_.drops[static_cast<std::size_t>(Drop::truncated)];
        continue;
      }
      relay_to_client(allocation, datagram.source, datagram.data);
    }
    flush();
    if (n < static_cast<int>(kRecvBatch)) break;
  }
  arm_relay(allocation, additional);
}

void Worker::accept(StreamListener& listener) {
  listener.acceptor.async_accept(
      [this, &listener](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || stopping_) return;
        if (ec) {
          // Out of descriptors (EMFILE/ENFILE) or memory: the pending connection keeps the
          // acceptor readable, so an immediate retry would spin. Try again in 100 ms.
          shared_.metrics.listener_error(listener.transport).Increment();
          listener.retry.expires_after(std::chrono::milliseconds(100));
          listener.retry.async_wait([this, &listener](const boost::system::error_code& wait) {
            if (!wait && !stopping_) accept(listener);
          });
          return;
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto remote = socket.remote_endpoint(ignored);
        FiveTuple tuple{SocketAddress::from(remote.address(), remote.port()), listener.local,
                        listener.transport};
        auto connection = StreamConnection::create(*this, std::move(socket), listener.tls, tuple,
                                                   shared_.config.proxy_protocol);
        connections_.emplace(connection.get(), connection);
        connection->start();
        accept(listener);
      });
}

void Worker::on_stream_frame(StreamConnection& connection, std::span<const std::uint8_t> frame) {
  now_ = std::chrono::steady_clock::now();
  handle_client_message(connection.tuple(), ClientLink{-1, &connection}, frame);
  flush();
}

void Worker::on_stream_closed(StreamConnection& connection, StreamClose reason) {
  shared_.metrics.connection_closed(connection.tuple().transport, reason).Increment();
  // RFC 8656 section 5: over TCP or TLS, the allocation ends with the connection (only its
  // own: with relay.proxy_protocol a refused connection may carry another one's 5-tuple).
  auto* allocation = find_allocation(connection.tuple());
  if (allocation && allocation->link.stream == &connection) {
    delete_allocation(*allocation, "connection closed");
  }
  auto claimed = claimed_tuples_.find(connection.tuple());
  if (claimed != claimed_tuples_.end() && claimed->second == &connection) {
    claimed_tuples_.erase(claimed);
  }
  connections_.erase(&connection);
}

void Worker::on_dtls_record(DtlsSession& session, std::span<const std::uint8_t> record) {
  now_ = std::chrono::steady_clock::now();
  handle_client_message(session.tuple(), ClientLink{-1, nullptr, &session}, record);
  flush();
}

void Worker::on_dtls_closed(DtlsSession& session, StreamClose reason) {
  shared_.metrics.connection_closed(ClientTransport::dtls, reason).Increment();
  // RFC 8656 section 5: like a TCP/TLS connection, the DTLS association ends the allocation.
  auto* allocation = find_allocation(session.tuple());
  if (allocation && allocation->link.dtls == &session) {
    delete_allocation(*allocation, "DTLS session closed");
  }
}

bool Worker::claim_tuple(StreamConnection& connection) {
  return claimed_tuples_.emplace(connection.tuple(), &connection).second;
}

void Worker::on_tick() {
  now_ = std::chrono::steady_clock::now();
  expire(now_);
  if (index_ == 0) shared_.reservations.expire(now_);
  shared_.metrics.flush(counters_);
  tick_.expires_after(std::chrono::seconds(1));
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_tick();
  });
}

// ---------------------------------------------------------------------------------------------
// Dispatch

void Worker::handle_client_message(const FiveTuple& tuple, ClientLink link,
                                   std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return;
  const std::uint8_t first = bytes[0];
  // RFC 8656 section 12: the first two bits tell STUN (00) from ChannelData (01).
  if ((first & 0xC0) == 0x40) {
    auto* allocation = find_allocation(tuple);
    if (!allocation) {
      ++counters_.drops[static_cast<std::size_t>(Drop::no_allocation)];
      return;
    }
    handle_channel_data(*allocation, bytes);
    return;
  }
  auto parsed = stun::MessageView::parse(bytes);
  if (!parsed) {
    ++counters_.drops[static_cast<std::size_t>(Drop::malformed)];
    return;
  }
  const stun::MessageView& message = *parsed;
  handle_stun(Inbound{tuple, link, message});
}

void Worker::handle_stun(const Inbound& in) {
  refresh_policy();
  const auto method = in.message.method();
  const auto cls = in.message.cls();
  if (cls == stun::Class::kSuccessResponse || cls == stun::Class::kErrorResponse) return;

  if (cls == stun::Class::kIndication) {
    // RFC 8489 section 6.3.2: indications are never answered; unknown ones are dropped.
    if (method == stun::Method::kSend) {
      auto* allocation = find_allocation(in.tuple);
      if (allocation && allocation->tcp) {
        // RFC 6062 section 5.1: a TCP allocation relays through connections, not Send.
        ++counters_.drops[static_cast<std::size_t>(Drop::malformed)];
      } else if (allocation) {
        handle_send_indication(in, *allocation);
      } else {
        ++counters_.drops[static_cast<std::size_t>(Drop::no_allocation)];
      }
    }
    return;
  }

  // RFC 8489 section 6.3.1: unknown comprehension-required attributes get a 420.
  auto unknown = in.message.unknown_comprehension_required();
  if (!unknown.empty()) {
    reply_error(in, 420, nullptr, unknown.span());
    return;
  }

  switch (method) {
    case stun::Method::kBinding:
      handle_binding(in);
      return;
    case stun::Method::kAllocate:
      handle_allocate(in);
      return;
    case stun::Method::kRefresh:
    case stun::Method::kCreatePermission:
    case stun::Method::kChannelBind:
    case stun::Method::kConnect: {
      auto auth = authenticate(in);
      if (!auth) return;
      auto* allocation = find_allocation(in.tuple);
      // RFC 8016 section 3.2: a Refresh with a MOBILITY-TICKET from a new 5-tuple.
      if (!allocation && method == stun::Method::kRefresh && policy_->config.mobility &&
          in.message.has(stun::AttributeType::kMobilityTicket)) {
        return handle_mobility_refresh(in, *auth);
      }
      // RFC 8656 sections 7.3, 9.2, 11.2: no allocation for this 5-tuple is a 437.
      if (!allocation) return reply_error(in, 437, &auth->key);
      // RFC 8656 section 5: requests on an allocation must use the same credentials (441).
      if (auth->username != allocation->username) {
        ++counters_.auth_failures[static_cast<std::size_t>(AuthFailure::wrong_credentials)];
        return reply_error(in, 441, &auth->key);
      }
      if (method == stun::Method::kRefresh) return handle_refresh(in, *allocation);
      if (method == stun::Method::kCreatePermission) {
        return handle_create_permission(in, *allocation);
      }
      if (method == stun::Method::kConnect) return tcp_relay_->handle_connect(in, *allocation);
      // RFC 6062 section 5.1: no channels on a TCP allocation (400).
      if (allocation->tcp) return reply_error(in, 400, &auth->key);
      return handle_channel_bind(in, *allocation);
    }
    case stun::Method::kConnectionBind:
      tcp_relay_->handle_connection_bind(in);
      return;
    default:
      // RFC 8489 section 6.3.1: a request with an unknown method is answered with 400.
      reply_error(in, 400);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Output

void Worker::send_to_client(const ClientLink& link, const SocketAddress& client,
                            std::span<const std::uint8_t> head,
                            std::span<const std::uint8_t> payload, std::size_t padding) {
  if (link.stream) {
    link.stream->send(head, payload, padding);
    return;
  }
  if (link.dtls) {
    if (!link.dtls->send(head, payload, padding)) {
      ++counters_.drops[static_cast<std::size_t>(Drop::send_error)];
    }
    return;
  }
  auto& entry = send_->next();
  if (head.size() > entry.head.size()) return;
  entry.fd = link.udp_fd;
  entry.destination = client;
  std::memcpy(entry.head.data(), head.data(), head.size());
  entry.head_length = head.size();
  entry.payload = payload;
  entry.padding = padding;
  send_->commit();
}

void Worker::next_transaction_id(stun::TransactionId& out) {
  const std::uint64_t counter = ++transaction_counter_;
  std::memcpy(out.data(), &transaction_salt_, 4);
  std::memcpy(out.data() + 4, &counter, 8);
}

void Worker::flush() {
  if (send_->pending() == 0) return;
  counters_.drops[static_cast<std::size_t>(Drop::send_error)] += send_->flush();
}

// ---------------------------------------------------------------------------------------------
// Allocation table

Allocation* Worker::find_allocation(const FiveTuple& tuple) {
  auto it = allocations_.find(tuple);
  return it == allocations_.end() ? nullptr : it->second.get();
}

void Worker::delete_allocation(Allocation& allocation, const char* why) {
  auto logger = log::get("relay");
  log::with(*logger, spdlog::level::debug, "allocation", allocation.id,
            "deleted ({}), {} bytes to peers, {} bytes to client", why, allocation.bytes_to_peer,
            allocation.bytes_to_client);
  shared_.metrics.permissions_active().Decrement(
      static_cast<double>(allocation.permissions.size()));
  shared_.metrics.channels_active().Decrement(static_cast<double>(allocation.channels.size()));
  shared_.metrics.allocations_active(allocation.five_tuple.transport).Decrement();
  shared_.quota.release(allocation.quota_user);
  boost::system::error_code ec;
  allocation.relay_socket.close(ec);
  allocation.additional_socket.close(ec);
  if (!allocation.mobility_ticket.empty()) shared_.mobility.erase(allocation.mobility_ticket);
  if (allocation.tcp) tcp_relay_->on_allocation_deleted(allocation);
  allocations_.erase(allocation.five_tuple);
}

void Worker::describe_allocations(std::vector<AllocationInfo>& out) const {
  const auto now = std::chrono::steady_clock::now();
  const auto wall = std::chrono::system_clock::now();
  for (const auto& [tuple, allocation] : allocations_) {
    AllocationInfo info;
    info.id = allocation->id;
    info.username = allocation->username;
    info.user = allocation->quota_user;
    info.transport = to_string(tuple.transport);
    info.client = tuple.client.to_string();
    info.server = tuple.server.to_string();
    if (allocation->relay_socket.is_open() || allocation->tcp) {
      info.relayed = allocation->relayed_address.to_string();
    }
    if (allocation->additional_socket.is_open()) {
      info.relayed_additional = allocation->additional_address.to_string();
    }
    info.age_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(wall - allocation->created).count();
    info.expires_in_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(allocation->expires - now).count();
    info.permissions = allocation->permissions.size();
    info.channels = allocation->channels.size();
    info.bytes_to_peer = allocation->bytes_to_peer;
    info.bytes_to_client = allocation->bytes_to_client;
    out.push_back(std::move(info));
  }
}

std::size_t Worker::terminate_allocations(const std::string& user) {
  std::vector<Allocation*> doomed;
  for (auto& [tuple, allocation] : allocations_) {
    if (allocation->quota_user == user || allocation->username == user) {
      doomed.push_back(allocation.get());
    }
  }
  for (auto* allocation : doomed) {
    StreamConnection* stream = allocation->link.stream;
    DtlsSession* dtls = allocation->link.dtls;
    shared_.metrics.allocations_terminated().Increment();
    log::with(*log::get("relay"), spdlog::level::info, "allocation", allocation->id,
              "terminated by the admin API (user {})", user);
    delete_allocation(*allocation, "terminated");
    // RFC 8656 section 5: over TCP/TLS the connection and the allocation end together.
    if (stream) stream->close(StreamClose::terminated);
    if (dtls) dtls->close(StreamClose::terminated);
  }
  return doomed.size();
}

void Worker::expire(SteadyTime now) {
  std::vector<Allocation*> expired;
  for (auto& [tuple, allocation] : allocations_) {
    if (allocation->expires <= now) {
      expired.push_back(allocation.get());
      continue;
    }
    // RFC 8656 sections 9 and 12: permissions and channel bindings time out on their own.
    auto& permissions = allocation->permissions;
    auto before = permissions.size();
    std::erase_if(permissions, [now](const Permission& p) { return p.expires <= now; });
    if (auto gone = before - permissions.size()) {
      shared_.metrics.permissions_active().Decrement(static_cast<double>(gone));
    }
    auto& channels = allocation->channels;
    before = channels.size();
    std::erase_if(channels, [now](const ChannelBinding& c) { return c.expires <= now; });
    if (auto gone = before - channels.size()) {
      shared_.metrics.channels_active().Decrement(static_cast<double>(gone));
    }
  }
  for (auto* allocation : expired) {
    shared_.metrics.allocations_expired().Increment();
    delete_allocation(*allocation, "expired");
  }
}

}  // namespace podium::relay
