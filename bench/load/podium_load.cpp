// podium-load: drives real WHIP/WHEP sessions against a running `podium serve`, with the SFU's
// own ICE, DTLS and SRTP code in the client role. One presenter publishes a libopus-encoded
// 440 Hz tone; N guests receive it; a sample of guests decrypts and decodes every packet, the
// rest count packets by RTP sequence number (the RTP header is not encrypted, RFC 3711 section
// 3.1). Prints one JSON line of results. `--mode floor` instead measures the floor: a child
// process sends pre-encrypted packets to the same number of sockets with sendmmsg and no SFU.
//
//   podium-load --signaling http://127.0.0.1:8080 --guests 1000 --seconds 10 --podium-pid PID
//   podium-load --mode floor --guests 1000 --seconds 10
#include <opus/opus.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "datachannel/data_channels.hpp"
#include "dtls/certificate.hpp"
#include "dtls/dtls_context.hpp"
#include "dtls/dtls_transport.hpp"
#include "ice/ice_lite_agent.hpp"
#include "podium/common/random.hpp"
#include "podium/common/socket_address.hpp"
#include "podium/common/udp_batch.hpp"
#include "podium/stun/credentials.hpp"
#include "podium/stun/demux.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "rtp/rtp_packet.hpp"
#include "sctp/sctp_transport.hpp"
#include "sdp/session_description.hpp"
#include "srtp/srtp.hpp"

namespace podium::load {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;
using sfu::rtp::load16;

constexpr int kSampleRate = 48000;
constexpr int kFrameSamples = 960;  // 20 ms
constexpr std::size_t kSendRing = 1 << 16;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds (user + system) of a process, from /proc/PID/stat fields 14 and 15.
double process_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A "kB" field of /proc/PID/status (VmRSS, VmHWM, ...) in MiB; 0 when absent.
double process_status_mib(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(field.size())) / 1024.0;
  }
  return 0;
}

double process_rss_mib(int pid) {
  return process_status_mib(pid, "VmRSS:");
}

// ---------------------------------------------------------------------------------------------
// HTTP (control path: one blocking request per session setup)

struct HttpResult {
  int status = 0;
  std::string body;
  std::string location;
};

struct Url {
  std::string host;
  std::string port;
};

Url parse_url(const std::string& url) {
  auto rest = url.substr(url.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  return {rest.substr(0, colon), colon == std::string::npos ? "80" : rest.substr(colon + 1)};
}

HttpResult http_request(bhttp::verb verb, const Url& url, const std::string& target,
                        const std::string& body, const std::string& token) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  stream.connect(resolver.resolve(url.host, url.port));
  bhttp::request<bhttp::string_body> request{verb, target, 11};
  request.set(bhttp::field::host, url.host);
  if (!body.empty()) request.set(bhttp::field::content_type, "application/sdp");
  if (!token.empty()) request.set(bhttp::field::authorization, "Bearer " + token);
  request.body() = body;
  request.prepare_payload();
  bhttp::write(stream, request);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> response;
  bhttp::read(stream, buffer, response);
  beast::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return {static_cast<int>(response.result_int()), response.body(),
          std::string(response[bhttp::field::location])};
}

// ---------------------------------------------------------------------------------------------
// One client peer connection

enum class Role { presenter, guest };

// A non-blocking UDP socket on 127.0.0.1, an ephemeral port, 1 MiB of receive buffer.
int bind_loopback_udp(SocketAddress* bound = nullptr) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local));
  int size = 1 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  if (bound) {
    socklen_t length = sizeof(local);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    *bound = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&local), length);
  }
  return fd;
}

// The byte at `offset` of the benchmark's slide (a pattern every guest can check).
std::uint8_t slide_byte(std::uint64_t offset) {
  return static_cast<std::uint8_t>((offset * 2654435761u) >> 13);
}

class Peer final : public sfu::dtls::DtlsSink, public sfu::datachannel::DataChannelObserver {
 public:
  Peer(Role role, const sfu::dtls::DtlsContext& context, bool decode, std::string setup,
       bool data = false)
      : role_(role), context_(context), decode_(decode), setup_(std::move(setup)), data_(data) {
    fd_ = bind_loopback_udp();
    auto credentials = sfu::ice::generate_credentials();
    ufrag_ = credentials.ufrag;
    pwd_ = credentials.pwd;
    ssrc_ = static_cast<std::uint32_t>(std::hash<std::string>{}(ufrag_)) | 1;
    if (decode_) {
      int error = 0;
      decoder_ = opus_decoder_create(kSampleRate, 1, &error);
    }
  }
  ~Peer() override {
    if (channels_) {
      channels_->close();
      channels_.reset();
    }
    if (decoder_) opus_decoder_destroy(decoder_);
    ::close(fd_);
  }

  int fd() const { return fd_; }
  std::string location;  // the session URL from the 201, for DELETE
  bool connected() const { return srtp_ready_; }
  bool failed() const { return failed_; }
  std::uint32_t ssrc() const { return ssrc_; }

  std::string offer(const sfu::dtls::Fingerprint& fingerprint) const {
    const bool presenter = role_ == Role::presenter;
    std::string sdp =
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "a=msid-semantic: WMS\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:" +
        ufrag_ + "\r\na=ice-pwd:" + pwd_ +
        "\r\n"
        "a=fingerprint:sha-256 " +
        fingerprint.to_sdp() + "\r\na=setup:" + setup_ + "\r\na=mid:0\r\n" +
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n" +
        std::string(presenter ? "a=sendonly\r\n" : "a=recvonly\r\n") +
        "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n";
    if (presenter) sdp += "a=ssrc:" + std::to_string(ssrc_) + " cname:load\r\n";
    if (data_) {
      // The data channel section as browsers offer it (RFC 8841), bundled with the audio.
      sdp.replace(sdp.find("a=group:BUNDLE 0"), 16, "a=group:BUNDLE 0 1");
      sdp +=
          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
          "a=ice-ufrag:" +
          ufrag_ + "\r\na=ice-pwd:" + pwd_ + "\r\na=fingerprint:sha-256 " + fingerprint.to_sdp() +
          "\r\na=setup:" + setup_ +
          "\r\na=mid:1\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";
    }
    return sdp;
  }

