// ICE-TCP for the SFU (RFC 6544): a passive host candidate on sfu.listen_ip:sfu.tcp_port, so a
// browser whose UDP is blocked can still reach the SFU directly. The browser's active candidate
// connects; every packet on the connection is framed as RFC 4571 says (a 16-bit length, then the
// packet). The first frame must be a Binding request the SFU accepts for a session (USERNAME
// routes it as on UDP); from then on the connection belongs to that session and its STUN, DTLS,
// SRTP and SRTCP go through the same RFC 7983 demultiplexing as datagrams. Packets for a session
// whose selected pair is a connection are queued on it through MediaSendBatch (StreamPaths).
//
// Limits: at most max_connections at a time, of which at most max_pending not yet bound, and at
// most max_pending_per_source of those from one IP address (so one host cannot hold every
// unbound slot); a first frame within kFirstFrameTimeout; at most max_per_session connections
// bound to one session; a bound connection that receives nothing for idle_timeout is closed; a
// bounded write queue per connection (a full one drops the packet, as a full UDP socket buffer
// would). A closed connection frees its buffers at once; the small object stays until the
// completions already queued for it have run. Everything runs on the media worker's thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "podium/common/socket_address.hpp"
#include "transport/ice_tcp_counters.hpp"
#include "transport/media_send_batch.hpp"
#include "transport/rfc4571_framing.hpp"

namespace podium::sfu {

class Session;
class IceTcpListener;

inline constexpr auto kFirstFrameTimeout = std::chrono::seconds(5);
inline constexpr std::size_t kTcpWriteQueueBytes = 64 * 1024;

class IceTcpConnection {
 public:
  IceTcpConnection(IceTcpListener& listener, boost::asio::ip::tcp::socket socket,
                   std::chrono::steady_clock::time_point now);

  int fd() const { return fd_; }
  const SocketAddress& peer() const { return peer_; }
  // The session the first check bound it to (null before that, and after the session ended).
  Session* session = nullptr;
  bool closed() const { return closed_; }

 private:
  friend class IceTcpListener;
  void arm_read();
  void arm_write();

  IceTcpListener& listener_;
  boost::asio::ip::tcp::socket socket_;
  int fd_;
  SocketAddress peer_;
  std::array<std::uint8_t, 16> source_{};         // the peer's IP (IPv4 as v4-mapped IPv6)
  std::optional<rfc4571::FrameReader> reader_;    // freed at close
  std::unique_ptr<rfc4571::FrameWriter> writer_;  // allocated when bound, freed at close
  Session* bound_to_ = nullptr;  // the session it was bound to, kept for the listener's counts
  std::chrono::steady_clock::time_point accepted_at_;
  std::chrono::steady_clock::time_point last_frame_;
  bool closed_ = false;
  bool dirty_ = false;          // in the listener's flush list
  bool write_waiting_ = false;  // waiting for the socket to be writable
};

// What the media worker does with the connections' packets.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // One RFC 4571 frame from `connection`. The handler may close the connection.
  virtual void on_stream_packet(IceTcpConnection& connection, std::span<std::uint8_t> packet) = 0;
  // After the frames of one read were handled (the worker flushes and closes what is pending).
  virtual void on_stream_read_done() = 0;
  // A connection bound to a session closed (not called when the session's end closed it).
  virtual void on_stream_closed(IceTcpConnection& connection) = 0;
};

class IceTcpListener final : public StreamPaths {
 public:
  struct Limits {
    std::size_t max_connections = 10000;
    std::size_t max_pending = 256;
    std::size_t max_pending_per_source = 8;
    std::size_t max_per_session = 4;
    std::chrono::seconds idle_timeout{30};
  };
  IceTcpListener(boost::asio::io_context& io, StreamHandler& handler, TcpCounters& counters,
                 Limits limits);
  ~IceTcpListener() override;

  // Binds and listens (throws on failure: startup path); returns the bound port.
  std::uint16_t bind(const boost::asio::ip::address& ip, std::uint16_t port);
  void start();
  // Closes the acceptor and every connection.
  void stop();

  // Whether `session` already has max_per_session connections bound to it (a new connection's
  // check for it is then refused with TcpClose::session_limit).
  bool session_full(const Session& session) const;
  // Binds a connection to the session its first accepted check named: allocates its write
  // queue.
  void bind_session(IceTcpConnection& connection, Session& session);
  void close(IceTcpConnection& connection, TcpClose reason);
  // Closes the connections bound to a session that is ending (no on_stream_closed), after a
  // last non-blocking write of what is queued on them (the session's SCTP ABORT and DTLS
  // close_notify).
  void close_session(Session& session);
  // Once a second: first-frame and idle timeouts; frees connections closed a second ago.
  void on_second(std::chrono::steady_clock::time_point now);

  std::size_t connections() const { return live_.size(); }
  std::size_t pending_connections() const { return pending_; }

  // StreamPaths
  void queue(int fd, std::span<const std::uint8_t> head, std::span<const std::uint8_t> payload,
             std::size_t padding) override;
  void flush() override;

 private:
  friend class IceTcpConnection;
  void arm_accept();
  void on_accept(boost::asio::ip::tcp::socket socket);
  void on_readable(IceTcpConnection& connection);
  void write(IceTcpConnection& connection);
  void release_pending(IceTcpConnection& connection);

  struct SourceHash {
    std::size_t operator()(const std::array<std::uint8_t, 16>& a) const;
  };

  boost::asio::io_context& io_;
  StreamHandler& handler_;
  TcpCounters& counters_;
  Limits limits_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  bool stopped_ = false;
  std::vector<std::unique_ptr<IceTcpConnection>> live_;
  std::vector<IceTcpConnection*> by_fd_;  // indexed by socket descriptor: the per-packet route
  std::vector<IceTcpConnection*> dirty_;  // connections with bytes queued since the last flush
  std::size_t pending_ = 0;               // live connections not bound yet
  // Unbound connections per source IP, and bound connections per session (entries at 0 are
  // erased).
  std::unordered_map<std::array<std::uint8_t, 16>, std::uint32_t, SourceHash> pending_by_source_;
  std::unordered_map<const Session*, std::uint32_t> by_session_;
  // Closed connections stay allocated until a second has passed, so that completions already
  // queued for them find the object (and its closed flag).
  std::vector<std::unique_ptr<IceTcpConnection>> dying_;
  std::vector<std::unique_ptr<IceTcpConnection>> dead_;
};

}  // namespace podium::sfu
