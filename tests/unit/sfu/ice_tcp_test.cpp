// The SFU's ICE-TCP (RFC 6544) in-process: SfuServer with sfu.tcp_port 0 (the OS chooses), a
// plain TCP socket as the browser's active candidate, and real connectivity checks (STUN built
// with the relay's codec) framed as RFC 4571 says. What is checked: the passive candidate in the
// answer, checks answered on the connection (split across writes, several in one write), the
// connection bound to the session of its first check, the refusals (first frame not a check,
// unknown ufrag, framing errors) each closing the connection with its metric, the two ways
// a connection and a session end each other (a session's end still delivers its close_notify,
// over a real DTLS handshake on the connection), the connection limits (all, unbound per source
// address, per session) and MediaSendBatch never sending a stream's packet on UDP. (A browser over
// ICE-TCP is tests/integration/test_sfu_ice_tcp.py.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "dtls/certificate.hpp"
#include "dtls/dtls_context.hpp"
#include "dtls/dtls_transport.hpp"
#include "loopback_udp.hpp"
#include "podium/monitoring/metrics.hpp"
#include "podium/sfu/sfu_server.hpp"
#include "podium/stun/credentials.hpp"
#include "podium/stun/fingerprint.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"
#include "registry_metric.hpp"
#include "sdp/session_description.hpp"
#include "sdp_test_data.hpp"
#include "transport/ice_tcp.hpp"
#include "transport/media_send_batch.hpp"

namespace podium::sfu {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

config::SfuConfig tcp_config() {
  config::SfuConfig config;
  config.listen_ip = boost::asio::ip::make_address("127.0.0.1");
  config.udp_port = 0;
  config.tcp_port = 0;
  config.max_sessions = 100;
  config.consent_timeout = 30s;
  return config;
}

using test_support::Labels;
using test_support::metric;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 4s) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

struct Running {
  explicit Running(const config::SfuConfig& config = tcp_config()) : server(config, metrics) {
    server.start();
  }
  double value(const std::string& name, const Labels& labels = {}) {
    return metric(metrics.registry(), name, labels);
  }
  monitoring::Metrics metrics{"test"};
  SfuServer server;
};

struct Created {
  SessionAnswer answer;
  sdp::SessionDescription description;
  std::string local_ufrag, local_pwd, remote_ufrag;
};

// `replace_fingerprint`: the offer's a=fingerprint lines name this sha-256 value instead (the
// test's own certificate, for a real DTLS handshake).
Created create(Running& sfu, const std::string& file = "chromium_156_whep_offer.sdp",
               const std::string& replace_fingerprint = "") {
  SessionOffer offer;
  offer.role = file.find("whip") != std::string::npos ? SessionRole::presenter : SessionRole::guest;
  offer.room = "room";
  offer.sdp = sdp::testing::load(file);
  if (!replace_fingerprint.empty()) {
    const std::string key = "a=fingerprint:sha-256 ";
    for (auto at = offer.sdp.find(key); at != std::string::npos; at = offer.sdp.find(key, at)) {
      at += key.size();
      offer.sdp.replace(at, offer.sdp.find("\r\n", at) - at, replace_fingerprint);
    }
  }
  auto answer = sfu.server.sessions().create_session(offer);
  EXPECT_TRUE(answer.ok()) << (answer.ok() ? "" : answer.error().reason);
  if (!answer.ok()) return {};
  auto parsed = sdp::parse(answer->sdp);
  auto parsed_offer = sdp::parse(offer.sdp);
  EXPECT_TRUE(parsed.ok() && parsed_offer.ok());
  Created c{*answer, *parsed, "", "", ""};
  for (const auto& m : parsed->media) {
    if (m.port == 0) continue;
    c.local_ufrag = parsed->effective_ice_ufrag(m).value_or("");
    c.local_pwd = parsed->effective_ice_pwd(m).value_or("");
    break;
  }
  for (const auto& m : parsed_offer->media) {
    c.remote_ufrag = parsed_offer->effective_ice_ufrag(m).value_or("");
    break;
  }
  return c;
}