  // Takes the SFU's answer: ICE credentials, its candidate, fingerprint, setup.
  bool accept_answer(const std::string& answer_sdp, Clock::time_point now) {
    auto answer = sfu::sdp::parse(answer_sdp);
    if (!answer || answer->media.empty()) return false;
    const auto& m = answer->media.front();
    const auto& ufrag = answer->effective_ice_ufrag(m);
    const auto& pwd = answer->effective_ice_pwd(m);
    if (!ufrag || !pwd || m.candidates.empty()) return false;
    remote_ufrag_ = *ufrag;
    key_ = stun::short_term_key(*pwd);
    const auto& candidate = m.candidates.front();
    sfu_ = SocketAddress::from(boost::asio::ip::make_address(candidate.address), candidate.port);
    const auto& fp = answer->effective_fingerprints(m);
    if (fp.empty()) return false;
    auto fingerprint = sfu::dtls::Fingerprint::parse(
        fp.front().algorithm, sfu::sdp::format_fingerprint_bytes(fp.front().bytes));
    if (!fingerprint) return false;
    auto setup = answer->effective_setup(m).value_or(sfu::sdp::Setup::active);
    sfu::dtls::DtlsTransportOptions options;
    // The SFU answers passive (DTLS server) to actpass: this side is then the client.
    options.role =
        setup == sfu::sdp::Setup::active ? sfu::dtls::Role::server : sfu::dtls::Role::client;
    options.remote_fingerprints = {*fingerprint};
    auto transport = sfu::dtls::DtlsTransport::create(context_, options, *this);
    if (!transport) return false;
    dtls_ = std::move(*transport);
    send_check(now);
    return true;
  }

  // RFC 8445 section 7.1.1 / 7.2.2: a controlling agent's check nominating the pair.
  void send_check(Clock::time_point now) {
    std::array<std::uint8_t, 512> buffer{};
    stun::TransactionId id{};
    random_bytes(id);
    stun::MessageBuilder builder(buffer);
    builder.start(stun::Method::kBinding, stun::Class::kRequest, id);
    builder.add_string(stun::AttributeType::kUsername, remote_ufrag_ + ":" + ufrag_);
    builder.add_u32(stun::AttributeType::kPriority, 0x7E7FFFFF);
    builder.add_u64(stun::AttributeType::kIceControlling, 0x1234567890ABCDEFull);
    builder.add_flag(stun::AttributeType::kUseCandidate);
    builder.add_message_integrity(key_.span());
    builder.add_fingerprint();
    auto bytes = builder.finish();
    if (bytes) send(*bytes);
    last_check_ = now;
  }
  Clock::time_point last_check() const { return last_check_; }

  // DtlsSink
  void send(std::span<const std::uint8_t> datagram) override {
    ::sendto(fd_, datagram.data(), datagram.size(), 0, sfu_.sa(), sfu_.length());
  }
  void on_state(sfu::dtls::DtlsState state) override {
    if (state == sfu::dtls::DtlsState::failed || state == sfu::dtls::DtlsState::closed) {
      failed_ = true;
      return;
    }
    if (state != sfu::dtls::DtlsState::connected) return;
    const auto* keys = dtls_->srtp_keys();
    if (role_ == Role::presenter) {
      auto sender = sfu::srtp::SrtpSender::create(keys->local);
      if (sender) sender_.emplace(std::move(*sender));
    } else if (decode_) {
      auto receiver = sfu::srtp::SrtpReceiver::create(keys->remote);
      if (receiver) receiver_.emplace(std::move(*receiver));
    }
    srtp_ready_ = true;
    if (data_) {
      // RFC 8261: SCTP over this DTLS association, as a browser would run it.
      sfu::datachannel::DataChannelOptions options;
      options.dtls_client = dtls_->role() == sfu::dtls::Role::client;
      options.remote_max_message_size = 262144;
      options.sctp.mtu = dtls_->application_mtu();
      options.sctp.send_buffer = 1024 * 1024;
      options.sctp.receive_buffer = 1024 * 1024;
      channels_ = std::make_unique<sfu::datachannel::DataChannels>(options, *this);
      channels_->start();
    }
  }
  void on_application_data(std::span<const std::uint8_t> data) override {
    if (channels_) channels_->receive_packet(data);
  }

