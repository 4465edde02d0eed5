// sctp::Transport on usrsctp: an AF_CONN socket per association (RFC 8261 section 5: SCTP
// packets are handed to DTLS instead of IP), the stack initialised without threads so timers
// and callbacks run on the caller's thread.
#include <arpa/inet.h>
#include <isa-l/crc.h>
#include <usrsctp.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "podium/monitoring/logging.hpp"
#include "sctp/sctp_transport.hpp"

namespace podium::sfu::sctp {

const char* to_string(Error error) {
  switch (error) {
    case Error::message_too_large:
      return "message_too_large";
    case Error::send_failed:
      return "send_failed";
    case Error::aborted:
      return "aborted";
    case Error::connect_failed:
      return "connect_failed";
    case Error::bad_checksum:
      return "bad_checksum";
    case Error::count:
      break;
  }
  return "unknown";
}

namespace {

class UsrsctpTransport;

// Thread-confined (see sctp_transport.hpp): the transports alive, the ones with events to
// deliver after a stack call that was not theirs (timers), and the timer clock.
std::unordered_set<UsrsctpTransport*> g_live;
std::vector<UsrsctpTransport*> g_dirty;
std::chrono::steady_clock::time_point g_last_timers{};

int conn_output(void* address, void* buffer, std::size_t length, std::uint8_t, std::uint8_t);

// RFC 4960 section 3.1 / appendix B: the common header is 12 bytes, the CRC32c at offset 8,
// computed with the field zeroed and stored in the byte order the CRC produces (as usrsctp's
// own usrsctp_crc32c() does).
constexpr std::size_t kCommonHeader = 12;
constexpr std::size_t kChecksumOffset = 8;

std::uint32_t crc32c(std::span<const std::uint8_t> packet) {
  static constexpr std::uint8_t kZero[4] = {};
  auto* data = const_cast<std::uint8_t*>(packet.data());  // ISA-L takes non-const, only reads
  std::uint32_t crc = crc32_iscsi(data, static_cast<int>(kChecksumOffset), 0xffffffffu);
  crc = crc32_iscsi(const_cast<std::uint8_t*>(kZero), 4, crc);
  crc = crc32_iscsi(data + kCommonHeader, static_cast<int>(packet.size() - kCommonHeader), crc);
  return ~crc;
}

bool checksum_valid(std::span<const std::uint8_t> packet) {
  if (packet.size() < kCommonHeader) return false;
  std::uint32_t stored = 0;
  std::memcpy(&stored, packet.data() + kChecksumOffset, sizeof(stored));
  return stored == crc32c(packet);
}

void initialise_stack() {
  static std::once_flag once;
  std::call_once(once, [] {
    usrsctp_init_nothreads(0, &conn_output, nullptr);
    // The SCTP checksum (CRC32c, RFC 4960 appendix B) is computed here with ISA-L's hardware
    // CRC instead of usrsctp's table-driven code, the largest single cost of a fan-out
    // (see docs/benchmarks.md); usrsctp then neither writes nor checks it.
    usrsctp_enable_crc32c_offload();
    // What WebRTC data channels use (RFC 8831 section 6.2): no ECN, no ASCONF; stream
    // reconfiguration (RFC 6525) to close channels.
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_asconf_enable(0);
    usrsctp_sysctl_set_sctp_auto_asconf(0);
    usrsctp_sysctl_set_sctp_reconfig_enable(1);
    usrsctp_sysctl_set_sctp_pr_enable(1);
    // A send buffer of megabytes holds thousands of DATA chunks; the default cap (512) would
    // refuse a full queue long before the buffer is.
    usrsctp_sysctl_set_sctp_max_chunks_on_queue(16384);
    // RFC 6928's initial window of 10 MTUs, and SACKs within 20 ms rather than 200.
    usrsctp_sysctl_set_sctp_initial_cwnd(10);
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    // Retransmission timeouts (RFC 4960 section 6.3.1; its 60 s ceiling would leave a guest who
    // paused for a few seconds waiting half a minute after it came back).
    usrsctp_sysctl_set_sctp_rto_initial_default(1000);
    usrsctp_sysctl_set_sctp_rto_min_default(200);
    usrsctp_sysctl_set_sctp_rto_max_default(5000);
    usrsctp_sysctl_set_sctp_init_rto_max_default(5000);
    usrsctp_sysctl_set_sctp_assoc_rtx_max_default(10);
    usrsctp_sysctl_set_sctp_path_rtx_max_default(10);
    usrsctp_sysctl_set_sctp_heartbeat_interval_default(10000);
  });
}

class UsrsctpTransport final : public Transport {
 public:
  UsrsctpTransport(const Options& options, Observer& observer)
      : options_(options),
        observer_(observer),
        sb_free_(options.send_buffer),
        buffered_low_(options.send_buffer / 2) {
    initialise_stack();
    g_live.insert(this);
    usrsctp_register_address(this);
    socket_ =
        usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, &on_receive, &on_send_space, 0, this);
    if (!socket_) {
      fail(Error::connect_failed);
      return;
    }
    configure();
  }

