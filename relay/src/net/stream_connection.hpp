// A TURN client connection over TCP or TLS (RFC 8656 section 3.1): frames STUN messages and
// ChannelData out of the byte stream and writes replies and relayed data back. Buffers are
// sized once at accept; when the client does not read fast enough, relayed data is dropped
// (as UDP would) instead of growing memory.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/five_tuple.hpp"
#include "net/stream_close.hpp"

namespace podium::relay {

class Worker;

class StreamConnection : public std::enable_shared_from_this<StreamConnection> {
 public:
  // RFC 6062 section 5.4: after a successful ConnectionBind the connection is a client data
  // connection and carries raw bytes to and from one peer data connection (turn/tcp_relay).
  class RawSink {
   public:
    // Bytes from the client; reading pauses until resume_raw() (their memory stays valid).
    virtual void on_raw_bytes(std::span<const std::uint8_t> bytes) = 0;
    virtual void on_raw_writable() = 0;  // a write finished: write_room() grew
    virtual void on_raw_closed() = 0;    // the connection ended
   protected:
    ~RawSink() = default;
  };

  static std::shared_ptr<StreamConnection> create(Worker& worker,
                                                  boost::asio::ip::tcp::socket socket,
                                                  boost::asio::ssl::context* tls,
                                                  const FiveTuple& tuple, bool proxy_protocol);
  // With `proxy_protocol` (relay.proxy_protocol), a PROXY protocol v2 header must come first
  // (before TLS on tls://); its addresses replace the socket's in the 5-tuple.
  StreamConnection(Worker& worker, boost::asio::ip::tcp::socket socket,
                   boost::asio::ssl::context* tls, const FiveTuple& tuple, bool proxy_protocol);

  void start();
  // Queues head + payload + `padding` zero bytes; drops them if the write buffer is full.
  void send(std::span<const std::uint8_t> head, std::span<const std::uint8_t> payload,
            std::size_t padding);
  // Ends the connection (and with it any allocation it carries); counted by `reason`.
  void close(StreamClose reason);
  const FiveTuple& tuple() const { return tuple_; }
  bool closed() const { return closed_; }

  // RFC 6062 ConnectionBind: hold() stops framing after the current frame (the answer comes
  // from another worker); release_hold() goes on with STUN framing, start_raw() switches to
  // raw bytes for `sink` (bytes already buffered are delivered first).
  void hold() { held_ = true; }
  bool held_or_raw() const { return held_ || raw_ != nullptr; }
  void release_hold();
  void start_raw(std::shared_ptr<RawSink> sink);
  void resume_raw();  // the sink is done with the bytes it was given
  // Free space in the write buffer (a raw sink reads no more than this from its peer).
  std::size_t write_room() const { return kWriteBuffer - pending_.size(); }
  // Closes once everything queued is written, or after kFlushTimeout anyway.
  void close_when_flushed(StreamClose reason);
  // How long queued bytes may take to leave before a close anyway (also the bound of an RFC
  // 6062 data pipe's last write to its peer).
  static constexpr std::chrono::seconds kFlushTimeout{5};

 private:
  void read_proxy_header();
  void on_proxy_header(const boost::system::error_code& ec, std::size_t n);
  void handshake();  // tls://: the TLS handshake, then read(); tcp://: read()
  void read();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void process_frames();  // frames in read_buffer_, then read() unless held
  void write();
  void arm_idle_timer();
  template <typename Handler>
  void async_read_some(boost::asio::mutable_buffer buffer, Handler&& handler);
  template <typename Handler>
  void async_write(boost::asio::const_buffer buffer, Handler&& handler);

  static constexpr std::size_t kReadBuffer = 65536 + 2048;
  static constexpr std::size_t kWriteBuffer = 256 * 1024;
  // A connection without an allocation that sends no complete frame for this long is closed.
  static constexpr std::chrono::seconds kIdleTimeout{60};
  // The first frame (after the TLS handshake on tls://) must be complete this soon after the
  // connection is accepted: a client that connects and stalls, or announces a large frame and
  // trickles it, holds a descriptor and a read buffer for seconds, not minutes.
  static constexpr std::chrono::seconds kFirstFrameTimeout{10};

  Worker& worker_;
  boost::asio::ip::tcp::socket plain_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
  FiveTuple tuple_;
  boost::asio::steady_timer idle_timer_;
  std::vector<std::uint8_t> read_buffer_;
  std::size_t filled_ = 0;
  std::vector<std::uint8_t> pending_;
  std::vector<std::uint8_t> writing_;
  bool write_in_flight_ = false;
  bool closed_ = false;
  bool active_ = false;           // saw a complete frame since the idle timer was last armed
  bool first_period_ = true;      // the idle timer runs kFirstFrameTimeout, not kIdleTimeout
  bool proxy_protocol_ = false;   // a PROXY protocol v2 header is still expected
  bool held_ = false;             // a ConnectionBind waits for its answer
  std::shared_ptr<RawSink> raw_;  // RFC 6062 client data connection: the pipe to the peer
  std::optional<StreamClose> close_when_flushed_;
};

}  // namespace podium::relay