  // --- Data channels (slides mode).
  void on_data_packet(std::span<const std::uint8_t> packet) override {
    if (dtls_) (void)dtls_->send_application(packet);
  }
  void on_data_connected() override {
    if (role_ == Role::presenter) {
      auto stream = channels_->open("slides");
      if (stream) slides_stream_ = *stream;
    }
  }
  void on_data_closed() override { data_failed_ = true; }
  void on_channel_open(std::uint16_t stream, const sfu::datachannel::Channel& channel) override {
    if (channel.label == "slides") slides_stream_ = stream;
  }
  void on_channel_message(std::uint16_t, bool binary, sfu::sctp::Message&& message) override {
    const auto now = Clock::now();
    if (binary) {
      if (checks_bytes_) {
        const auto bytes = message.bytes();
        for (std::size_t i = 0; i < bytes.size(); ++i) {
          if (bytes[i] != slide_byte(slide_received + i)) ++slide_corrupt;
        }
      }
      slide_received += message.size;
      if (slide_received == slide_size && slide_size > 0) slide_complete_at = now;
      return;
    }
    const std::string text(reinterpret_cast<const char*>(message.data.get()), message.size);
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) return;
    const auto type = json.value("type", "");
    if (type == "slide") {
      slide_size = json.value("size", std::uint64_t{0});
      slide_received = 0;
    } else if (type == "show") {
      show_at = now;
      shown = json.value("id", "");
    } else if (type == "delivered") {
      delivered_guests = json.value("guests", std::size_t{0});
    } else if (type == "error") {
      ++errors;
    }
  }
  void on_data_writable() override {}

  sfu::datachannel::DataChannels* channels() { return channels_.get(); }
  std::optional<std::uint16_t> slides_stream() const {
    return channels_ && channels_->connected() ? slides_stream_ : std::nullopt;
  }
  void check_bytes(bool on) { checks_bytes_ = on; }
  bool data_failed() const { return data_failed_; }
  std::uint64_t slide_size = 0, slide_received = 0, slide_corrupt = 0;
  Clock::time_point slide_complete_at{}, show_at{};
  std::string shown;
  std::size_t delivered_guests = 0;
  std::uint64_t errors = 0;

  void on_timeout(Clock::time_point now) {
    if (!dtls_) return;
    auto at = dtls_->next_timeout();
    if (at && *at <= now) dtls_->on_timeout(now);
  }

  // Everything this peer's socket received.
  void on_readable(Clock::time_point now, const std::vector<Clock::time_point>* sent_at) {
    for (;;) {
      int n = recv_.receive(fd_);
      if (n <= 0) return;
      for (int i = 0; i < n; ++i) {
        auto datagram = recv_.at(static_cast<std::size_t>(i));
        std::span<std::uint8_t> data(const_cast<std::uint8_t*>(datagram.data.data()),
                                     datagram.data.size());
        switch (stun::classify_packet(data)) {
          case stun::PacketKind::kStun: {
            auto message = stun::MessageView::parse(data);
            // The first success response means ICE is up: start DTLS as its client.
            if (message && message->cls() == stun::Class::kSuccessResponse && dtls_ &&
                dtls_->state() == sfu::dtls::DtlsState::new_ &&
                dtls_->role() == sfu::dtls::Role::client) {
              dtls_->start(now);
            }
            break;
          }
          case stun::PacketKind::kDtls:
            if (dtls_) dtls_->feed(data, now);
            break;
          case stun::PacketKind::kRtp:
            if (!stun::is_rtcp(data)) on_rtp(data, now, sent_at);
            break;
          default:
            break;
        }
      }
      if (n < static_cast<int>(net::kRecvBatch)) return;
    }
  }

  void on_rtp(std::span<std::uint8_t> data, Clock::time_point now,
              const std::vector<Clock::time_point>* sent_at) {
    if (data.size() < 12) return;
    const std::uint16_t seq = load16(&data[2]);
    if (!have_offset_) {
      // The presenter sends one probe packet, then pauses: the first packet any guest gets is
      // the probe, which fixes this guest's sequence offset.
      seq_offset_ = static_cast<std::uint16_t>(seq - probe_sequence);
      have_offset_ = true;
    }
    const std::uint16_t presenter_seq = static_cast<std::uint16_t>(seq - seq_offset_);
    ++received_;
    if (sent_at && presenter_seq != probe_sequence) {
      const auto sent = (*sent_at)[presenter_seq % kSendRing];
      if (sent != Clock::time_point{}) {
        latencies_us.push_back(
            static_cast<float>(std::chrono::duration<double, std::micro>(now - sent).count()));
      }
    }
    if (decode_ && receiver_) {
      auto length = receiver_->unprotect(data);
      if (!length) {
        ++decode_errors_;
        return;
      }
      auto header = sfu::rtp::parse_rtp(data.first(*length));
      if (!header) {
        ++decode_errors_;
        return;
      }
      std::array<opus_int16, 5760> pcm{};
      int samples = opus_decode(decoder_, data.data() + header->header_size,
                                static_cast<opus_int32>(header->payload_size), pcm.data(),
                                static_cast<int>(pcm.size()), 0);
      if (samples <= 0) {
        ++decode_errors_;
        return;
      }
      ++decoded_frames_;
      // RMS of the decoded tone: a working path decodes audio, not silence.
      double sum = 0;
      for (int i = 0; i < samples; ++i) sum += double(pcm[i]) * pcm[i];
      if (std::sqrt(sum / samples) > 1000) ++loud_frames_;
    }
  }

  // Presenter: protect and send one RTP packet.
  bool send_rtp(std::uint16_t seq, std::uint32_t timestamp, std::span<const std::uint8_t> opus,
                bool marker) {
    if (!sender_) return false;
    std::array<std::uint8_t, 1500> packet{};
    packet[0] = 0x90;  // V=2, X=1
    packet[1] = static_cast<std::uint8_t>((marker ? 0x80 : 0) | 111);
    sfu::rtp::store16(&packet[2], seq);
    sfu::rtp::store32(&packet[4], timestamp);
    sfu::rtp::store32(&packet[8], ssrc_);
    // RFC 6464 audio level (id 1, as offered): -20 dBov, voice.
    packet[12] = 0xBE;
    packet[13] = 0xDE;
    packet[14] = 0;
    packet[15] = 1;
    packet[16] = 0x10;
    packet[17] = 0x80 | 20;
    std::memcpy(&packet[20], opus.data(), opus.size());
    auto length = sender_->protect(packet, 20 + opus.size());
    if (!length) return false;
    send(std::span<const std::uint8_t>(packet.data(), *length));
    return true;
  }

  static constexpr std::uint16_t probe_sequence = 1000;
  std::uint64_t received() const { return received_; }
  std::uint64_t decoded_frames() const { return decoded_frames_; }
  std::uint64_t loud_frames() const { return loud_frames_; }
  std::uint64_t decode_errors() const { return decode_errors_; }
  std::vector<float> latencies_us;

 private:
  Role role_;
  const sfu::dtls::DtlsContext& context_;
  bool decode_;
  std::string setup_;  // what the offer says: actpass (browsers), active or passive
  bool data_ = false;  // offers the data channel section (slides mode)
  std::unique_ptr<sfu::datachannel::DataChannels> channels_;
  std::optional<std::uint16_t> slides_stream_;
  bool checks_bytes_ = false;
  bool data_failed_ = false;
  int fd_ = -1;
  std::string ufrag_, pwd_, remote_ufrag_;
  std::uint32_t ssrc_ = 0;
  stun::ShortTermKey key_{};
  SocketAddress sfu_{};
  std::unique_ptr<sfu::dtls::DtlsTransport> dtls_;
  std::optional<sfu::srtp::SrtpSender> sender_;
  std::optional<sfu::srtp::SrtpReceiver> receiver_;
  OpusDecoder* decoder_ = nullptr;
  net::RecvBatch recv_;
  bool srtp_ready_ = false;
  bool failed_ = false;
  Clock::time_point last_check_{};
  bool have_offset_ = false;
  std::uint16_t seq_offset_ = 0;
  std::uint64_t received_ = 0, decoded_frames_ = 0, loud_frames_ = 0, decode_errors_ = 0;
};