std::vector<std::uint8_t> check(const Created& s, std::uint8_t id, bool use_candidate,
                                const std::string& ufrag = "") {
  stun::TransactionId transaction{};
  transaction.fill(id);
  std::vector<std::uint8_t> buffer(512);
  stun::MessageBuilder builder(buffer);
  builder.start(stun::Method::kBinding, stun::Class::kRequest, transaction);
  builder.add_username((ufrag.empty() ? s.local_ufrag : ufrag) + ":" + s.remote_ufrag);
  builder.add_u64(stun::AttributeType::kIceControlling, 0x0102030405060708ull);
  builder.add_u32(stun::AttributeType::kPriority, 1518280447);
  if (use_candidate) builder.add_flag(stun::AttributeType::kUseCandidate);
  builder.add_message_integrity(stun::short_term_key(s.local_pwd).span());
  builder.add_fingerprint();
  auto bytes = builder.finish();
  EXPECT_TRUE(bytes.ok());
  return {bytes->begin(), bytes->end()};
}

std::vector<std::uint8_t> frame(const std::vector<std::uint8_t>& packet) {
  std::vector<std::uint8_t> out(2 + packet.size());
  out[0] = static_cast<std::uint8_t>(packet.size() >> 8);
  out[1] = static_cast<std::uint8_t>(packet.size());
  if (!packet.empty()) std::memcpy(out.data() + 2, packet.data(), packet.size());
  return out;
}

