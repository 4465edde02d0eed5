// Two DtlsTransports wired back to back in memory: handshake, DTLS-SRTP keying (RFC 5764),
// fingerprint checks (RFC 8122), retransmission (RFC 6347 section 4.2.4), timeouts and
// application data (RFC 8261).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dtls/certificate.hpp"
#include "dtls/dtls_context.hpp"
#include "dtls/dtls_transport.hpp"

namespace {

using namespace podium::sfu::dtls;
namespace srtp = podium::sfu::srtp;
using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::span<const std::uint8_t> s) {
  return Bytes(s.begin(), s.end());
}

// A master key followed by its salt (the layout libsrtp takes).
Bytes key_and_salt(const srtp::MasterKey& key) {
  Bytes out = bytes(key.key_bytes());
  const auto salt = key.salt_bytes();
  out.insert(out.end(), salt.begin(), salt.end());
  return out;
}
Bytes bytes(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

struct Identity {
  Certificate certificate;
  DtlsContext context;
};

Identity make_identity(const DtlsContextOptions& options = {}) {
  auto certificate = Certificate::generate();
  EXPECT_TRUE(certificate.ok());
  auto context = DtlsContext::create(*certificate, options);
  EXPECT_TRUE(context.ok()) << context.error();
  return Identity{std::move(*certificate), std::move(*context)};
}

// Records what a transport emits; datagrams are queued, never delivered re-entrantly.
class Endpoint : public DtlsSink {
 public:
  void send(std::span<const std::uint8_t> datagram) override {
    largest = std::max(largest, datagram.size());
    const std::size_t index = sent++;
    if (drop && drop(index, datagram)) return;
    outbox.push_back(bytes(datagram));
  }
  void on_state(DtlsState state) override {
    states.push_back(state);
    if (state_hook) state_hook(state);
  }
  void on_application_data(std::span<const std::uint8_t> data) override {
    received.push_back(bytes(data));
    if (data_hook) data_hook(data);
  }

  std::deque<Bytes> outbox;
  std::vector<Bytes> received;
  std::vector<DtlsState> states;
  std::size_t sent = 0;
  std::size_t largest = 0;
  // Returns true to lose the datagram with this index (0 = first ever sent).
  std::function<bool(std::size_t, std::span<const std::uint8_t>)> drop;
  std::function<void(DtlsState)> state_hook;
  std::function<void(std::span<const std::uint8_t>)> data_hook;
};

struct PairOptions {
  DtlsContextOptions client_context;
  DtlsContextOptions server_context;
  std::function<void(DtlsTransportOptions&)> client_tweak;
  std::function<void(DtlsTransportOptions&)> server_tweak;
  Role client_role = Role::client;
  Role server_role = Role::server;
};

struct Pair {
  explicit Pair(const PairOptions& options = {})
      : client_id(make_identity(options.client_context)),
        server_id(make_identity(options.server_context)) {
    DtlsTransportOptions c;
    c.role = options.client_role;
    c.remote_fingerprints = {server_id.certificate.fingerprint()};
    if (options.client_tweak) options.client_tweak(c);
    DtlsTransportOptions s;
    s.role = options.server_role;
    s.remote_fingerprints = {client_id.certificate.fingerprint()};
    if (options.server_tweak) options.server_tweak(s);
    auto made_client = DtlsTransport::create(client_id.context, c, client_sink);
    auto made_server = DtlsTransport::create(server_id.context, s, server_sink);
    EXPECT_TRUE(made_client.ok()) << made_client.error();
    EXPECT_TRUE(made_server.ok()) << made_server.error();
    client = std::move(*made_client);
    server = std::move(*made_server);
  }

  // Delivers queued datagrams both ways until nothing is left (bounded).
  std::size_t pump(TimePoint now) {
    std::size_t delivered = 0;
    for (int round = 0; round < 1000; ++round) {
      if (client_sink.outbox.empty() && server_sink.outbox.empty()) break;
      while (!client_sink.outbox.empty()) {
        Bytes d = std::move(client_sink.outbox.front());
        client_sink.outbox.pop_front();
        server->feed(d, now);
        ++delivered;
      }
      while (!server_sink.outbox.empty()) {
        Bytes d = std::move(server_sink.outbox.front());
        server_sink.outbox.pop_front();
        client->feed(d, now);
        ++delivered;
      }
    }
    return delivered;
  }

  bool both(DtlsState state) const { return client->state() == state && server->state() == state; }

  // Runs on the real clock, firing timers, until `done` or `limit` passes.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const TimePoint deadline = Clock::now() + limit;
    while (!done()) {
      const TimePoint now = Clock::now();
      if (now >= deadline) return false;
      pump(now);
      if (done()) return true;
      TimePoint wake = std::min(deadline, now + 50ms);
      for (DtlsTransport* t : {client.get(), server.get()}) {
        if (auto due = t->next_timeout()) wake = std::min(wake, *due);
      }
      std::this_thread::sleep_until(wake);
      client->on_timeout(Clock::now());
      server->on_timeout(Clock::now());
    }
    return true;
  }

  void handshake(TimePoint now = Clock::now()) {
    client->start(now);
    server->start(now);
    pump(now);
  }

  Identity client_id;
  Identity server_id;
  Endpoint client_sink;
  Endpoint server_sink;
  std::unique_ptr<DtlsTransport> client;
  std::unique_ptr<DtlsTransport> server;
};