// ---------------------------------------------------------------------------------------------

struct Options {
  std::string mode = "sfu";
  std::string signaling = "http://127.0.0.1:8080";
  std::string room = "load";
  std::string token;
  int guests = 100;
  int decode = 10;
  double seconds = 10;
  int parallel = 50;
  int podium_pid = 0;
  int sender_cpu = -1;
  std::string setup = "actpass";
  std::uint64_t slide_bytes = 5'000'000;
  double timeout = 120;
};

class EventLoop {
 public:
  EventLoop() : epoll_(::epoll_create1(0)) {}
  ~EventLoop() { ::close(epoll_); }
  void add(Peer& peer) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = &peer;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, peer.fd(), &event);
  }
  // Handles readiness for up to `timeout_ms`.
  void poll(int timeout_ms, const std::vector<Clock::time_point>* sent_at) {
    std::array<epoll_event, 256> events{};
    int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout_ms);
    const auto now = Clock::now();
    for (int i = 0; i < n; ++i) static_cast<Peer*>(events[i].data.ptr)->on_readable(now, sent_at);
  }

 private:
  int epoll_;
};

// Posts the peer's offer (WHIP or WHEP at `path`) and takes the answer; the peer joins `loop`.
bool connect_peer(EventLoop& loop, const Url& url, const Options& options,
                  const sfu::dtls::Certificate& certificate, Peer& peer, const std::string& path) {
  auto response = http_request(bhttp::verb::post, url, path, peer.offer(certificate.fingerprint()),
                               options.token);
  peer.location = response.location;
  if (response.status != 201 || !peer.accept_answer(response.body, Clock::now())) {
    std::fprintf(stderr, "podium-load: %s answered %d: %s\n", path.c_str(), response.status,
                 response.body.substr(0, 200).c_str());
    return false;
  }
  loop.add(peer);
  return true;
}

// Drives the loop until every peer in [first, end) is connected or failed (or 30 s passed),
// re-sending checks for peers whose ICE has not come up yet.
void settle(EventLoop& loop, std::vector<std::unique_ptr<Peer>>& peers, std::size_t first) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (;;) {
    loop.poll(10, nullptr);
    const auto now = Clock::now();
    sfu::sctp::handle_sctp_timers(now);
    bool done = true;
    for (std::size_t i = first; i < peers.size(); ++i) {
      Peer& peer = *peers[i];
      if (peer.connected() || peer.failed()) continue;
      done = false;
      peer.on_timeout(now);
      if (now - peer.last_check() > std::chrono::milliseconds(500)) peer.send_check(now);
    }
    if (done || now > deadline) return;
  }
}

// Ends every session (WHIP/WHEP DELETE), as a client leaving would; returns the failures.
int delete_sessions(const Url& url, const Options& options,
                    std::initializer_list<const std::vector<std::unique_ptr<Peer>>*> lists) {
  int failures = 0;
  for (const auto* list : lists) {
    for (const auto& peer : *list) {
      if (peer->location.empty()) continue;
      if (http_request(bhttp::verb::delete_, url, peer->location, "", options.token).status !=
          200) {
        ++failures;
      }
    }
  }
  return failures;
}

// The clients' DTLS certificate and context (one for every peer of a run).
struct ClientDtls {
  std::optional<sfu::dtls::Certificate> certificate;
  std::optional<sfu::dtls::DtlsContext> context;
  static std::optional<ClientDtls> create() {
    auto certificate = sfu::dtls::Certificate::generate();
    if (!certificate) return fail_setup();
    auto context = sfu::dtls::DtlsContext::create(*certificate);
    if (!context) return fail_setup();
    ClientDtls dtls;
    dtls.certificate.emplace(std::move(*certificate));
    dtls.context.emplace(std::move(*context));
    return dtls;
  }
  static std::nullopt_t fail_setup() {
    std::fprintf(stderr, "podium-load: DTLS setup failed\n");
    return std::nullopt;
  }
};