  ~UsrsctpTransport() override {
    close();
    std::erase(g_dirty, this);
    g_live.erase(this);
  }

  void connect() override {
    if (!socket_ || state_ != State::new_) return;
    sockaddr_conn local = address(options_.local_port);
    if (usrsctp_bind(socket_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      fail(Error::connect_failed);
      return;
    }
    state_ = State::connecting;
    sockaddr_conn remote = address(options_.remote_port);
    const int result =
        usrsctp_connect(socket_, reinterpret_cast<sockaddr*>(&remote), sizeof(remote));
    if (result != 0 && errno != EINPROGRESS) {
      fail(Error::connect_failed);
      return;
    }
    // The path MTU is fixed (RFC 8261 section 5: no PMTUD through DTLS); set once the peer
    // address exists.
    sctp_paddrparams params{};
    std::memcpy(&params.spp_address, &remote, sizeof(remote));
    params.spp_flags = SPP_PMTUD_DISABLE;
    params.spp_pathmtu = static_cast<std::uint32_t>(options_.mtu);
    usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &params, sizeof(params));
    drain();
  }

  void receive_packet(std::span<const std::uint8_t> packet) override {
    if (!socket_ || packet.empty()) return;
    if (!checksum_valid(packet)) {
      push_error(Error::bad_checksum);
      drain();
      return;
    }
    usrsctp_conninput(this, packet.data(), packet.size(), 0);
    drain();
  }

  SendStatus send(std::uint16_t stream, std::uint32_t ppid,
                  std::span<const std::uint8_t> data) override {
    if (!socket_ || state_ != State::connected || data.empty()) return SendStatus::failed;
    if (data.size() > sb_free_) {
      armed_ = true;
      return SendStatus::would_block;
    }
    sctp_sndinfo info{};
    info.snd_sid = stream;
    info.snd_flags = SCTP_EOR;
    info.snd_ppid = htonl(ppid);
    const ssize_t sent = usrsctp_sendv(socket_, data.data(), data.size(), nullptr, 0, &info,
                                       sizeof(info), SCTP_SENDV_SNDINFO, 0);
    const int error = errno;
    SendStatus status = SendStatus::sent;
    if (sent >= 0) {
      sb_free_ -= std::min(sb_free_, data.size());
      if (buffered() > buffered_low_) armed_ = true;
    } else if (error == EWOULDBLOCK || error == EAGAIN) {
      sb_free_ = 0;  // the stack disagrees with our estimate: wait for its next report
      armed_ = true;
      status = SendStatus::would_block;
    } else {
      push_error(Error::send_failed);
      status = SendStatus::failed;
    }
    drain();
    return status;
  }