TEST(DtlsTransport, HandshakeDerivesCrosswiseSrtpKeys) {
  Pair pair;
  EXPECT_EQ(pair.client->state(), DtlsState::new_);
  pair.handshake();
  ASSERT_EQ(pair.client->state(), DtlsState::connected) << pair.client->failure_detail();
  ASSERT_EQ(pair.server->state(), DtlsState::connected) << pair.server->failure_detail();
  EXPECT_EQ(pair.client_sink.states, (std::vector{DtlsState::connecting, DtlsState::connected}));
  EXPECT_EQ(pair.server_sink.states, (std::vector{DtlsState::connecting, DtlsState::connected}));

  const SrtpKeys* c = pair.client->srtp_keys();
  const SrtpKeys* s = pair.server->srtp_keys();
  ASSERT_NE(c, nullptr);
  ASSERT_NE(s, nullptr);
  // GCM is preferred when both offer it (RFC 7714 section 14.2 key and salt sizes).
  EXPECT_EQ(c->profile, srtp::Profile::aead_aes_128_gcm);
  EXPECT_EQ(s->profile, srtp::Profile::aead_aes_128_gcm);
  EXPECT_EQ(pair.client->srtp_profile(), SrtpProfile::aead_aes_128_gcm);
  EXPECT_STREQ(srtp::profile_name(c->profile), "SRTP_AEAD_AES_128_GCM");
  EXPECT_EQ(static_cast<int>(c->profile), 0x0007);
  EXPECT_EQ(c->local.key_bytes().size(), 16u);
  EXPECT_EQ(c->local.salt_bytes().size(), 12u);

  // The client's write key is the server's read key and vice versa (RFC 5764 section 4.2).
  EXPECT_EQ(key_and_salt(c->local), key_and_salt(s->remote));
  EXPECT_EQ(key_and_salt(c->remote), key_and_salt(s->local));
  EXPECT_NE(bytes(c->local.key_bytes()), bytes(c->remote.key_bytes()));
  EXPECT_NE(bytes(c->local.salt_bytes()), bytes(c->remote.salt_bytes()));

  // Handshake flights respect the 1200-byte MTU; AEAD ECDSA suite chosen.
  EXPECT_LE(pair.client_sink.largest, 1200u);
  EXPECT_LE(pair.server_sink.largest, 1200u);
  EXPECT_EQ(pair.client->cipher_name().rfind("ECDHE-ECDSA-", 0), 0u) << pair.client->cipher_name();
  EXPECT_EQ(pair.client->next_timeout(), std::nullopt);
  EXPECT_EQ(pair.client->failure_reason(), FailureReason::none);
}

TEST(DtlsTransport, SmallMtuFragmentsFlights) {
  PairOptions options;
  options.client_tweak = [](DtlsTransportOptions& o) { o.mtu = 300; };
  options.server_tweak = [](DtlsTransportOptions& o) { o.mtu = 300; };
  Pair pair(options);
  pair.handshake();
  ASSERT_TRUE(pair.both(DtlsState::connected))
      << pair.client->failure_detail() << " / " << pair.server->failure_detail();
  EXPECT_LE(pair.client_sink.largest, 300u);
  EXPECT_LE(pair.server_sink.largest, 300u);
}

