#include "net/stream_connection.hpp"

#include <utility>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "net/proxy_protocol.hpp"
#include "podium/monitoring/logging.hpp"
#include "podium/stun/framing.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

namespace asio = boost::asio;

std::shared_ptr<StreamConnection> StreamConnection::create(Worker& worker,
                                                           asio::ip::tcp::socket socket,
                                                           asio::ssl::context* tls,
                                                           const FiveTuple& tuple,
                                                           bool proxy_protocol) {
  return std::make_shared<StreamConnection>(worker, std::move(socket), tls, tuple, proxy_protocol);
}

StreamConnection::StreamConnection(Worker& worker, asio::ip::tcp::socket socket,
                                   asio::ssl::context* tls, const FiveTuple& tuple,
                                   bool proxy_protocol)
    : worker_(worker),
      plain_(socket.get_executor()),
      tuple_(tuple),
      idle_timer_(socket.get_executor()),
      proxy_protocol_(proxy_protocol) {
  if (tls) {
    tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(std::move(socket), *tls);
  } else {
    plain_ = std::move(socket);
  }
  read_buffer_.resize(kReadBuffer);
  pending_.reserve(kWriteBuffer);
  writing_.reserve(kWriteBuffer);
}

template <typename Handler>
void StreamConnection::async_read_some(asio::mutable_buffer buffer, Handler&& handler) {
  if (tls_) {
    tls_->async_read_some(buffer, std::forward<Handler>(handler));
  } else {
    plain_.async_read_some(buffer, std::forward<Handler>(handler));
  }
}

template <typename Handler>
void StreamConnection::async_write(asio::const_buffer buffer, Handler&& handler) {
  if (tls_) {
    asio::async_write(*tls_, buffer, std::forward<Handler>(handler));
  } else {
    asio::async_write(plain_, buffer, std::forward<Handler>(handler));
  }
}

void StreamConnection::start() {
  // The first-frame timer also bounds the wait for the PROXY header.
  arm_idle_timer();
  if (proxy_protocol_) return read_proxy_header();
  handshake();
}

// The header is read from the TCP socket itself (before TLS), never more bytes than it
// occupies (proxy_protocol::wanted), so what follows is left in the socket for the TLS
// handshake or read().
void StreamConnection::read_proxy_header() {
  if (closed_) return;
  std::span<const std::uint8_t> seen(read_buffer_.data(), filled_);
  const std::size_t want = std::min(proxy_protocol::wanted(seen), proxy_protocol::kMaxHeader);
  auto& socket = tls_ ? tls_->next_layer() : plain_;
  socket.async_read_some(
      asio::buffer(read_buffer_.data() + filled_, want - filled_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        self->on_proxy_header(ec, n);
      });
}

void StreamConnection::on_proxy_header(const boost::system::error_code& ec, std::size_t n) {
  if (closed_) return;
  if (ec) return close(StreamClose::peer_closed);
  filled_ += n;
  auto header = proxy_protocol::parse(std::span<const std::uint8_t>(read_buffer_.data(), filled_));
  if (proxy_protocol::need_more(header)) return read_proxy_header();
  if (!header) {
    log::with(*log::get("relay"), spdlog::level::debug, "client", tuple_.client.to_string(),
              "connection refused: {}", header.error().text);
    return close(StreamClose::proxy_protocol_error);
  }
  filled_ = 0;  // exactly the header was read
  proxy_protocol_ = false;
  if (header->has_addresses) {
    tuple_.client = header->source;
    tuple_.server = header->destination;
  }
  // Another live connection of this worker with the same 5-tuple would share its allocation.
  if (!worker_.claim_tuple(*this)) {
    log::with(*log::get("relay"), spdlog::level::debug, "client", tuple_.client.to_string(),
              "connection refused: PROXY header claims the 5-tuple of a live connection");
    return close(StreamClose::proxy_protocol_error);
  }
  handshake();
}

void StreamConnection::handshake() {
  if (tls_) {
    tls_->async_handshake(asio::ssl::stream_base::server,
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                            if (ec) return self->close(StreamClose::tls_handshake_failed);
                            self->read();
                          });
  } else {
    read();
  }
}

void StreamConnection::arm_idle_timer() {
  idle_timer_.expires_after(first_period_ ? kFirstFrameTimeout : kIdleTimeout);
  first_period_ = false;
  idle_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_) return;
    // Idle and without an allocation: nothing keeps the connection (an allocation's lifetime
    // is enforced by the worker, so a client that only receives is not cut off here).
    // An RFC 6062 client data connection may be idle as long as its peer connection is.
    if (!self->active_ && !self->raw_ && !self->held_ &&
        !self->worker_.has_allocation(self->tuple_)) {
      return self->close(StreamClose::idle_timeout);
    }
    self->active_ = false;
    self->arm_idle_timer();
  });
}

void StreamConnection::read() {
  if (closed_) return;
  async_read_some(asio::buffer(read_buffer_.data() + filled_, read_buffer_.size() - filled_),
                  [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                    self->on_read(ec, n);
                  });
}