  std::size_t buffered() const override { return options_.send_buffer - sb_free_; }
  std::size_t writable() const override { return sb_free_; }
  void set_buffered_low(std::size_t bytes) override {
    buffered_low_ = std::min(bytes, options_.send_buffer);
  }

  void reset_stream(std::uint16_t stream) override {
    if (!socket_ || state_ != State::connected) return;
    // RFC 6525 section 4.1: an Outgoing SSN Reset Request for this one stream.
    std::array<std::uint8_t, sizeof(sctp_reset_streams) + sizeof(std::uint16_t)> storage{};
    auto* reset = reinterpret_cast<sctp_reset_streams*>(storage.data());
    reset->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    reset->srs_number_streams = 1;
    reset->srs_stream_list[0] = stream;
    usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_RESET_STREAMS, reset,
                       static_cast<socklen_t>(storage.size()));
    drain();
  }

  void close() override {
    if (!socket_) return;
    // SO_LINGER 0 (set in configure) makes close send an ABORT (RFC 4960 section 9.1).
    usrsctp_close(socket_);
    socket_ = nullptr;
    usrsctp_deregister_address(this);
    g_live.erase(this);  // no more callbacks reach this object
    state_ = State::closed;
    inbox_.clear();
  }

  State state() const override { return state_; }

  // Delivers the events the stack raised during the last call (see Observer).
  void drain() {
    if (draining_ || inbox_.empty()) return;
    draining_ = true;
    for (std::size_t i = 0; i < inbox_.size(); ++i) {
      Event event = std::move(inbox_[i]);
      switch (event.kind) {
        case Event::Kind::state:
          observer_.on_sctp_state(event.state);
          break;
        case Event::Kind::message:
          observer_.on_sctp_message(std::move(event.message));
          break;
        case Event::Kind::writable:
          writable_pending_ = false;
          observer_.on_sctp_writable();
          break;
        case Event::Kind::stream_reset:
          observer_.on_sctp_stream_reset(event.stream);
          break;
        case Event::Kind::error:
          observer_.on_sctp_error(event.error);
          break;
      }
    }
    inbox_.clear();
    draining_ = false;
  }

  // Stack callbacks (see the free functions below).
  void packet_out(std::span<const std::uint8_t> packet) { observer_.on_sctp_packet(packet); }
  void data_in(void* data, std::size_t length, const sctp_rcvinfo& info, int flags);
  void notification_in(const void* data, std::size_t length);
  // Called after every SACK with the room in the send buffer.
  void send_space(std::uint32_t sb_free) {
    sb_free_ = std::min<std::size_t>(sb_free, options_.send_buffer);
    if (armed_ && buffered() <= buffered_low_ && !writable_pending_) {
      armed_ = false;
      writable_pending_ = true;
      push(Event{Event::Kind::writable});
    }
  }

 private:
  struct Event {
    enum class Kind : std::uint8_t { state, message, writable, stream_reset, error };
    Kind kind;
    State state = State::new_;
    Message message{};
    std::uint16_t stream = 0;
    Error error = Error::count;
  };
  struct Partial {
    std::vector<std::uint8_t> bytes;
    bool too_large = false;
  };

  sockaddr_conn address(std::uint16_t port) {
    sockaddr_conn address{};
    address.sconn_family = AF_CONN;
    address.sconn_port = htons(port);
    address.sconn_addr = this;
    return address;
  }