TEST(DtlsTransport, ClientOfferingOnlyCmSha1_80GetsIt) {
  PairOptions options;
  options.client_context.srtp_profiles = {SrtpProfile::aes128_cm_sha1_80};
  Pair pair(options);
  pair.handshake();
  ASSERT_TRUE(pair.both(DtlsState::connected));
  const SrtpKeys* c = pair.client->srtp_keys();
  const SrtpKeys* s = pair.server->srtp_keys();
  EXPECT_EQ(c->profile, srtp::Profile::aes128_cm_sha1_80);
  EXPECT_EQ(s->profile, srtp::Profile::aes128_cm_sha1_80);
  EXPECT_STREQ(srtp::profile_name(s->profile), "SRTP_AES128_CM_SHA1_80");
  EXPECT_EQ(c->local.key_bytes().size(), 16u);
  EXPECT_EQ(c->local.salt_bytes().size(), 14u);
  EXPECT_EQ(key_and_salt(c->local), key_and_salt(s->remote));
  EXPECT_EQ(key_and_salt(c->remote), key_and_salt(s->local));
}

TEST(DtlsTransport, ServerPreferenceOrderWins) {
  PairOptions options;
  options.server_context.srtp_profiles = {SrtpProfile::aes128_cm_sha1_80,
                                          SrtpProfile::aead_aes_128_gcm};
  Pair pair(options);
  pair.handshake();
  ASSERT_TRUE(pair.both(DtlsState::connected));
  EXPECT_EQ(pair.client->srtp_profile(), SrtpProfile::aes128_cm_sha1_80);
}

TEST(DtlsTransport, NoCommonSrtpProfileFails) {
  PairOptions options;
  options.client_context.srtp_profiles = {SrtpProfile::aes128_cm_sha1_32};
  Pair pair(options);
  pair.handshake();
  EXPECT_EQ(pair.server->state(), DtlsState::failed);
  EXPECT_EQ(pair.server->failure_reason(), FailureReason::no_srtp_profile);
  EXPECT_EQ(pair.client->state(), DtlsState::failed);
  EXPECT_EQ(pair.client->failure_reason(), FailureReason::no_srtp_profile);
  EXPECT_EQ(pair.server->srtp_keys(), nullptr);
}

TEST(DtlsTransport, ServerDetectsClientFingerprintMismatch) {
  const Identity stranger = make_identity();
  PairOptions options;
  options.server_tweak = [&](DtlsTransportOptions& o) {
    o.remote_fingerprints = {stranger.certificate.fingerprint()};
  };
  Pair pair(options);
  pair.handshake();
  EXPECT_EQ(pair.server->state(), DtlsState::failed);
  EXPECT_EQ(pair.server->failure_reason(), FailureReason::fingerprint_mismatch);
  EXPECT_STREQ(to_string(pair.server->failure_reason()), "fingerprint_mismatch");
  // The client hears a fatal alert.
  EXPECT_EQ(pair.client->state(), DtlsState::failed);
  EXPECT_EQ(pair.client->failure_reason(), FailureReason::handshake_error);
  EXPECT_FALSE(pair.client->failure_detail().empty());
  EXPECT_EQ(pair.server->srtp_keys(), nullptr);
  EXPECT_EQ(pair.server->next_timeout(), std::nullopt);
}

TEST(DtlsTransport, ClientDetectsServerFingerprintMismatch) {
  const Identity stranger = make_identity();
  PairOptions options;
  options.client_tweak = [&](DtlsTransportOptions& o) {
    o.remote_fingerprints = {stranger.certificate.fingerprint()};
  };
  Pair pair(options);
  pair.handshake();
  EXPECT_EQ(pair.client->state(), DtlsState::failed);
  EXPECT_EQ(pair.client->failure_reason(), FailureReason::fingerprint_mismatch);
  EXPECT_EQ(pair.server->state(), DtlsState::failed);
  EXPECT_EQ(pair.server->failure_reason(), FailureReason::handshake_error);
}

TEST(DtlsTransport, AnyOfSeveralFingerprintsAndOtherHashesMatch) {
  const Identity stranger = make_identity();
  Pair pair;
  // Replace the server with one listing a stranger first and the client's sha-512 second
  // (RFC 8122 section 5: several a=fingerprint lines, any may match).
  auto sha512 = fingerprint_of(pair.client_id.certificate.x509(), HashAlgorithm::sha512);
  ASSERT_TRUE(sha512.ok());
  DtlsTransportOptions s;
  s.role = Role::server;
  s.remote_fingerprints = {stranger.certificate.fingerprint(), *sha512};
  auto server = DtlsTransport::create(pair.server_id.context, s, pair.server_sink);
  ASSERT_TRUE(server.ok());
  pair.server = std::move(*server);
  pair.handshake();
  EXPECT_TRUE(pair.both(DtlsState::connected)) << pair.server->failure_detail();
}