void StreamConnection::on_read(const boost::system::error_code& ec, std::size_t n) {
  if (closed_) return;
  if (ec) return close(StreamClose::peer_closed);
  filled_ += n;
  if (raw_) {
    // RFC 6062 section 5.4: raw bytes for the peer; reading resumes when they are written.
    raw_->on_raw_bytes(std::span<const std::uint8_t>(read_buffer_.data(), filled_));
    return;
  }
  process_frames();
}

void StreamConnection::process_frames() {
  std::size_t offset = 0;
  // RFC 8656 section 12.5: split the stream into STUN messages and padded ChannelData frames.
  while (offset < filled_) {
    std::span<const std::uint8_t> buffered(read_buffer_.data() + offset, filled_ - offset);
    auto length = stun::next_frame_length(buffered);
    if (!length) return close(StreamClose::framing_error);  // cannot resynchronise
    if (*length == 0 || *length > buffered.size()) {
      if (*length > read_buffer_.size()) return close(StreamClose::frame_too_large);
      break;
    }
    active_ = true;
    worker_.on_stream_frame(*this, buffered.first(*length));
    if (closed_) return;
    offset += *length;
    if (held_) break;
  }
  if (offset > 0) {
    std::memmove(read_buffer_.data(), read_buffer_.data() + offset, filled_ - offset);
    filled_ -= offset;
  }
  if (held_) return;  // release_hold() or start_raw() goes on
  read();
}

void StreamConnection::release_hold() {
  if (!held_ || closed_) return;
  held_ = false;
  process_frames();
}

void StreamConnection::start_raw(std::shared_ptr<RawSink> sink) {
  if (closed_) return;
  held_ = false;
  raw_ = std::move(sink);
  // Bytes the client sent after the ConnectionBind request already belong to the peer.
  if (filled_ > 0) {
    raw_->on_raw_bytes(std::span<const std::uint8_t>(read_buffer_.data(), filled_));
    return;
  }
  read();
}

void StreamConnection::resume_raw() {
  if (closed_) return;
  filled_ = 0;
  read();
}

void StreamConnection::close_when_flushed(StreamClose reason) {
  if (closed_) return;
  if (pending_.empty() && !write_in_flight_) return close(reason);
  close_when_flushed_ = reason;
  // A client that stops reading would keep the connection (and its buffers) forever: what is
  // not written within kFlushTimeout is dropped. Re-arming cancels the idle timer's wait.
  idle_timer_.expires_after(kFlushTimeout);
  idle_timer_.async_wait([weak = weak_from_this(), reason](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_) return;
    self->close(reason);
  });
}

void StreamConnection::send(std::span<const std::uint8_t> head,
                            std::span<const std::uint8_t> payload, std::size_t padding) {
  if (closed_) return;
  const std::size_t size = head.size() + payload.size() + padding;
  if (pending_.size() + size > kWriteBuffer) {
    ++worker_.counters().drops[static_cast<std::size_t>(Drop::send_error)];
    return;
  }
  pending_.insert(pending_.end(), head.begin(), head.end());
  pending_.insert(pending_.end(), payload.begin(), payload.end());
  pending_.insert(pending_.end(), padding, 0);
  if (!write_in_flight_) write();
}

void StreamConnection::write() {
  if (pending_.empty() || closed_) return;
  std::swap(pending_, writing_);
  pending_.clear();
  write_in_flight_ = true;
  async_write(asio::buffer(writing_),
              [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                self->write_in_flight_ = false;
                self->writing_.clear();
                if (ec) return self->close(StreamClose::write_error);
                self->write();
                if (!self->write_in_flight_ && self->close_when_flushed_) {
                  return self->close(*self->close_when_flushed_);
                }
                if (self->raw_) self->raw_->on_raw_writable();
              });
}

const char* to_string(StreamClose reason) {
  switch (reason) {
    case StreamClose::peer_closed:
      return "peer_closed";
    case StreamClose::framing_error:
      return "framing_error";
    case StreamClose::frame_too_large:
      return "frame_too_large";
    case StreamClose::tls_handshake_failed:
      return "tls_handshake_failed";
    case StreamClose::idle_timeout:
      return "idle_timeout";
    case StreamClose::write_error:
      return "write_error";
    case StreamClose::proxy_protocol_error:
      return "proxy_protocol_error";
    case StreamClose::terminated:
      return "terminated";
    case StreamClose::peer_connection_closed:
      return "peer_connection_closed";
    case StreamClose::shutdown:
    case StreamClose::count:
      break;
  }
  return "shutdown";
}

void StreamConnection::close(StreamClose reason) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  idle_timer_.cancel();
  auto& socket = tls_ ? tls_->next_layer() : plain_;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket.close(ec);
  // Keep this object alive until the worker has dropped its reference and pending handlers ran.
  auto self = shared_from_this();
  if (raw_) std::exchange(raw_, nullptr)->on_raw_closed();
  worker_.on_stream_closed(*this, reason);
}

}  // namespace podium::relay