int run_sfu(const Options& options) {
  auto dtls = ClientDtls::create();
  if (!dtls) return 1;
  const auto& certificate = dtls->certificate;
  const auto& context = dtls->context;
  const Url url = parse_url(options.signaling);
  EventLoop loop;
  std::vector<std::unique_ptr<Peer>> guests;
  const double rss_before = options.podium_pid ? process_rss_mib(options.podium_pid) : 0;
  const auto setup_start = Clock::now();
  int setup_failures = 0;

  // Guests join in waves, before the presenter (as an audience waiting for the talk).
  for (int start = 0; start < options.guests; start += options.parallel) {
    const std::size_t first = guests.size();
    for (int i = start; i < std::min(options.guests, start + options.parallel); ++i) {
      auto peer = std::make_unique<Peer>(Role::guest, *context, i < options.decode, options.setup);
      if (connect_peer(loop, url, options, *certificate, *peer, "/whep/" + options.room)) {
        guests.push_back(std::move(peer));
      } else {
        ++setup_failures;
      }
    }
    settle(loop, guests, first);
  }
  std::vector<std::unique_ptr<Peer>> presenters;
  presenters.push_back(std::make_unique<Peer>(Role::presenter, *context, false, options.setup));
  Peer& presenter = *presenters.front();
  if (!connect_peer(loop, url, options, *certificate, presenter, "/whip/" + options.room)) {
    return 1;
  }
  settle(loop, presenters, 0);
  const double setup_seconds = seconds_since(setup_start);
  std::size_t connected = 0;
  for (const auto& g : guests) connected += g->connected() ? 1 : 0;
  if (!presenter.connected()) {
    std::fprintf(stderr, "podium-load: the presenter did not connect\n");
    return 1;
  }
  const double rss_after = options.podium_pid ? process_rss_mib(options.podium_pid) : 0;

  // Let the SFU see every guest's DTLS complete, then stream.
  for (int i = 0; i < 50; ++i) loop.poll(10, nullptr);

  int error = 0;
  OpusEncoder* encoder = opus_encoder_create(kSampleRate, 1, OPUS_APPLICATION_VOIP, &error);
  opus_encoder_ctl(encoder, OPUS_SET_BITRATE(32000));
  std::vector<Clock::time_point> sent_at(kSendRing);
  std::array<opus_int16, kFrameSamples> pcm{};
  std::array<std::uint8_t, 1275> opus{};
  std::uint64_t sample_index = 0;
  auto encode_frame = [&]() {
    for (int i = 0; i < kFrameSamples; ++i, ++sample_index) {
      pcm[static_cast<std::size_t>(i)] = static_cast<opus_int16>(
          0.3 * 32767 * std::sin(2 * M_PI * 440.0 * double(sample_index) / kSampleRate));
    }
    return opus_encode(encoder, pcm.data(), kFrameSamples, opus.data(),
                       static_cast<opus_int32>(opus.size()));
  };

  // The probe: one packet, then a pause long enough that it is every guest's first packet.
  std::uint16_t seq = Peer::probe_sequence;
  std::uint32_t timestamp = 12345;
  int bytes = encode_frame();
  presenter.send_rtp(seq, timestamp, std::span(opus.data(), static_cast<std::size_t>(bytes)), true);
  for (int i = 0; i < 30; ++i) loop.poll(10, nullptr);

  const double cpu_before = options.podium_pid ? process_cpu_seconds(options.podium_pid) : 0;
  const auto stream_start = Clock::now();
  std::uint64_t sent = 0;
  auto next_send = stream_start;
  auto next_consent = stream_start + std::chrono::seconds(5);
  const auto stream_end = stream_start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(options.seconds));
  while (Clock::now() < stream_end) {
    const auto now = Clock::now();
    if (now >= next_send) {
      ++seq;
      timestamp += kFrameSamples;
      bytes = encode_frame();
      sent_at[seq % kSendRing] = Clock::now();
      if (presenter.send_rtp(seq, timestamp,
                             std::span(opus.data(), static_cast<std::size_t>(bytes)), false)) {
        ++sent;
      }
      next_send += std::chrono::milliseconds(20);
    }
    if (now >= next_consent) {
      // RFC 7675: keep consent fresh on every session.
      presenter.send_check(now);
      for (auto& g : guests) g->send_check(now);
      next_consent = now + std::chrono::seconds(5);
    }
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_send - Clock::now());
    loop.poll(static_cast<int>(std::max<std::int64_t>(0, wait.count())), &sent_at);
  }
  const double cpu_after = options.podium_pid ? process_cpu_seconds(options.podium_pid) : 0;
  // Stragglers.
  for (int i = 0; i < 20; ++i) loop.poll(10, &sent_at);
  opus_encoder_destroy(encoder);
  const int delete_failures = delete_sessions(url, options, {&presenters, &guests});

  // Per-guest loss over the streamed packets (the probe excluded).
  std::vector<double> loss;
  std::vector<float> latencies;
  std::uint64_t decoded = 0, loud = 0, decode_errors = 0, received_total = 0;
  for (const auto& g : guests) {
    if (!g->connected()) continue;
    const std::uint64_t got = g->received() > 0 ? g->received() - 1 : 0;
    received_total += got;
    loss.push_back(sent ? 1.0 - std::min<double>(1.0, double(got) / double(sent)) : 1.0);
    latencies.insert(latencies.end(), g->latencies_us.begin(), g->latencies_us.end());
    decoded += g->decoded_frames();
    loud += g->loud_frames();
    decode_errors += g->decode_errors();
  }
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) -> double {
    if (latencies.empty()) return 0;
    return latencies[std::min(latencies.size() - 1,
                              static_cast<std::size_t>(p * double(latencies.size())))];
  };
  const double mean_loss =
      loss.empty() ? 1.0 : std::accumulate(loss.begin(), loss.end(), 0.0) / double(loss.size());
  const double max_loss = loss.empty() ? 1.0 : *std::max_element(loss.begin(), loss.end());
  const double guest_packets = double(received_total);
  nlohmann::json result{
      {"mode", "sfu"},
      {"guests", options.guests},
      {"guests_connected", connected},
      {"setup_failures", setup_failures},
      {"delete_failures", delete_failures},
      {"setup_seconds", setup_seconds},
      {"packets_sent", sent},
      {"guest_packets_received", received_total},
      {"loss_mean", mean_loss},
      {"loss_max", max_loss},
      {"latency_p50_us", percentile(0.50)},
      {"latency_p99_us", percentile(0.99)},
      {"decoded_frames", decoded},
      {"loud_frames", loud},
      {"decode_errors", decode_errors},
      {"decode_sample", std::min(options.decode, options.guests)},
  };
  if (options.podium_pid) {
    const double cpu = cpu_after - cpu_before;
    result["podium_cpu_seconds"] = cpu;
    result["podium_cpu_us_per_guest_packet"] = guest_packets > 0 ? cpu * 1e6 / guest_packets : 0.0;
    result["podium_rss_mib_per_guest"] =
        connected ? (rss_after - rss_before) / double(connected) : 0.0;
    result["podium_rss_mib"] = process_rss_mib(options.podium_pid);
  }
  std::printf("%s\n", result.dump().c_str());
  return 0;
}