TEST(DtlsTransport, RecoversFromLostFirstFlights) {
  PairOptions options;
  options.client_tweak = [](DtlsTransportOptions& o) { o.initial_retransmit = 20ms; };
  options.server_tweak = [](DtlsTransportOptions& o) { o.initial_retransmit = 20ms; };
  Pair pair(options);
  // Lose the ClientHello and the server's first flight once each.
  pair.client_sink.drop = [](std::size_t index, auto) { return index == 0; };
  bool server_dropped = false;
  pair.server_sink.drop = [&](std::size_t, auto) { return !std::exchange(server_dropped, true); };
  const TimePoint start = Clock::now();
  pair.client->start(start);
  pair.server->start(start);
  ASSERT_TRUE(pair.client->next_timeout().has_value());
  EXPECT_LE(*pair.client->next_timeout(), start + 20ms);
  ASSERT_TRUE(pair.run_until([&] { return pair.both(DtlsState::connected); }, 5s))
      << to_string(pair.client->state()) << " / " << to_string(pair.server->state());
  EXPECT_TRUE(server_dropped);
  EXPECT_GE(pair.client_sink.sent, 3u);  // the ClientHello went out at least twice
  EXPECT_EQ(key_and_salt(pair.client->srtp_keys()->local),
            key_and_salt(pair.server->srtp_keys()->remote));
}

TEST(DtlsTransport, RecoversFromLostClientFinishedFlight) {
  PairOptions options;
  options.client_tweak = [](DtlsTransportOptions& o) { o.initial_retransmit = 20ms; };
  options.server_tweak = [](DtlsTransportOptions& o) { o.initial_retransmit = 20ms; };
  Pair pair(options);
  // Everything the client sends after its first datagram is lost once (its second flight).
  std::size_t first_flight_end = 0;
  pair.client_sink.drop = [&](std::size_t index, auto) {
    if (index == 0) return false;
    if (first_flight_end == 0) first_flight_end = index;
    return index == first_flight_end;  // the first datagram of the client's second flight
  };
  pair.client->start(Clock::now());
  ASSERT_TRUE(pair.run_until([&] { return pair.both(DtlsState::connected); }, 5s))
      << to_string(pair.client->state()) << " / " << to_string(pair.server->state());
}

TEST(DtlsTransport, HandshakeTimeoutFailsClient) {
  Pair pair;
  const TimePoint t0 = Clock::now();
  pair.client->start(t0);
  ASSERT_EQ(pair.client_sink.outbox.size(), 1u);  // the ClientHello, never answered
  auto due = pair.client->next_timeout();
  ASSERT_TRUE(due.has_value());
  EXPECT_LE(*due, t0 + 30s);
  pair.client->on_timeout(t0 + 29s);
  EXPECT_EQ(pair.client->state(), DtlsState::connecting);
  pair.client->on_timeout(t0 + 30s);
  EXPECT_EQ(pair.client->state(), DtlsState::failed);
  EXPECT_EQ(pair.client->failure_reason(), FailureReason::timeout);
  EXPECT_STREQ(to_string(FailureReason::timeout), "timeout");
  EXPECT_EQ(pair.client->next_timeout(), std::nullopt);
  EXPECT_EQ(pair.client_sink.states.back(), DtlsState::failed);
  // A failed transport ignores later input and sends nothing.
  const std::size_t sent = pair.client_sink.sent;
  pair.client->feed(bytes(std::string(40, '\x16')), t0 + 31s);
  pair.client->on_timeout(t0 + 40s);
  EXPECT_EQ(pair.client_sink.sent, sent);
  EXPECT_FALSE(pair.client->send_application(bytes(std::string("x"))).ok());
}

TEST(DtlsTransport, HandshakeTimeoutFailsSilentServer) {
  PairOptions options;
  options.server_tweak = [](DtlsTransportOptions& o) { o.handshake_timeout = 5s; };
  Pair pair(options);
  const TimePoint t0 = Clock::now();
  pair.server->start(t0);
  EXPECT_EQ(pair.server->next_timeout(), t0 + 5s);
  pair.server->on_timeout(t0 + 5s);
  EXPECT_EQ(pair.server->state(), DtlsState::failed);
  EXPECT_EQ(pair.server->failure_reason(), FailureReason::timeout);
}

