// The WebRTC data channels of one session (RFC 8831): one SCTP association over the session's
// DTLS, channels opened and acknowledged with DCEP (RFC 8832) in either direction, text and
// binary messages with their PPIDs, and the peer's a=max-message-size honoured on sending.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "datachannel/dcep.hpp"
#include "podium/common/result.hpp"
#include "sctp/sctp_transport.hpp"

namespace podium::sfu::datachannel {

struct Channel {
  std::string label;
  std::string protocol;
  bool ordered = true;
  bool local = false;  // opened by us
  bool acked = false;  // our OPEN was acknowledged (always true for the peer's channels)
};

// Why a DCEP or channel-level message was refused; metric-safe labels.
enum class ChannelError : std::uint8_t {
  bad_dcep,        // malformed DATA_CHANNEL_OPEN, unknown DCEP type
  stream_parity,   // the peer opened a stream id of our parity (RFC 8832 section 6); accepted
                   // when the stream is free
  stream_in_use,   // OPEN on a stream that already carries a channel
  unknown_stream,  // a message on a stream with no channel
  unknown_ppid,    // a PPID that is not DCEP/string/binary
  count
};
const char* to_string(ChannelError error);

class DataChannelObserver {
 public:
  virtual ~DataChannelObserver() = default;
  // An SCTP packet for the DTLS transport. Synchronous, from inside the SCTP stack: it must not
  // call back into any DataChannels.
  virtual void on_data_packet(std::span<const std::uint8_t> packet) = 0;
  // The rest may send but must not destroy the DataChannels.
  virtual void on_data_connected() = 0;
  virtual void on_data_closed() = 0;
  // The peer opened a channel (already acknowledged).
  virtual void on_channel_open(std::uint16_t stream, const Channel& channel) = 0;
  virtual void on_channel_message(std::uint16_t stream, bool binary, sctp::Message&& message) = 0;
  virtual void on_channel_closed(std::uint16_t /*stream*/) {}
  // The send buffer has room again after a send returned would_block.
  virtual void on_data_writable() = 0;
  virtual void on_sctp_error(sctp::Error /*error*/) {}
  virtual void on_channel_error(ChannelError /*error*/) {}
};

struct DataChannelOptions {
  sctp::Options sctp;
  // RFC 8832 section 6: the DTLS client uses even stream ids, the server odd ones.
  bool dtls_client = false;
  // The peer's a=max-message-size (RFC 8841 section 6; absent means 65536, 0 means no limit).
  std::size_t remote_max_message_size = 65536;
};

class DataChannels final : public sctp::Observer {
 public:
  DataChannels(const DataChannelOptions& options, DataChannelObserver& observer);
  ~DataChannels() override;

  void start();
  void receive_packet(std::span<const std::uint8_t> packet);
  bool connected() const { return transport_->state() == sctp::State::connected; }

  // Opens a reliable ordered channel with DCEP on our next stream id; messages may be sent at
  // once (RFC 8832 section 6 allows it before the ACK, ordered).
  Result<std::uint16_t, Reason> open(std::string_view label, std::string_view protocol = {});

  // One message each; above max_send_message() or on an unknown stream: failed.
  sctp::SendStatus send_text(std::uint16_t stream, std::string_view text);
  sctp::SendStatus send_binary(std::uint16_t stream, std::span<const std::uint8_t> bytes);
  std::size_t max_send_message() const { return max_send_; }
  std::size_t buffered() const { return transport_->buffered(); }
  std::size_t writable() const { return transport_->writable(); }
  // on_data_writable fires when buffered() falls to this after having been above it.
  void set_buffered_low(std::size_t bytes) { transport_->set_buffered_low(bytes); }

  const Channel* channel(std::uint16_t stream) const;
  std::optional<std::uint16_t> find(std::string_view label) const;

  // Aborts the association. Idempotent.
  void close();

  // sctp::Observer
  void on_sctp_packet(std::span<const std::uint8_t> packet) override;
  void on_sctp_state(sctp::State state) override;
  void on_sctp_message(sctp::Message&& message) override;
  void on_sctp_writable() override;
  void on_sctp_stream_reset(std::uint16_t stream) override;
  void on_sctp_error(sctp::Error error) override;

 private:
  void handle_dcep(const sctp::Message& message);
  sctp::SendStatus send(std::uint16_t stream, std::uint32_t ppid,
                        std::span<const std::uint8_t> bytes);

  DataChannelOptions options_;
  DataChannelObserver& observer_;
  std::unique_ptr<sctp::Transport> transport_;
  std::map<std::uint16_t, Channel> channels_;
  std::uint16_t next_stream_;
  std::size_t max_send_;
};

}  // namespace podium::sfu::datachannel