double process_peak_rss_mib(int pid) {
  return process_status_mib(pid, "VmHWM:");
}

// Slides: one presenter uploads one slide of --slide-bytes over its `slides` data channel and
// shows it; every guest receives it from the SFU. Reports the time until the last guest has the
// slide and its show, the aggregate delivered rate and podium's CPU per delivered GB.
int run_slides(const Options& options) {
  auto dtls = ClientDtls::create();
  if (!dtls) return 1;
  const auto& certificate = dtls->certificate;
  const auto& context = dtls->context;
  const Url url = parse_url(options.signaling);
  EventLoop loop;
  const auto now = [] { return Clock::now(); };
  // Polls the sockets and runs SCTP's timers until `done` or `seconds` passed.
  auto drive = [&](double seconds, const auto& done) {
    const auto deadline =
        now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (!done() && now() < deadline) {
      loop.poll(2, nullptr);
      sfu::sctp::handle_sctp_timers(now());
    }
  };
  std::vector<std::unique_ptr<Peer>> guests;
  int setup_failures = 0;
  for (int start = 0; start < options.guests; start += options.parallel) {
    const std::size_t first = guests.size();
    for (int i = start; i < std::min(options.guests, start + options.parallel); ++i) {
      auto peer = std::make_unique<Peer>(Role::guest, *context, false, options.setup, true);
      peer->check_bytes(i < options.decode);
      if (connect_peer(loop, url, options, *certificate, *peer, "/whep/" + options.room)) {
        guests.push_back(std::move(peer));
      } else {
        ++setup_failures;
      }
    }
    settle(loop, guests, first);
  }
  auto ready_guests = [&] {
    std::size_t ready = 0;
    for (const auto& g : guests) ready += g->slides_stream() ? 1 : 0;
    return ready;
  };
  drive(15, [&] { return ready_guests() == guests.size(); });
  std::vector<std::unique_ptr<Peer>> presenters;
  presenters.push_back(
      std::make_unique<Peer>(Role::presenter, *context, false, options.setup, true));
  Peer& presenter = *presenters.front();
  if (!connect_peer(loop, url, options, *certificate, presenter, "/whip/" + options.room)) {
    return 1;
  }
  settle(loop, presenters, 0);
  drive(10, [&] { return presenter.slides_stream().has_value(); });
  if (!presenter.slides_stream()) {
    std::fprintf(stderr, "podium-load: the presenter's slides channel did not open\n");
    return 1;
  }
  const std::size_t ready = ready_guests();
  drive(0.3, [] { return false; });  // the presenter learns the guest count

  const double cpu_before = options.podium_pid ? process_cpu_seconds(options.podium_pid) : 0;
  rusage usage_before{};
  ::getrusage(RUSAGE_SELF, &usage_before);
  auto& channels = *presenter.channels();
  const std::uint16_t stream = *presenter.slides_stream();
  const auto start = now();
  nlohmann::json header{{"type", "slide"},
                        {"id", "bench"},
                        {"size", options.slide_bytes},
                        {"mime", "image/jpeg"},
                        {"name", "bench.jpg"}};
  channels.send_text(stream, header.dump());
  std::vector<std::uint8_t> chunk(65536);
  std::uint64_t offset = 0;
  bool shown = false;
  Clock::time_point uploaded{};
  auto next_consent = start + std::chrono::seconds(5);
  std::size_t complete = 0;
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(options.timeout));
  while (now() < deadline) {
    while (offset < options.slide_bytes) {
      const std::size_t n = static_cast<std::size_t>(
          std::min<std::uint64_t>(chunk.size(), options.slide_bytes - offset));
      if (channels.writable() < n) break;
      for (std::size_t i = 0; i < n; ++i) chunk[i] = slide_byte(offset + i);
      if (channels.send_binary(stream, std::span(chunk.data(), n)) != sfu::sctp::SendStatus::sent) {
        break;
      }
      offset += n;
    }
    if (offset == options.slide_bytes && !shown) {
      channels.send_text(stream, R"({"type":"show","id":"bench"})");
      shown = true;
      uploaded = now();
    }
    loop.poll(1, nullptr);
    const auto t = now();
    sfu::sctp::handle_sctp_timers(t);
    if (t >= next_consent) {  // RFC 7675: keep consent fresh on every session
      presenter.send_check(t);
      for (auto& g : guests) g->send_check(t);
      next_consent = t + std::chrono::seconds(5);
    }
    complete = 0;
    for (const auto& g : guests) complete += g->shown == "bench" ? 1 : 0;
    if (shown && complete == ready) break;
  }
  const double cpu_after = options.podium_pid ? process_cpu_seconds(options.podium_pid) : 0;
  rusage usage_after{};
  ::getrusage(RUSAGE_SELF, &usage_after);
  drive(0.5, [] { return false; });  // the last `delivered` reaches the presenter

  std::vector<double> times;
  std::uint64_t corrupt = 0, incomplete = 0;
  for (const auto& g : guests) {
    corrupt += g->slide_corrupt;
    if (g->shown != "bench" || g->slide_received != options.slide_bytes) {
      ++incomplete;
      continue;
    }
    times.push_back(std::chrono::duration<double>(g->show_at - start).count());
  }
  std::sort(times.begin(), times.end());
  const double last = times.empty() ? 0 : times.back();
  const double delivered_bytes = double(times.size()) * double(options.slide_bytes);
  auto cpu_of = [](const rusage& u) {
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  nlohmann::json result{
      {"mode", "slides"},
      {"guests", options.guests},
      {"guests_ready", ready},
      {"setup_failures", setup_failures},
      {"slide_bytes", options.slide_bytes},
      {"guests_complete", times.size()},
      {"guests_incomplete", incomplete},
      {"corrupt_bytes", corrupt},
      {"checked_guests", std::min(options.decode, options.guests)},
      {"upload_seconds", shown ? std::chrono::duration<double>(uploaded - start).count() : -1.0},
      {"first_guest_seconds", times.empty() ? 0 : times.front()},
      {"median_guest_seconds", times.empty() ? 0 : times[times.size() / 2]},
      {"last_guest_seconds", last},
      {"delivered_mbit_per_s", last > 0 ? delivered_bytes * 8 / last / 1e6 : 0.0},
      {"presenter_delivered_report", presenter.delivered_guests},
      {"presenter_errors", presenter.errors},
      {"load_cpu_seconds", cpu_of(usage_after) - cpu_of(usage_before)},
  };
  if (options.podium_pid) {
    const double cpu = cpu_after - cpu_before;
    result["podium_cpu_seconds"] = cpu;
    result["podium_cpu_seconds_per_gb"] = delivered_bytes > 0 ? cpu / (delivered_bytes / 1e9) : 0.0;
    result["podium_peak_rss_mib"] = process_peak_rss_mib(options.podium_pid);
    result["podium_rss_mib"] = process_rss_mib(options.podium_pid);
  }
  result["delete_failures"] = delete_sessions(url, options, {&presenters, &guests});
  std::printf("%s\n", result.dump().c_str());
  return incomplete == 0 && corrupt == 0 ? 0 : 2;
}