TEST(DtlsTransport, LateDatagramAfterDeadlineFailsWithTimeout) {
  Pair pair;
  const TimePoint t0 = Clock::now();
  pair.client->start(t0);
  pair.server->start(t0);
  Bytes hello = std::move(pair.client_sink.outbox.front());
  pair.client_sink.outbox.clear();
  pair.server->feed(hello, t0 + 31s);
  EXPECT_EQ(pair.server->state(), DtlsState::failed);
  EXPECT_EQ(pair.server->failure_reason(), FailureReason::timeout);
  EXPECT_TRUE(pair.server_sink.outbox.empty());
}

TEST(DtlsTransport, ServerStartsOnFirstDatagram) {
  Pair pair;
  const TimePoint t0 = Clock::now();
  pair.client->start(t0);
  pair.pump(t0);  // server never had start() called
  EXPECT_TRUE(pair.both(DtlsState::connected));
}

TEST(DtlsTransport, ApplicationDataBothWays) {
  Pair pair;
  Bytes early(10, 1);
  EXPECT_FALSE(pair.client->send_application(early).ok());
  EXPECT_EQ(pair.client->application_mtu(), 0u);
  pair.handshake();
  ASSERT_TRUE(pair.both(DtlsState::connected));
  EXPECT_GT(pair.client->application_mtu(), 1100u);
  EXPECT_LT(pair.client->application_mtu(), 1200u);

  std::vector<Bytes> messages;
  for (std::size_t size : {std::size_t{1}, std::size_t{100}, std::size_t{1000},
                           pair.client->application_mtu(), std::size_t{1200}}) {
    Bytes m(size);
    for (std::size_t i = 0; i < size; ++i) m[i] = static_cast<std::uint8_t>(i * 7 + size);
    messages.push_back(m);
  }
  const TimePoint now = Clock::now();
  for (const Bytes& m : messages) ASSERT_TRUE(pair.client->send_application(m).ok());
  // A message of application_mtu() bytes fits one MTU-sized datagram.
  pair.pump(now);
  EXPECT_EQ(pair.server_sink.received, messages);

  for (const Bytes& m : messages) ASSERT_TRUE(pair.server->send_application(m).ok());
  pair.pump(now);
  EXPECT_EQ(pair.client_sink.received, messages);

  // Too large for one record: refused without harming the association.
  EXPECT_FALSE(pair.client->send_application(Bytes(16385, 0)).ok());
  EXPECT_TRUE(pair.client->send_application(Bytes()).ok());
  EXPECT_EQ(pair.client->state(), DtlsState::connected);
}

TEST(DtlsTransport, MessageOfApplicationMtuFitsOneDatagram) {
  Pair pair;
  pair.handshake();
  ASSERT_TRUE(pair.both(DtlsState::connected));
  pair.client_sink.largest = 0;
  ASSERT_TRUE(pair.client->send_application(Bytes(pair.client->application_mtu(), 9)).ok());
  EXPECT_EQ(pair.client_sink.largest, 1200u);
}

TEST(DtlsTransport, HooksMayCallBackIn) {
  Pair pair;
  // The server greets on connect and echoes whatever arrives, from inside the hooks.
  pair.server_sink.state_hook = [&](DtlsState s) {
    if (s == DtlsState::connected) {
      EXPECT_TRUE(pair.server->send_application(bytes(std::string("welcome"))).ok());
    }
  };
  pair.server_sink.data_hook = [&](std::span<const std::uint8_t> d) {
    Bytes echo = bytes(d);
    echo.insert(echo.begin(), 'E');
    EXPECT_TRUE(pair.server->send_application(echo).ok());
  };
  pair.handshake();
  ASSERT_TRUE(pair.both(DtlsState::connected));
  ASSERT_EQ(pair.client_sink.received.size(), 1u);
  EXPECT_EQ(pair.client_sink.received[0], bytes(std::string("welcome")));
  ASSERT_TRUE(pair.client->send_application(bytes(std::string("ping"))).ok());
  pair.pump(Clock::now());
  ASSERT_EQ(pair.client_sink.received.size(), 2u);
  EXPECT_EQ(pair.client_sink.received[1], bytes(std::string("Eping")));
}