  void configure() {
    usrsctp_set_non_blocking(socket_, 1);
    linger abort_on_close{1, 0};
    usrsctp_setsockopt(socket_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
    const int send_buffer = static_cast<int>(options_.send_buffer);
    const int receive_buffer = static_cast<int>(options_.receive_buffer);
    usrsctp_setsockopt(socket_, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(send_buffer));
    usrsctp_setsockopt(socket_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    sctp_assoc_value reset{};
    reset.assoc_id = SCTP_ALL_ASSOC;
    reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
    usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset, sizeof(reset));
    const int on = 1;
    // Messages go out as soon as they are queued (no Nagle-like bundling delay).
    usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on));
    usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on));
    // Streams: a session uses a handful of channels; each stream costs memory per association.
    sctp_initmsg init{};
    init.sinit_num_ostreams = 256;
    init.sinit_max_instreams = 256;
    usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof(init));
    for (std::uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_REMOTE_ERROR,
                               SCTP_SHUTDOWN_EVENT, SCTP_SEND_FAILED_EVENT}) {
      sctp_event event{};
      event.se_assoc_id = SCTP_ALL_ASSOC;
      event.se_on = 1;
      event.se_type = type;
      usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_EVENT, &event, sizeof(event));
    }
  }

  void push(Event event) {
    if (!in_dirty_list_) {
      in_dirty_list_ = true;
      g_dirty.push_back(this);
    }
    inbox_.push_back(std::move(event));
  }
  void push_error(Error error) {
    Event event{Event::Kind::error};
    event.error = error;
    push(std::move(event));
  }
  void set_state(State state) {
    if (state_ == state || state_ == State::closed) return;
    state_ = state;
    Event event{Event::Kind::state};
    event.state = state;
    push(std::move(event));
  }
  void fail(Error error) {
    push_error(error);
    set_state(State::closed);
  }

  Options options_;
  Observer& observer_;
  struct socket* socket_ = nullptr;
  State state_ = State::new_;
  std::size_t sb_free_;
  std::size_t buffered_low_;
  bool armed_ = false;  // a send left buffered() above buffered_low_
  bool writable_pending_ = false;
  bool draining_ = false;
  bool in_dirty_list_ = false;
  std::vector<Event> inbox_;
  std::unordered_map<std::uint16_t, Partial> partial_;

 public:
  void leave_dirty_list() { in_dirty_list_ = false; }

  static int on_receive(struct socket*, union sctp_sockstore, void* data, std::size_t length,
                        struct sctp_rcvinfo info, int flags, void* ulp_info) {
    auto* self = static_cast<UsrsctpTransport*>(ulp_info);
    if (!g_live.contains(self)) {
      std::free(data);
      return 1;
    }
    if (data == nullptr) {  // the association is gone (usrsctp signals EOF this way)
      self->set_state(State::closed);
      return 1;
    }
    if (flags & MSG_NOTIFICATION) {
      self->notification_in(data, length);
      std::free(data);
    } else {
      self->data_in(data, length, info, flags);
    }
    return 1;
  }

  static int on_send_space(struct socket*, std::uint32_t sb_free, void* ulp_info) {
    auto* self = static_cast<UsrsctpTransport*>(ulp_info);
    if (g_live.contains(self)) self->send_space(sb_free);
    return 0;
  }
};

void UsrsctpTransport::data_in(void* data, std::size_t length, const sctp_rcvinfo& info,
                               int flags) {
  const std::uint16_t stream = info.rcv_sid;
  const std::uint32_t ppid = ntohl(info.rcv_ppid);
  const bool end_of_record = (flags & MSG_EOR) != 0;
  auto partial = partial_.find(stream);
  if (end_of_record && partial == partial_.end()) {
    // The common case: a whole message in one buffer, kept as is (no copy).
    if (length > options_.max_message_size) {
      std::free(data);
      push_error(Error::message_too_large);
      return;
    }
    Event event{Event::Kind::message};
    event.message.stream = stream;
    event.message.ppid = ppid;
    event.message.data = std::shared_ptr<const std::uint8_t[]>(
        static_cast<const std::uint8_t*>(data),
        [](const std::uint8_t* p) { std::free(const_cast<std::uint8_t*>(p)); });
    event.message.size = length;
    push(std::move(event));
    return;
  }
  // Partial delivery (a message larger than the stack's delivery point): reassemble, up to the
  // advertised maximum.
  if (partial == partial_.end()) partial = partial_.emplace(stream, Partial{}).first;
  Partial& part = partial->second;
  if (!part.too_large) {
    if (part.bytes.size() + length > options_.max_message_size) {
      part.too_large = true;
      part.bytes = {};
    } else {
      const auto* bytes = static_cast<const std::uint8_t*>(data);
      part.bytes.insert(part.bytes.end(), bytes, bytes + length);
    }
  }
  std::free(data);
  if (!end_of_record) return;
  if (part.too_large) {
    push_error(Error::message_too_large);
  } else {
    auto owner = std::make_shared<std::vector<std::uint8_t>>(std::move(part.bytes));
    Event event{Event::Kind::message};
    event.message.stream = stream;
    event.message.ppid = ppid;
    event.message.size = owner->size();
    event.message.data = std::shared_ptr<const std::uint8_t[]>(owner, owner->data());
    push(std::move(event));
  }
  partial_.erase(partial);
}