// The SCTP floor: usrsctp alone, no DTLS, no UDP, no SFU. N associations whose two ends live in
// this process, wired back to back in memory; one end of each sends the slide to the other in
// 64 KiB messages, the way the SFU feeds a guest. The process's CPU time covers both ends'
// SCTP work, a floor for what any usrsctp-based fan-out of the same bytes costs.
class WiredEnd final : public sfu::datachannel::DataChannelObserver {
 public:
  explicit WiredEnd(bool client) {
    sfu::datachannel::DataChannelOptions options;
    options.dtls_client = client;
    options.remote_max_message_size = 262144;
    options.sctp.send_buffer = 2 * 1024 * 1024;
    options.sctp.receive_buffer = 1024 * 1024;
    channels = std::make_unique<sfu::datachannel::DataChannels>(options, *this);
  }
  ~WiredEnd() override {
    closing = true;
    channels.reset();
  }
  void on_data_packet(std::span<const std::uint8_t> packet) override {
    if (!closing) outbox.emplace_back(packet.begin(), packet.end());
  }
  void on_data_connected() override { connected = true; }
  void on_data_closed() override {}
  void on_channel_open(std::uint16_t stream, const sfu::datachannel::Channel&) override {
    this->stream = stream;
  }
  void on_channel_message(std::uint16_t, bool, sfu::sctp::Message&& message) override {
    received += message.size;
  }
  void on_data_writable() override {}
  std::unique_ptr<sfu::datachannel::DataChannels> channels;
  std::vector<std::vector<std::uint8_t>> outbox;
  std::optional<std::uint16_t> stream;
  std::uint64_t received = 0;
  bool connected = false, closing = false;
};

int run_sctp_floor(const Options& options) {
  struct Pair {
    WiredEnd sender{false}, receiver{true};
    std::uint64_t offset = 0;
  };
  std::vector<std::unique_ptr<Pair>> pairs;
  auto exchange = [](WiredEnd& from, WiredEnd& to) {
    auto packets = std::move(from.outbox);
    from.outbox.clear();
    for (const auto& packet : packets) to.channels->receive_packet(packet);
    return !packets.empty();
  };
  for (int i = 0; i < options.guests; ++i) {
    pairs.push_back(std::make_unique<Pair>());
    pairs.back()->sender.channels->start();
    pairs.back()->receiver.channels->start();
  }
  for (int round = 0; round < 1000; ++round) {
    bool busy = false;
    for (auto& p : pairs) {
      busy |= exchange(p->sender, p->receiver);
      busy |= exchange(p->receiver, p->sender);
    }
    if (!busy) break;
  }
  std::uint16_t stream = 0;
  for (auto& p : pairs) {
    auto opened = p->sender.channels->open("slides");
    if (!opened) {
      std::fprintf(stderr, "podium-load: SCTP floor association did not connect\n");
      return 1;
    }
    stream = *opened;
  }
  std::vector<std::uint8_t> chunk(65536);
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = slide_byte(i);
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  const auto start = Clock::now();
  std::size_t done = 0;
  while (done < pairs.size()) {
    done = 0;
    for (auto& p : pairs) {
      while (p->offset < options.slide_bytes) {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(chunk.size(), options.slide_bytes - p->offset));
        if (p->sender.channels->send_binary(stream, std::span(chunk.data(), n)) !=
            sfu::sctp::SendStatus::sent) {
          break;
        }
        p->offset += n;
      }
      exchange(p->sender, p->receiver);
      exchange(p->receiver, p->sender);
      done += p->receiver.received >= options.slide_bytes ? 1 : 0;
    }
    sfu::sctp::handle_sctp_timers(Clock::now());
    if (seconds_since(start) > options.timeout) break;
  }
  const double elapsed = seconds_since(start);
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  auto cpu_of = [](const rusage& u) {
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  const double cpu = cpu_of(after) - cpu_of(before);
  const double bytes = double(done) * double(options.slide_bytes);
  nlohmann::json result{{"mode", "sctp-floor"},
                        {"pairs", options.guests},
                        {"complete", done},
                        {"seconds", elapsed},
                        {"cpu_seconds", cpu},
                        {"cpu_seconds_per_gb", bytes > 0 ? cpu / (bytes / 1e9) : 0.0},
                        {"mbit_per_s", elapsed > 0 ? bytes * 8 / elapsed / 1e6 : 0.0}};
  std::printf("%s\n", result.dump().c_str());
  return done == pairs.size() ? 0 : 2;
}

