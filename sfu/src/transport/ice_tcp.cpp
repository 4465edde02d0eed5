#include "transport/ice_tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include "podium/common/udp_batch.hpp"
#include "podium/monitoring/logging.hpp"

namespace podium::sfu {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr int kMaxReadsPerWakeup = 8;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
// A closing connection's unread input is discarded in up to this many reads before close():
// Linux answers close() with unread data by a reset that also drops what is still queued to send.
constexpr int kMaxDiscardReads = 4;

// The peer's IP as 16 bytes (IPv4 as its v4-mapped IPv6 form): the key of the per-source limit.
std::array<std::uint8_t, 16> source_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  const auto ip = endpoint.address();
  return ip.is_v4() ? asio::ip::make_address_v6(asio::ip::v4_mapped, ip.to_v4()).to_bytes()
                    : ip.to_v6().to_bytes();
}
}  // namespace

const char* to_string(TcpClose reason) {
  switch (reason) {
    case TcpClose::peer_closed:
      return "peer_closed";
    case TcpClose::error:
      return "error";
    case TcpClose::framing:
      return "framing";
    case TcpClose::not_a_check:
      return "not_a_check";
    case TcpClose::first_timeout:
      return "first_timeout";
    case TcpClose::idle_timeout:
      return "idle_timeout";
    case TcpClose::session_closed:
      return "session_closed";
    case TcpClose::session_limit:
      return "session_limit";
    case TcpClose::shutdown:
      return "shutdown";
    case TcpClose::count:
      break;
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// IceTcpConnection

IceTcpConnection::IceTcpConnection(IceTcpListener& listener, tcp::socket socket,
                                   Clock::time_point now)
    : listener_(listener),
      socket_(std::move(socket)),
      fd_(socket_.native_handle()),
      // Frames carry the packets UDP would: no larger than a received datagram may be.
      reader_(std::in_place, net::kMaxDatagram),
      accepted_at_(now),
      last_frame_(now) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&storage), &length) == 0) {
    peer_ = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
  }
}

void IceTcpConnection::arm_read() {
  socket_.async_wait(tcp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec || closed_) return;
    listener_.on_readable(*this);
  });
}

void IceTcpConnection::arm_write() {
  if (write_waiting_) return;
  write_waiting_ = true;
  socket_.async_wait(tcp::socket::wait_write, [this](const boost::system::error_code& ec) {
    if (ec || closed_) return;
    write_waiting_ = false;
    listener_.write(*this);
  });
}

// ---------------------------------------------------------------------------------------------
// IceTcpListener

IceTcpListener::IceTcpListener(asio::io_context& io, StreamHandler& handler, TcpCounters& counters,
                               Limits limits)
    : io_(io),
      handler_(handler),
      counters_(counters),
      limits_(limits),
      acceptor_(io),
      accept_retry_(io) {
  live_.reserve(limits_.max_connections);
  dirty_.reserve(limits_.max_connections);
}

IceTcpListener::~IceTcpListener() = default;

std::uint16_t IceTcpListener::bind(const asio::ip::address& ip, std::uint16_t port) {
  tcp::endpoint endpoint(ip, port);
  acceptor_.open(endpoint.protocol());
  if (endpoint.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(false));
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  return acceptor_.local_endpoint().port();
}

void IceTcpListener::start() {
  arm_accept();
}

void IceTcpListener::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  while (!live_.empty()) {
    IceTcpConnection& connection = *live_.back();
    connection.session = nullptr;
    close(connection, TcpClose::shutdown);
  }
}

void IceTcpListener::arm_accept() {
  acceptor_.async_accept(io_, [this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopped_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // EMFILE and the like: try again shortly instead of spinning.
      log::get("sfu")->warn("ICE-TCP accept failed: {}", ec.message());
      accept_retry_.expires_after(kAcceptRetry);
      accept_retry_.async_wait([this](const boost::system::error_code& e) {
        if (!e && !stopped_) arm_accept();
      });
      return;
    }
    on_accept(std::move(socket));
    arm_accept();
  });
}