// The browser's side of an ICE-TCP connection (an active candidate).
class TcpPeer {
 public:
  // `source`: the local IPv4 address to connect from (any 127.x.y.z is loopback).
  explicit TcpPeer(std::uint16_t port, const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (source) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &local.sin_addr);
      ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local));
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
    sockaddr_in local{};
    socklen_t length = sizeof(local);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    local_port_ = ntohs(local.sin_port);
  }
  ~TcpPeer() { close(); }
  TcpPeer(const TcpPeer&) = delete;
  TcpPeer& operator=(const TcpPeer&) = delete;

  bool connected() const { return connected_; }
  std::uint16_t local_port() const { return local_port_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool write(const std::vector<std::uint8_t>& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // The next RFC 4571 frame, or nothing after `wait` or at the end of the stream.
  std::optional<std::vector<std::uint8_t>> read_frame(std::chrono::milliseconds wait = 2s) {
    std::uint8_t length[2];
    if (!read_exactly(length, 2, wait)) return std::nullopt;
    std::vector<std::uint8_t> packet(static_cast<std::size_t>(length[0] << 8 | length[1]));
    if (!read_exactly(packet.data(), packet.size(), wait)) return std::nullopt;
    return packet;
  }
  // Whether the SFU closed the connection within `wait` (frames before that are skipped).
  bool closed_by_sfu(std::chrono::milliseconds wait = 3s) {
    const auto deadline = Clock::now() + wait;
    std::uint8_t byte[256];
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(fd_, byte, sizeof(byte), 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    }
    return false;
  }

 private:
  bool read_exactly(std::uint8_t* out, std::size_t n, std::chrono::milliseconds wait) {
    const auto deadline = Clock::now() + wait;
    std::size_t got = 0;
    while (got < n) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      const ssize_t r = ::recv(fd_, out + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::uint16_t local_port_ = 0;
};

struct Response {
  stun::Class cls;
  stun::TransactionId id;
  std::optional<stun::Address> mapped;
  bool integrity_ok = false;
};
std::optional<Response> response(const std::vector<std::uint8_t>& packet, const Created& s) {
  auto message = stun::MessageView::parse(packet);
  EXPECT_TRUE(message.ok());
  if (!message) return std::nullopt;
  Response r{message->cls(), message->transaction_id(), {}, false};
  if (auto mapped = message->xor_address(stun::AttributeType::kXorMappedAddress)) {
    r.mapped = *mapped;
  }
  r.integrity_ok =
      stun::verify_message_integrity(*message, stun::short_term_key(s.local_pwd).span()).ok() &&
      stun::verify_fingerprint(*message).ok();
  return r;
}

double closed(Running& sfu, const char* reason) {
  return sfu.value("podium_sfu_tcp_connections_closed_total", {{"reason", reason}});
}

TEST(SfuIceTcp, OffWithoutTcpPort) {
  auto config = tcp_config();
  config.tcp_port.reset();
  Running sfu(config);
  EXPECT_EQ(sfu.server.tcp_port(), 0);
  Created s = create(sfu);
  for (const auto& m : s.description.media) {
    for (const auto& c : m.candidates) EXPECT_NE(c.transport, sdp::CandidateTransport::tcp);
  }
}

TEST(SfuIceTcp, AnswerCarriesThePassiveCandidate) {
  Running sfu;
  ASSERT_NE(sfu.server.tcp_port(), 0);
  Created s = create(sfu);
  const sdp::Candidate* udp = nullptr;
  const sdp::Candidate* tcp = nullptr;
  for (const auto& m : s.description.media) {
    for (const auto& c : m.candidates) {
      if (c.transport == sdp::CandidateTransport::udp) udp = &c;
      if (c.transport == sdp::CandidateTransport::tcp) tcp = &c;
    }
  }
  ASSERT_TRUE(udp && tcp) << s.answer.sdp;
  EXPECT_EQ(udp->port, sfu.server.udp_port());
  EXPECT_EQ(tcp->port, sfu.server.tcp_port());
  EXPECT_EQ(tcp->address, "127.0.0.1");
  EXPECT_EQ(tcp->type, sdp::CandidateType::host);
  EXPECT_EQ(tcp->tcptype, sdp::TcpType::passive);
  // RFC 6544 section 4.2: local preference with direction-pref 4 (passive) in its top bits; the
  // SFU's TCP candidate ranks below its UDP one.
  EXPECT_EQ((tcp->priority >> 8) & 0xFFFF, (4u << 13) | 0x1FFFu);
  EXPECT_LT(tcp->priority, udp->priority);
  EXPECT_NE(tcp->foundation, udp->foundation);
}

TEST(SfuIceTcp, ChecksAreAnsweredOnTheConnection) {
  Running sfu;
  Created s = create(sfu);
  TcpPeer peer(sfu.server.tcp_port());
  ASSERT_TRUE(peer.connected());

  // The first check, split across three writes (the SFU must reassemble the frame).
  const auto first = frame(check(s, 1, false));
  ASSERT_TRUE(peer.write({first.begin(), first.begin() + 1}));
  std::this_thread::sleep_for(30ms);
  ASSERT_TRUE(peer.write({first.begin() + 1, first.begin() + 20}));
  std::this_thread::sleep_for(30ms);
  ASSERT_TRUE(peer.write({first.begin() + 20, first.end()}));
  auto r1 = peer.read_frame();
  ASSERT_TRUE(r1.has_value()) << "no framed response";
  auto ok = response(*r1, s);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->cls, stun::Class::kSuccessResponse);
  EXPECT_EQ(ok->id[0], 1);
  EXPECT_TRUE(ok->integrity_ok);
  ASSERT_TRUE(ok->mapped.has_value());
  EXPECT_EQ(ok->mapped->port, peer.local_port()) << "XOR-MAPPED-ADDRESS: the TCP source";

  // Two more in one write, the second nominating this pair; then a wrong ufrag on the bound
  // connection is dropped without closing it.
  auto both = frame(check(s, 2, false));
  const auto nominate = frame(check(s, 3, true));
  both.insert(both.end(), nominate.begin(), nominate.end());
  ASSERT_TRUE(peer.write(both));
  for (std::uint8_t id : {2, 3}) {
    auto r = peer.read_frame();
    ASSERT_TRUE(r.has_value());
    auto parsed = response(*r, s);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->cls, stun::Class::kSuccessResponse);
    EXPECT_EQ(parsed->id[0], id);
  }
  ASSERT_TRUE(peer.write(frame(check(s, 4, false, "otherufrag"))));
  EXPECT_FALSE(peer.read_frame(300ms).has_value());

  EXPECT_TRUE(eventually([&] {
    return sfu.value("podium_sfu_tcp_connections_total", {{"result", "accepted"}}) == 1 &&
           sfu.value("podium_sfu_tcp_connections", {{"state", "bound"}}) == 1 &&
           sfu.value("podium_sfu_tcp_frames_total", {{"direction", "in"}}) == 4 &&
           sfu.value("podium_sfu_tcp_frames_total", {{"direction", "out"}}) == 3 &&
           sfu.value("podium_sfu_ice_checks_total", {{"result", "accepted"}}) == 3 &&
           sfu.value("podium_sfu_dropped_datagrams_total", {{"reason", "unknown_ufrag"}}) == 1 &&
           sfu.value("podium_sfu_sessions", {{"ice", "connected"}, {"dtls", "new"}}) == 1;
  })) << "metrics";

  // Closing the session closes its connection.
  ASSERT_TRUE(sfu.server.sessions().close_session("room", s.answer.session_id).ok());
  EXPECT_TRUE(peer.closed_by_sfu());
  EXPECT_TRUE(eventually([&] {
    return closed(sfu, "session_closed") == 1 &&
           sfu.value("podium_sfu_tcp_connections", {{"state", "bound"}}) == 0;
  }));
}

TEST(SfuIceTcp, ClosingTheSelectedConnectionEndsTheSession) {
  Running sfu;
  Created s = create(sfu);
  TcpPeer peer(sfu.server.tcp_port());
  ASSERT_TRUE(peer.write(frame(check(s, 1, true))));
  ASSERT_TRUE(peer.read_frame().has_value());
  // A second connection that is not the selected pair: its end changes nothing.
  {
    TcpPeer other(sfu.server.tcp_port());
    ASSERT_TRUE(other.write(frame(check(s, 2, false))));
    ASSERT_TRUE(other.read_frame().has_value());
  }
  EXPECT_TRUE(eventually([&] { return closed(sfu, "peer_closed") == 1; }));
  EXPECT_EQ(sfu.value("podium_sfu_sessions_closed_total", {{"reason", "tcp_closed"}}), 0);
  peer.close();
  EXPECT_TRUE(eventually([&] {
    return closed(sfu, "peer_closed") == 2 &&
           sfu.value("podium_sfu_sessions_closed_total", {{"reason", "tcp_closed"}}) == 1 &&
           sfu.value("podium_sfu_guests") == 0;
  }));
}

TEST(SfuIceTcp, FirstFrameMustBeAnAcceptedCheck) {
  Running sfu;
  Created s = create(sfu);
  {
    // A DTLS record before any check.
    TcpPeer peer(sfu.server.tcp_port());
    ASSERT_TRUE(peer.write(frame({22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0})));
    EXPECT_TRUE(peer.closed_by_sfu());
  }
  {
    // A check for no session.
    TcpPeer peer(sfu.server.tcp_port());
    ASSERT_TRUE(peer.write(frame(check(s, 1, true, "nosuchufrag"))));
    EXPECT_TRUE(peer.closed_by_sfu());
  }
  {
    // A check with the wrong password: no binding (and no 401 on this connection).
    Created wrong = s;
    wrong.local_pwd = "not-the-password-of-it";
    TcpPeer peer(sfu.server.tcp_port());
    ASSERT_TRUE(peer.write(frame(check(wrong, 1, true))));
    EXPECT_TRUE(peer.closed_by_sfu());
  }
  EXPECT_TRUE(eventually([&] {
    return closed(sfu, "not_a_check") == 3 &&
           sfu.value("podium_sfu_tcp_connections", {{"state", "pending"}}) == 0 &&
           sfu.value("podium_sfu_tcp_connections", {{"state", "bound"}}) == 0;
  }));
  EXPECT_EQ(sfu.value("podium_sfu_sessions", {{"ice", "checking"}, {"dtls", "new"}}), 1)
      << "the session is untouched";
}

TEST(SfuIceTcp, FramingErrorsCloseTheConnection) {
  Running sfu;
  Created s = create(sfu);
  for (const std::vector<std::uint8_t>& bad :
       {std::vector<std::uint8_t>{0, 0}, std::vector<std::uint8_t>{0xFF, 0xFF, 0, 1}}) {
    TcpPeer peer(sfu.server.tcp_port());
    ASSERT_TRUE(peer.write(frame(check(s, 1, false))));
    ASSERT_TRUE(peer.read_frame().has_value());
    ASSERT_TRUE(peer.write(bad));  // length 0, then 65535 (above the SFU's largest packet)
    EXPECT_TRUE(peer.closed_by_sfu());
  }
  EXPECT_TRUE(eventually([&] { return closed(sfu, "framing") == 2; }));
  // Neither connection was a nominated pair: the session stays, waiting for a path.
  EXPECT_EQ(sfu.value("podium_sfu_sessions_closed_total", {{"reason", "tcp_closed"}}), 0);
  EXPECT_EQ(sfu.value("podium_sfu_guests"), 1);
}

TEST(SfuIceTcp, ConnectionLimitRefuses) {
  auto config = tcp_config();
  config.max_sessions = 2;  // 2 x max_sessions connections, all of them may be unbound
  Running sfu(config);
  TcpPeer a(sfu.server.tcp_port()), b(sfu.server.tcp_port()), c(sfu.server.tcp_port()),
      d(sfu.server.tcp_port());
  ASSERT_TRUE(eventually([&] {
    return sfu.value("podium_sfu_tcp_connections", {{"state", "pending"}}) == 4;
  }));
  TcpPeer e(sfu.server.tcp_port());
  EXPECT_TRUE(e.closed_by_sfu());
  EXPECT_TRUE(eventually([&] {
    return sfu.value("podium_sfu_tcp_connections_total", {{"result", "refused"}}) == 1 &&
           sfu.value("podium_sfu_tcp_connections_total", {{"result", "accepted"}}) == 4 &&
           sfu.value("podium_sfu_tcp_connections", {{"state", "pending"}}) == 4;
  }));
}

// One host opening silent connections holds at most 8 unbound slots; another host still gets
// in and binds, and so does the first once one of its connections is gone.
TEST(SfuIceTcp, UnboundConnectionsAreCappedPerSourceAddress) {
  Running sfu;
  Created s = create(sfu);
  std::vector<std::unique_ptr<TcpPeer>> silent;
  for (int i = 0; i < 8; ++i) {
    silent.push_back(std::make_unique<TcpPeer>(sfu.server.tcp_port(), "127.0.0.1"));
    ASSERT_TRUE(silent.back()->connected());
  }
  ASSERT_TRUE(eventually([&] {
    return sfu.value("podium_sfu_tcp_connections", {{"state", "pending"}}) == 8;
  }));
  TcpPeer ninth(sfu.server.tcp_port(), "127.0.0.1");
  EXPECT_TRUE(ninth.closed_by_sfu()) << "a 9th unbound connection from the same address";
  EXPECT_TRUE(eventually([&] {
    return sfu.value("podium_sfu_tcp_connections_total", {{"result", "refused"}}) == 1;
  }));

  TcpPeer other(sfu.server.tcp_port(), "127.0.0.2");
  ASSERT_TRUE(other.connected());
  ASSERT_TRUE(other.write(frame(check(s, 1, false))));
  auto r = other.read_frame();
  ASSERT_TRUE(r.has_value()) << "another source address is not locked out";
  EXPECT_EQ(response(*r, s)->cls, stun::Class::kSuccessResponse);

  // Binding frees the unbound slot: the first address may open one more; closing frees one too.
  ASSERT_TRUE(silent[0]->write(frame(check(s, 2, false))));
  ASSERT_TRUE(silent[0]->read_frame().has_value());
  silent[1]->close();
  ASSERT_TRUE(eventually([&] {
    return sfu.value("podium_sfu_tcp_connections", {{"state", "pending"}}) == 6 &&
           sfu.value("podium_sfu_tcp_connections", {{"state", "bound"}}) == 2;
  }));
  TcpPeer again1(sfu.server.tcp_port(), "127.0.0.1"), again2(sfu.server.tcp_port(), "127.0.0.1");
  ASSERT_TRUE(again2.write(frame(check(s, 3, false))));
  EXPECT_TRUE(again2.read_frame().has_value());
  EXPECT_FALSE(again1.closed_by_sfu(300ms));
  EXPECT_EQ(sfu.value("podium_sfu_tcp_connections_total", {{"result", "refused"}}), 1);
}

// At most 4 connections are bound to one session; a 5th one's check closes it (session_limit)
// without touching the session, and a slot frees when one of the 4 closes.
TEST(SfuIceTcp, ConnectionsPerSessionAreCapped) {
  Running sfu;
  Created s = create(sfu);
  std::vector<std::unique_ptr<TcpPeer>> bound;
  for (std::uint8_t i = 0; i < 4; ++i) {
    bound.push_back(std::make_unique<TcpPeer>(sfu.server.tcp_port()));
    ASSERT_TRUE(bound.back()->write(frame(check(s, static_cast<std::uint8_t>(10 + i), i == 0))));
    ASSERT_TRUE(bound.back()->read_frame().has_value()) << "connection " << int(i);
  }
  TcpPeer fifth(sfu.server.tcp_port());
  ASSERT_TRUE(fifth.write(frame(check(s, 20, true))));
  EXPECT_FALSE(fifth.read_frame(500ms).has_value()) << "no response on a 5th connection";
  EXPECT_TRUE(fifth.closed_by_sfu());
  EXPECT_TRUE(eventually([&] {
    return closed(sfu, "session_limit") == 1 &&
           sfu.value("podium_sfu_tcp_connections", {{"state", "bound"}}) == 4 &&
           sfu.value("podium_sfu_tcp_connections", {{"state", "pending"}}) == 0;
  }));
  EXPECT_EQ(sfu.value("podium_sfu_guests"), 1);
  EXPECT_EQ(sfu.value("podium_sfu_sessions_closed_total", {{"reason", "tcp_closed"}}), 0);

  bound[3]->close();  // not the nominated one
  ASSERT_TRUE(eventually([&] { return closed(sfu, "peer_closed") == 1; }));
  TcpPeer replacement(sfu.server.tcp_port());
  ASSERT_TRUE(replacement.write(frame(check(s, 30, false))));
  EXPECT_TRUE(replacement.read_frame().has_value());
  EXPECT_TRUE(eventually([&] {
    return sfu.value("podium_sfu_tcp_connections", {{"state", "bound"}}) == 4;
  }));
}

// The browser's DTLS output (a dtls::DtlsSink), queued until the test frames it onto the stream.
class Outbox final : public dtls::DtlsSink {
 public:
  void send(std::span<const std::uint8_t> datagram) override {
    queued.emplace_back(datagram.begin(), datagram.end());
  }
  std::deque<std::vector<std::uint8_t>> queued;
};

// A session that ends while its path is an ICE-TCP connection sends its DTLS close_notify
// (RFC 5246 section 7.2.1) on that connection before the SFU closes it.
TEST(SfuIceTcp, SessionEndDeliversCloseNotifyBeforeTheConnectionCloses) {
  auto certificate = dtls::Certificate::generate();
  ASSERT_TRUE(certificate.ok());
  auto context = dtls::DtlsContext::create(*certificate);
  ASSERT_TRUE(context.ok());

  Running sfu;
  Created s = create(sfu, "chromium_156_whep_offer.sdp", certificate->fingerprint_sdp());
  const std::string key = "a=fingerprint:sha-256 ";
  const auto at = s.answer.sdp.find(key);
  ASSERT_NE(at, std::string::npos);
  const auto end = s.answer.sdp.find("\r\n", at);
  auto sfu_fingerprint = dtls::Fingerprint::parse(
      "sha-256", std::string_view(s.answer.sdp).substr(at + key.size(), end - at - key.size()));
  ASSERT_TRUE(sfu_fingerprint.ok());

  TcpPeer peer(sfu.server.tcp_port());
  ASSERT_TRUE(peer.write(frame(check(s, 1, true))));
  ASSERT_TRUE(peer.read_frame().has_value());

  // The SFU answered a=setup:passive to the actpass offer: the browser is the DTLS client.
  Outbox outbox;
  dtls::DtlsTransportOptions options;
  options.role = dtls::Role::client;
  options.remote_fingerprints = {*sfu_fingerprint};
  auto browser = dtls::DtlsTransport::create(*context, options, outbox);
  ASSERT_TRUE(browser.ok());
  auto& transport = **browser;
  transport.start(Clock::now());
  const auto deadline = Clock::now() + 5s;
  while (transport.state() != dtls::DtlsState::connected && Clock::now() < deadline) {
    while (!outbox.queued.empty()) {
      ASSERT_TRUE(peer.write(frame(outbox.queued.front())));
      outbox.queued.pop_front();
    }
    auto in = peer.read_frame(200ms);
    if (in && !in->empty() && (*in)[0] >= 20 && (*in)[0] <= 63) transport.feed(*in, Clock::now());
  }
  ASSERT_EQ(transport.state(), dtls::DtlsState::connected);
  ASSERT_TRUE(eventually([&] {
    return sfu.value("podium_sfu_sessions", {{"ice", "connected"}, {"dtls", "connected"}}) == 1;
  }));

  ASSERT_TRUE(sfu.server.sessions().close_session("room", s.answer.session_id).ok());
  // Frames until the end of the stream: one of them is the close_notify.
  for (int i = 0; i < 50 && transport.state() == dtls::DtlsState::connected; ++i) {
    auto in = peer.read_frame(2s);
    if (!in) break;  // the end of the stream (or nothing for 2 s)
    if (!in->empty() && (*in)[0] >= 20 && (*in)[0] <= 63) transport.feed(*in, Clock::now());
  }
  EXPECT_EQ(transport.state(), dtls::DtlsState::closed)
      << "no close_notify before the connection closed: "
      << dtls::to_string(transport.failure_reason());
  EXPECT_EQ(transport.failure_reason(), dtls::FailureReason::closed_by_peer);
  EXPECT_TRUE(peer.closed_by_sfu());
  EXPECT_TRUE(eventually([&] { return closed(sfu, "session_closed") == 1; }));
}

// What the media worker does with a listener's connections: nothing here (no connection exists).
class NoStreams final : public StreamHandler {
 public:
  void on_stream_packet(IceTcpConnection&, std::span<std::uint8_t>) override {}
  void on_stream_read_done() override {}
  void on_stream_closed(IceTcpConnection&) override {}
};

// A packet whose descriptor is neither the UDP socket nor an open connection (a stale path) is
// dropped and counted; it is never written with sendmmsg on that descriptor.
TEST(SfuIceTcp, SendBatchNeverSendsAStalePathOnUdp) {
  boost::asio::io_context io;
  NoStreams handler;
  TcpCounters counters;
  IceTcpListener listener(io, handler, counters, {});
  testing::LoopbackUdp udp, stale, receiver;

  MediaSendBatch batch;
  batch.set_streams(&listener, udp.fd());
  const std::uint8_t packet[] = {0x80, 0x6F, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
  for (int fd : {udp.fd(), stale.fd(), 9999}) {
    auto& entry = batch.next();
    entry.fd = fd;
    entry.destination = receiver.address();
    std::memcpy(entry.head.data(), packet, sizeof(packet));
    entry.head_length = sizeof(packet);
    batch.commit();
  }
  EXPECT_EQ(batch.pending(), 3u);
  EXPECT_EQ(batch.flush(), 0u);
  auto got = receiver.receive(500ms);
  ASSERT_TRUE(got.has_value()) << "the UDP socket's packet";
  EXPECT_EQ(got->source, udp.address());
  EXPECT_FALSE(receiver.receive(300ms).has_value()) << "a stale stream descriptor's packet";
  EXPECT_EQ(counters.frames_dropped, 2u);
  EXPECT_EQ(counters.frames_out, 0u);
}

}  // namespace
}  // namespace podium::sfu