// The floor: what sending the same packets to the same number of sockets costs without an SFU.
// A child process sends one pre-encrypted 140-byte packet per destination every 20 ms with
// sendmmsg (64 per call); the parent receives on the N sockets and counts.
int run_floor(const Options& options) {
  std::vector<int> sockets;
  std::vector<SocketAddress> destinations;
  for (int i = 0; i < options.guests; ++i) {
    SocketAddress bound;
    sockets.push_back(bind_loopback_udp(&bound));
    destinations.push_back(bound);
  }
  const int frames = static_cast<int>(options.seconds * 50);
  pid_t child = ::fork();
  if (child == 0) {
    if (options.sender_cpu >= 0) {
      // Like podium in the benchmark: the sender on its own core, the receivers on another.
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(options.sender_cpu, &set);
      ::sched_setaffinity(0, sizeof(set), &set);
    }
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    int size = 8 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    std::array<std::uint8_t, 140> packet{};
    random_bytes(packet);
    packet[0] = 0x80;
    packet[1] = 111;
    auto batch = std::make_unique<net::BasicSendBatch<16>>();
    auto next = Clock::now();
    for (int f = 0; f < frames; ++f) {
      std::this_thread::sleep_until(next);
      for (const auto& destination : destinations) {
        auto& entry = batch->next();
        entry.fd = fd;
        entry.destination = destination;
        entry.payload = packet;
        batch->commit();
      }
      batch->flush();
      next += std::chrono::milliseconds(20);
    }
    ::_exit(0);
  }
  std::vector<std::uint64_t> received(sockets.size());
  int epoll = ::epoll_create1(0);
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, sockets[i], &event);
  }
  net::RecvBatch batch;
  int status = 0;
  bool child_done = false;
  std::array<epoll_event, 256> events{};
  const auto give_up = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options.seconds + 5));
  // Counts everything readable within 10 ms.
  auto receive_ready = [&] {
    int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 10);
    for (int i = 0; i < n; ++i) {
      const std::size_t index = events[i].data.u64;
      for (int got; (got = batch.receive(sockets[index])) > 0;) {
        received[index] += static_cast<std::uint64_t>(got);
      }
    }
  };
  while (Clock::now() < give_up) {
    receive_ready();
    if (!child_done && ::waitpid(child, &status, WNOHANG) == child) {
      child_done = true;
      for (int k = 0; k < 10; ++k) receive_ready();  // drain what is still queued, then stop
      break;
    }
  }
  if (!child_done) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
  }
  rusage usage{};
  ::getrusage(RUSAGE_CHILDREN, &usage);
  const double cpu = double(usage.ru_utime.tv_sec) + double(usage.ru_utime.tv_usec) / 1e6 +
                     double(usage.ru_stime.tv_sec) + double(usage.ru_stime.tv_usec) / 1e6;
  std::uint64_t total = std::accumulate(received.begin(), received.end(), std::uint64_t{0});
  double max_loss = 0, sum_loss = 0;
  for (auto r : received) {
    double l = 1.0 - std::min<double>(1.0, double(r) / frames);
    max_loss = std::max(max_loss, l);
    sum_loss += l;
  }
  for (int fd : sockets) ::close(fd);
  ::close(epoll);
  nlohmann::json result{{"mode", "floor"},
                        {"guests", options.guests},
                        {"packets_sent", frames},
                        {"guest_packets_received", total},
                        {"loss_mean", sockets.empty() ? 0.0 : sum_loss / double(sockets.size())},
                        {"loss_max", max_loss},
                        {"floor_cpu_seconds", cpu},
                        {"floor_cpu_us_per_guest_packet", total ? cpu * 1e6 / double(total) : 0.0}};
  std::printf("%s\n", result.dump().c_str());
  return 0;
}

}  // namespace podium::load

int main(int argc, char** argv) {
  podium::load::Options options;
  CLI::App app{"podium-load: WHIP/WHEP load against a running podium, or the sendmmsg floor"};
  app.add_option("--mode", options.mode,
                 "sfu (audio fan-out, default), slides (one slide to every guest), floor "
                 "(sendmmsg, the audio baseline) or sctp-floor (usrsctp alone, the slides "
                 "baseline)")
      ->check(CLI::IsMember({"sfu", "slides", "floor", "sctp-floor"}));
  app.add_option("--slide-bytes", options.slide_bytes, "slides: the slide's size")
      ->check(CLI::Range(1.0, 1e9));
  app.add_option("--timeout", options.timeout, "slides: give up after this many seconds");
  app.add_option("--signaling", options.signaling, "signaling base URL");
  app.add_option("--room", options.room, "room name");
  app.add_option("--token", options.token, "Bearer room token (closed rooms)");
  app.add_option("--guests", options.guests, "number of WHEP guests")->check(CLI::Range(1, 20000));
  app.add_option("--decode", options.decode, "guests that decrypt and decode every packet");
  app.add_option("--seconds", options.seconds, "streaming time")->check(CLI::Range(1.0, 600.0));
  app.add_option("--parallel", options.parallel, "guests set up at once")
      ->check(CLI::Range(1, 1000));
  app.add_option("--podium-pid", options.podium_pid, "podium's PID, for its CPU time and RSS");
  app.add_option("--setup", options.setup,
                 "a=setup of the offers: actpass (the SFU answers passive and is the DTLS "
                 "server), passive (the SFU is the DTLS client) or active")
      ->check(CLI::IsMember({"actpass", "active", "passive"}));
  app.add_option("--sender-cpu", options.sender_cpu, "floor: pin the sending process to this CPU");
  CLI11_PARSE(app, argc, argv);
  try {
    if (options.mode == "floor") return podium::load::run_floor(options);
    if (options.mode == "slides") return podium::load::run_slides(options);
    if (options.mode == "sctp-floor") return podium::load::run_sctp_floor(options);
    return podium::load::run_sfu(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "podium-load: %s\n", e.what());
    return 1;
  }
}