std::size_t IceTcpListener::SourceHash::operator()(const std::array<std::uint8_t, 16>& a) const {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::memcpy(&high, a.data(), 8);
  std::memcpy(&low, a.data() + 8, 8);
  return std::hash<std::uint64_t>{}(high * 0x9E3779B97F4A7C15ull ^ low);
}

void IceTcpListener::on_accept(tcp::socket socket) {
  // Unbound connections are unauthenticated: a global cap, and a cap per source address so that
  // one host cannot take every unbound slot (RFC 6544 leaves admission to the passive side).
  const auto source = source_of(socket);
  auto from_source = pending_by_source_.find(source);
  if (live_.size() >= limits_.max_connections || pending_ >= limits_.max_pending ||
      (from_source != pending_by_source_.end() &&
       from_source->second >= limits_.max_pending_per_source)) {
    ++counters_.refused;
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  // Every frame is a real-time packet: no Nagle delay.
  socket.set_option(tcp::no_delay(true), ec);
  if (ec) {
    ++counters_.refused;
    return;
  }
  ++counters_.accepted;
  auto connection = std::make_unique<IceTcpConnection>(*this, std::move(socket), Clock::now());
  connection->source_ = source;
  ++pending_;
  ++pending_by_source_[source];
  const auto fd = static_cast<std::size_t>(connection->fd());
  if (by_fd_.size() <= fd) by_fd_.resize(fd + 1, nullptr);
  by_fd_[fd] = connection.get();
  connection->arm_read();
  live_.push_back(std::move(connection));
}

void IceTcpListener::on_readable(IceTcpConnection& connection) {
  for (int round = 0; round < kMaxReadsPerWakeup; ++round) {
    auto& reader = *connection.reader_;  // freed by close(): not used once closed_ is set
    auto room = reader.writable();
    const ssize_t n = ::recv(connection.fd_, room.data(), room.size(), MSG_DONTWAIT);
    if (n == 0) {
      close(connection, TcpClose::peer_closed);
      break;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      close(connection, errno == ECONNRESET ? TcpClose::peer_closed : TcpClose::error);
      break;
    }
    reader.commit(static_cast<std::size_t>(n));
    // RFC 4571 section 2: length-prefixed frames, any number of them (or a part of one) per read.
    for (;;) {
      auto next = reader.next();
      if (next.status == rfc4571::FrameReader::Status::need_more) break;
      if (next.status != rfc4571::FrameReader::Status::frame) {
        close(connection, TcpClose::framing);
        break;
      }
      ++counters_.frames_in;
      connection.last_frame_ = Clock::now();
      handler_.on_stream_packet(connection, next.frame);
      if (connection.closed_) break;
    }
    if (connection.closed_) break;
    reader.compact();
    if (static_cast<std::size_t>(n) < room.size()) break;  // the socket is drained
  }
  handler_.on_stream_read_done();
  if (!connection.closed_) connection.arm_read();
}

bool IceTcpListener::session_full(const Session& session) const {
  auto it = by_session_.find(&session);
  return it != by_session_.end() && it->second >= limits_.max_per_session;
}

void IceTcpListener::release_pending(IceTcpConnection& connection) {
  --pending_;
  auto it = pending_by_source_.find(connection.source_);
  if (it != pending_by_source_.end() && --it->second == 0) pending_by_source_.erase(it);
}

void IceTcpListener::bind_session(IceTcpConnection& connection, Session& session) {
  if (!connection.bound_to_) {
    release_pending(connection);
    connection.bound_to_ = &session;
    ++by_session_[&session];
  }
  connection.session = &session;
  if (!connection.writer_) {
    connection.writer_ = std::make_unique<rfc4571::FrameWriter>(kTcpWriteQueueBytes);
  }
}

void IceTcpListener::queue(int fd, std::span<const std::uint8_t> head,
                           std::span<const std::uint8_t> payload, std::size_t padding) {
  IceTcpConnection* connection = fd >= 0 && static_cast<std::size_t>(fd) < by_fd_.size()
                                     ? by_fd_[static_cast<std::size_t>(fd)]
                                     : nullptr;
  if (!connection || !connection->writer_ || !connection->writer_->push(head, payload, padding)) {
    ++counters_.frames_dropped;
    return;
  }
  ++counters_.frames_out;
  if (!connection->dirty_) {
    connection->dirty_ = true;
    dirty_.push_back(connection);
  }
}

void IceTcpListener::flush() {
  // write() may close a connection; closed ones stay allocated (dying_) until the next second.
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    IceTcpConnection* connection = dirty_[i];
    connection->dirty_ = false;
    if (!connection->closed_ && !connection->write_waiting_) write(*connection);
  }
  dirty_.clear();
}