TEST(DtlsTransport, CloseNotifyReachesPeer) {
  Pair pair;
  pair.handshake();
  ASSERT_TRUE(pair.both(DtlsState::connected));
  pair.client->close();
  EXPECT_EQ(pair.client->state(), DtlsState::closed);
  EXPECT_EQ(pair.client->failure_reason(), FailureReason::none);
  pair.pump(Clock::now());
  EXPECT_EQ(pair.server->state(), DtlsState::closed);
  EXPECT_EQ(pair.server->failure_reason(), FailureReason::closed_by_peer);
  EXPECT_EQ(pair.server_sink.states.back(), DtlsState::closed);
  EXPECT_FALSE(pair.server->send_application(bytes(std::string("late"))).ok());
  // Keys stay readable for the session's lifetime.
  EXPECT_NE(pair.server->srtp_keys(), nullptr);
  pair.client->close();  // idempotent
  EXPECT_EQ(pair.client_sink.states.back(), DtlsState::closed);
  EXPECT_EQ(
      std::count(pair.client_sink.states.begin(), pair.client_sink.states.end(), DtlsState::closed),
      1);
}

TEST(DtlsTransport, GarbageIsDiscarded) {
  Pair pair;
  pair.handshake();
  ASSERT_TRUE(pair.both(DtlsState::connected));
  // RFC 6347 section 4.1.2.7: invalid records are silently dropped.
  Bytes forged = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 40};
  forged.resize(forged.size() + 40, 0x5a);
  pair.server->feed(forged, Clock::now());
  ASSERT_EQ(pair.server->state(), DtlsState::connected) << pair.server->failure_detail();
  Bytes fake_record = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
  pair.server->feed(fake_record, Clock::now());
  ASSERT_EQ(pair.server->state(), DtlsState::connected) << pair.server->failure_detail();
  pair.server->feed(Bytes{22, 0xfe}, Clock::now());
  ASSERT_EQ(pair.server->state(), DtlsState::connected) << pair.server->failure_detail();
  Bytes noise(500, 0x42);
  noise[0] = 22;
  pair.server->feed(noise, Clock::now());
  ASSERT_EQ(pair.server->state(), DtlsState::connected) << pair.server->failure_detail();
  EXPECT_EQ(pair.server->state(), DtlsState::connected);
  EXPECT_TRUE(pair.server_sink.received.empty());
  ASSERT_TRUE(pair.client->send_application(bytes(std::string("still here"))).ok());
  pair.pump(Clock::now());
  ASSERT_EQ(pair.server_sink.received.size(), 1u);
}

TEST(DtlsTransport, TwoClientsFailWithHandshakeError) {
  PairOptions options;
  options.server_role = Role::client;  // both sides think they are active
  options.client_tweak = [](DtlsTransportOptions& o) { o.handshake_timeout = 2s; };
  options.server_tweak = [](DtlsTransportOptions& o) { o.handshake_timeout = 2s; };
  Pair pair(options);
  const TimePoint t0 = Clock::now();
  pair.handshake(t0);
  // Each ignores or rejects the other's ClientHello; the deadline ends it.
  pair.client->on_timeout(t0 + 2s);
  pair.server->on_timeout(t0 + 2s);
  EXPECT_EQ(pair.client->state(), DtlsState::failed);
  EXPECT_EQ(pair.server->state(), DtlsState::failed);
}

TEST(DtlsTransport, CreateValidatesOptions) {
  Identity id = make_identity();
  Endpoint sink;
  DtlsTransportOptions o;
  EXPECT_FALSE(DtlsTransport::create(id.context, o, sink).ok());  // no remote fingerprint
  o.remote_fingerprints = {id.certificate.fingerprint()};
  o.mtu = 100;
  EXPECT_FALSE(DtlsTransport::create(id.context, o, sink).ok());
  o.mtu = 1200;
  EXPECT_TRUE(DtlsTransport::create(id.context, o, sink).ok());
  auto c = Certificate::generate();
  ASSERT_TRUE(c.ok());
  DtlsContextOptions none;
  none.srtp_profiles.clear();
  EXPECT_FALSE(DtlsContext::create(*c, none).ok());
}

TEST(DtlsTransport, LabelsAreStable) {
  EXPECT_STREQ(to_string(DtlsState::new_), "new");
  EXPECT_STREQ(to_string(DtlsState::connecting), "connecting");
  EXPECT_STREQ(to_string(DtlsState::connected), "connected");
  EXPECT_STREQ(to_string(DtlsState::failed), "failed");
  EXPECT_STREQ(to_string(DtlsState::closed), "closed");
  EXPECT_STREQ(to_string(FailureReason::handshake_error), "handshake_error");
  EXPECT_STREQ(to_string(FailureReason::no_srtp_profile), "no_srtp_profile");
  EXPECT_STREQ(to_string(FailureReason::closed_by_peer), "closed_by_peer");
  EXPECT_STREQ(to_string(Role::server), "server");
}

}  // namespace