void UsrsctpTransport::notification_in(const void* data, std::size_t length) {
  const auto* notification = static_cast<const sctp_notification*>(data);
  if (length < sizeof(notification->sn_header)) return;
  switch (notification->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      if (length < sizeof(sctp_assoc_change)) return;
      switch (notification->sn_assoc_change.sac_state) {
        case SCTP_COMM_UP:
          set_state(State::connected);
          break;
        case SCTP_COMM_LOST:
          fail(Error::aborted);
          break;
        case SCTP_CANT_STR_ASSOC:
          fail(Error::connect_failed);
          break;
        case SCTP_SHUTDOWN_COMP:
          set_state(State::closed);
          break;
        default:
          break;
      }
      break;
    }
    case SCTP_SHUTDOWN_EVENT:
      set_state(State::closed);
      break;
    case SCTP_STREAM_RESET_EVENT: {
      const auto& reset = notification->sn_strreset_event;
      if (length < sizeof(sctp_stream_reset_event)) return;
      if (!(reset.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN)) break;
      const std::size_t count =
          (reset.strreset_length - sizeof(sctp_stream_reset_event)) / sizeof(std::uint16_t);
      for (std::size_t i = 0; i < count; ++i) {
        Event event{Event::Kind::stream_reset};
        event.stream = reset.strreset_stream_list[i];
        push(std::move(event));
      }
      break;
    }
    default:
      break;
  }
}

int conn_output(void* address, void* buffer, std::size_t length, std::uint8_t, std::uint8_t) {
  auto* transport = static_cast<UsrsctpTransport*>(address);
  if (!g_live.contains(transport) || length < kCommonHeader) return 0;
  auto* bytes = static_cast<std::uint8_t*>(buffer);
  // With the checksum offloaded the field is zero; fill it in.
  const std::uint32_t checksum = crc32c({bytes, length});
  std::memcpy(bytes + kChecksumOffset, &checksum, sizeof(checksum));
  transport->packet_out({bytes, length});
  return 0;
}

}  // namespace

std::unique_ptr<Transport> create_usrsctp_transport(const Options& options, Observer& observer) {
  return std::make_unique<UsrsctpTransport>(options, observer);
}

void handle_sctp_timers(std::chrono::steady_clock::time_point now) {
  if (g_live.empty()) {
    g_last_timers = now;
    return;
  }
  if (g_last_timers == std::chrono::steady_clock::time_point{}) g_last_timers = now;
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - g_last_timers).count();
  if (elapsed <= 0) return;
  g_last_timers += std::chrono::milliseconds(elapsed);
  usrsctp_handle_timers(static_cast<std::uint32_t>(elapsed));
  // Events raised by timers (an abort after too many retransmissions) are delivered now.
  auto dirty = std::move(g_dirty);
  g_dirty.clear();
  for (UsrsctpTransport* transport : dirty) {
    if (!g_live.contains(transport)) continue;
    transport->leave_dirty_list();
    transport->drain();
  }
}

}  // namespace podium::sfu::sctp