void IceTcpListener::write(IceTcpConnection& connection) {
  auto& writer = *connection.writer_;
  while (!writer.empty()) {
    iovec iov[2];
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<std::size_t>(writer.pending(iov));
    const ssize_t n = ::sendmsg(connection.fd_, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      writer.consume(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (errno != EINTR) {
        connection.arm_write();
        return;
      }
      continue;
    }
    close(connection, (n < 0 && (errno == EPIPE || errno == ECONNRESET)) ? TcpClose::peer_closed
                                                                         : TcpClose::error);
    return;
  }
}

void IceTcpListener::close(IceTcpConnection& connection, TcpClose reason) {
  if (connection.closed_) return;
  connection.closed_ = true;
  ++counters_.closed[static_cast<std::size_t>(reason)];
  const auto fd = static_cast<std::size_t>(connection.fd_);
  if (fd < by_fd_.size() && by_fd_[fd] == &connection) by_fd_[fd] = nullptr;
  if (connection.session) handler_.on_stream_closed(connection);
  connection.session = nullptr;
  if (connection.bound_to_) {
    auto it = by_session_.find(connection.bound_to_);
    if (it != by_session_.end() && --it->second == 0) by_session_.erase(it);
    connection.bound_to_ = nullptr;
  } else {
    release_pending(connection);
  }
  boost::system::error_code ignored;
  connection.socket_.close(ignored);
  // Only the small object stays (completions already queued for it test closed_): the read
  // buffer and the write queue go now, so connection churn does not hold them.
  connection.reader_.reset();
  connection.writer_.reset();
  auto it = std::find_if(live_.begin(), live_.end(),
                         [&](const auto& c) { return c.get() == &connection; });
  if (it != live_.end()) {
    dying_.push_back(std::move(*it));
    *it = std::move(live_.back());
    live_.pop_back();
  }
}

void IceTcpListener::close_session(Session& session) {
  for (std::size_t i = 0; i < live_.size();) {
    IceTcpConnection& connection = *live_[i];
    if (connection.session == &session) {
      connection.session = nullptr;
      // What the session's end queued (SCTP ABORT, DTLS close_notify) goes out before the
      // connection closes, as far as the socket takes it without blocking. write() closes the
      // connection itself on a socket error.
      if (connection.writer_) write(connection);
      if (!connection.closed_) {
        // Unread input would turn close() into a reset that discards the bytes just written.
        for (int round = 0; round < kMaxDiscardReads; ++round) {
          if (::recv(connection.fd_, nullptr, 65536, MSG_DONTWAIT | MSG_TRUNC) <= 0) break;
        }
        close(connection, TcpClose::session_closed);
      }
      // close() swapped the last connection into slot i.
    } else {
      ++i;
    }
  }
}

void IceTcpListener::on_second(Clock::time_point now) {
  dead_.clear();
  std::swap(dead_, dying_);
  for (std::size_t i = 0; i < live_.size();) {
    IceTcpConnection& connection = *live_[i];
    if (!connection.bound_to_ && now - connection.accepted_at_ > kFirstFrameTimeout) {
      close(connection, TcpClose::first_timeout);
    } else if (connection.session && now - connection.last_frame_ > limits_.idle_timeout) {
      close(connection, TcpClose::idle_timeout);
    } else {
      ++i;
    }
  }
}

}  // namespace podium::sfu
