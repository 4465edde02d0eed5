// One SCTP association carried over DTLS (RFC 8261), seen through an interface of Podium's own
// so the SCTP stack behind it (usrsctp today) can be replaced. The transport owns no socket: SCTP
// packets go out through the observer (to DtlsTransport::send_application) and come in through
// receive_packet(). Messages arrive whole: partial deliveries are reassembled here, up to
// SctpOptions::max_message_size.
//
// Threading: every call, and every observer callback, happens on one thread per process (the
// SFU's media thread, podium-load's loop). usrsctp's timers are process-global; that thread
// drives them with handle_sctp_timers().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace podium::sfu::sctp {

// RFC 8831 section 8 / RFC 8832 section 8.1: payload protocol identifiers of WebRTC data
// channels.
inline constexpr std::uint32_t kPpidDcep = 50;
inline constexpr std::uint32_t kPpidString = 51;
inline constexpr std::uint32_t kPpidBinary = 53;
inline constexpr std::uint32_t kPpidStringEmpty = 56;
inline constexpr std::uint32_t kPpidBinaryEmpty = 57;

// A received user message. The bytes are shared and immutable: whoever keeps the message (the
// slide store) keeps them without a copy.
struct Message {
  std::uint16_t stream = 0;
  std::uint32_t ppid = 0;
  std::shared_ptr<const std::uint8_t[]> data;
  std::size_t size = 0;
  std::span<const std::uint8_t> bytes() const { return {data.get(), size}; }
};

enum class State : std::uint8_t { new_, connecting, connected, closed };

// Why an association failed or a message was refused; metric-safe labels.
enum class Error : std::uint8_t {
  message_too_large,  // a reassembled message above max_message_size (discarded)
  send_failed,        // the stack refused a message for a reason other than a full buffer
  aborted,            // the peer aborted, or the association was lost (retransmission limit)
  connect_failed,     // the association could not be set up
  bad_checksum,       // a packet whose CRC32c did not match (dropped)
  count
};
const char* to_string(Error error);

enum class SendStatus : std::uint8_t {
  sent,
  would_block,  // the send buffer has no room for the whole message now; on_sctp_writable follows
  failed,       // not connected, closed, or refused (see the error callback)
};

struct Options {
  // RFC 8841 section 5: a=sctp-port of each side (5000 in every browser).
  std::uint16_t local_port = 5000;
  std::uint16_t remote_port = 5000;
  // Largest SCTP packet handed to DTLS: the DTLS record payload that fits one datagram.
  std::size_t mtu = 1150;
  // Incoming messages above this are discarded (RFC 8841 section 6: what we advertised).
  std::size_t max_message_size = 262144;
  // Bytes the stack may hold for sending (queued plus unacknowledged): the per-session queue.
  std::size_t send_buffer = 256 * 1024;
  // Receive window offered to the peer.
  std::size_t receive_buffer = 1024 * 1024;
};

class Observer {
 public:
  virtual ~Observer() = default;
  // An SCTP packet to carry in one DTLS record. Called synchronously from inside the stack
  // (while it holds its locks): it must not call back into any transport.
  virtual void on_sctp_packet(std::span<const std::uint8_t> packet) = 0;
  // The rest are called after the transport's own call returned; they may send, but must not
  // destroy the transport.
  virtual void on_sctp_state(State state) = 0;
  virtual void on_sctp_message(Message&& message) = 0;
  virtual void on_sctp_writable() = 0;
  virtual void on_sctp_stream_reset(std::uint16_t /*stream*/) {}
  virtual void on_sctp_error(Error /*error*/) {}
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts the association (RFC 4960 section 5.1; both sides may, collisions are resolved by
  // the protocol).
  virtual void connect() = 0;
  // One SCTP packet from a DTLS record.
  virtual void receive_packet(std::span<const std::uint8_t> packet) = 0;
  // Sends one whole message, ordered and reliable, on `stream`. Empty data is not allowed (use
  // the *_empty PPIDs with one byte, RFC 8831 section 6.6).
  virtual SendStatus send(std::uint16_t stream, std::uint32_t ppid,
                          std::span<const std::uint8_t> data) = 0;
  // Bytes queued in the stack and not yet acknowledged by the peer.
  virtual std::size_t buffered() const = 0;
  // Room left in the send buffer (send_buffer - buffered()).
  virtual std::size_t writable() const = 0;
  // on_sctp_writable fires when buffered() falls to `bytes` or below after a send left it
  // above (or after a send would have blocked). Default: half the send buffer.
  virtual void set_buffered_low(std::size_t bytes) = 0;
  // RFC 6525 outgoing stream reset (closes a data channel, RFC 8831 section 6.7).
  virtual void reset_stream(std::uint16_t stream) = 0;
  // Aborts the association (ABORT goes out through the observer). Idempotent.
  virtual void close() = 0;
  virtual State state() const = 0;
};

// The usrsctp implementation (AF_CONN sockets, one association each, no threads of its own).
std::unique_ptr<Transport> create_usrsctp_transport(const Options& options, Observer& observer);

// Runs the stack's timers (retransmissions, delayed SACKs, heartbeats) up to `now`. Call it at
// least every 20 ms from the thread that uses the transports.
void handle_sctp_timers(std::chrono::steady_clock::time_point now);

}  // namespace podium::sfu::sctp
