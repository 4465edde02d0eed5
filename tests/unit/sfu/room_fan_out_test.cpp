// Room::forward_audio end to end with real components: guests are sfu::Session objects keyed by a
// real DTLS-SRTP handshake (RFC 5764) against an in-memory browser-side DtlsTransport, the
// fan-out goes through a MediaSendBatch (sendmmsg) on a loopback UDP socket, and each guest's
// copy is received on its own socket and unprotected with libsrtp using the browser side's keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "allocation_counter.hpp"
#include "dtls/certificate.hpp"
#include "dtls/dtls_context.hpp"
#include "dtls/dtls_transport.hpp"
#include "loopback_udp.hpp"
#include "room/room.hpp"
#include "rtp/rtp_packet.hpp"
#include "session/session.hpp"
#include "srtp/libsrtp_session.hpp"
#include "srtp/profile.hpp"
#include "srtp/srtp.hpp"

namespace podium::sfu {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;
using Clock = std::chrono::steady_clock;
using testing::LoopbackUdp;

Bytes bytes(std::span<const std::uint8_t> s) {
  return Bytes(s.begin(), s.end());
}

struct Identity {
  dtls::Certificate certificate;
  dtls::DtlsContext context;
};

Identity make_identity(const dtls::DtlsContextOptions& options = {}) {
  auto certificate = dtls::Certificate::generate();
  if (!certificate) throw std::runtime_error(certificate.error());
  auto context = dtls::DtlsContext::create(*certificate, options);
  if (!context) throw std::runtime_error(context.error());
  return Identity{std::move(*certificate), std::move(*context)};
}

// The SFU side's DatagramSender: what the sessions' DTLS transports emit, queued.
class Collector final : public DatagramSender {
 public:
  void send_datagram(const SocketAddress& destination,
                     std::span<const std::uint8_t> datagram) override {
    sent.push_back({destination, bytes(datagram)});
  }
  struct Sent {
    SocketAddress destination;
    Bytes datagram;
  };
  std::deque<Sent> sent;
};

// The browser's DTLS transport output, queued.
class BrowserSink final : public dtls::DtlsSink {
 public:
  void send(std::span<const std::uint8_t> datagram) override { outbox.push_back(bytes(datagram)); }
  std::deque<Bytes> outbox;
};

// One guest: the SFU's Session for it, and the browser side (DTLS, socket, SRTP receiver).
struct Guest {
  std::unique_ptr<Session> session;
  BrowserSink browser_sink;
  std::unique_ptr<dtls::DtlsTransport> browser_dtls;
  std::optional<srtp::LibsrtpSession> receiver;  // the browser's inbound SRTP/SRTCP
  srtp::Profile profile = srtp::Profile::aead_aes_128_gcm;
};

class FanOut : public ::testing::Test {
 protected:
  // A guest session keyed by a real handshake: the SFU is the DTLS server (it answered
  // a=setup:passive), the browser the client. `remote` is where the guest's media goes.
  std::unique_ptr<Guest> add_guest(Room& room, const SocketAddress& remote,
                                   const Identity& browser) {
    auto guest = std::make_unique<Guest>();
    const std::string id = "guest-" + std::to_string(++guest_count_);
    ice::IceLiteAgent agent({"sfu" + std::to_string(guest_count_), "sfu-password-0123456789"},
                            {"brws", "browser-password-987654"}, 30s);
    guest->session = std::make_unique<Session>(id, SessionRole::guest, room, std::move(agent),
                                               sdp::Negotiation{}, collector_, now_);
    guest->session->set_remote(remote);

    dtls::DtlsTransportOptions sfu_options;
    sfu_options.role = dtls::Role::server;
    sfu_options.remote_fingerprints = {browser.certificate.fingerprint()};
    auto sfu_dtls = dtls::DtlsTransport::create(sfu_.context, sfu_options, *guest->session);
    if (!sfu_dtls) throw std::runtime_error(sfu_dtls.error());
    guest->session->set_dtls(std::move(*sfu_dtls));

    dtls::DtlsTransportOptions browser_options;
    browser_options.role = dtls::Role::client;
    browser_options.remote_fingerprints = {sfu_.certificate.fingerprint()};
    auto browser_dtls =
        dtls::DtlsTransport::create(browser.context, browser_options, guest->browser_sink);
    if (!browser_dtls) throw std::runtime_error(browser_dtls.error());
    guest->browser_dtls = std::move(*browser_dtls);

    // Handshake, datagram by datagram, both ways.
    guest->browser_dtls->start(now_);
    for (int round = 0; round < 100; ++round) {
      if (guest->browser_sink.outbox.empty() && collector_.sent.empty()) break;
      while (!guest->browser_sink.outbox.empty()) {
        Bytes d = std::move(guest->browser_sink.outbox.front());
        guest->browser_sink.outbox.pop_front();
        guest->session->dtls()->feed(d, now_);
      }
      while (!collector_.sent.empty()) {
        auto sent = std::move(collector_.sent.front());
        collector_.sent.pop_front();
        EXPECT_EQ(sent.destination, remote) << "DTLS goes to the session's remote";
        guest->browser_dtls->feed(sent.datagram, now_);
      }
    }
    if (guest->session->dtls()->state() != dtls::DtlsState::connected ||
        guest->browser_dtls->state() != dtls::DtlsState::connected) {
      throw std::runtime_error("DTLS handshake did not complete");
    }
    EXPECT_FALSE(guest->session->media_ready());
    auto keyed = guest->session->key_srtp();
    if (!keyed) throw std::runtime_error(keyed.error().text);
    EXPECT_TRUE(guest->session->media_ready());
    EXPECT_NE(guest->session->rtp_out(), nullptr);
    EXPECT_NE(guest->session->rtcp_out(), nullptr);
    EXPECT_NE(guest->session->rtcp_in(), nullptr);
    EXPECT_EQ(guest->session->inbound(), nullptr) << "guests do not send audio";

    // The browser unprotects with what it receives: its "remote" keys (the SFU's write keys).
    const dtls::SrtpKeys* keys = guest->browser_dtls->srtp_keys();
    guest->profile = keys->profile;
    auto receiver =
        srtp::LibsrtpSession::create(keys->remote, srtp::LibsrtpSession::Direction::inbound);
    if (!receiver) throw std::runtime_error(receiver.error().text);
    guest->receiver.emplace(std::move(*receiver));
    room.add_guest(*guest->session);
    return guest;
  }

  Identity sfu_ = make_identity();
  Collector collector_;
  Clock::time_point now_ = Clock::now();
  int guest_count_ = 0;
};

// The presenter's decrypted packet: Opus PT 111 with the audio level (id 1) and transport-cc
// (id 3) one-byte extensions, as Chromium sends it.
struct PresenterPacket {
  Bytes bytes;
  rtp::RtpHeader header;
  std::span<const std::uint8_t> payload;
  std::optional<rtp::AudioLevel> level;
};

PresenterPacket presenter_packet(std::uint16_t seq, std::uint32_t ts, bool marker = false,
                                 std::size_t payload_size = 67) {
  PresenterPacket p;
  p.bytes = {0x90, static_cast<std::uint8_t>((marker ? 0x80 : 0) | 111), 0, 0, 0, 0, 0, 0, 0x5E,
             0xED, 0x00, 0x01,
             // RFC 8285 one-byte header, 2 words: level (id 1), transport-cc (id 3), padding.
             0xBE, 0xDE, 0x00, 0x02, 0x10, 0x80 | 33, 0x31, 0x12, 0x34, 0x00, 0x00, 0x00};
  rtp::store16(&p.bytes[2], seq);
  rtp::store32(&p.bytes[4], ts);
  for (std::size_t i = 0; i < payload_size; ++i) {
    p.bytes.push_back(static_cast<std::uint8_t>(i * 31 + seq));
  }
  auto header = rtp::parse_rtp(p.bytes);
  if (!header) throw std::runtime_error(header.error().text);
  p.header = *header;
  p.payload =
      std::span<const std::uint8_t>(p.bytes).subspan(header->header_size, header->payload_size);
  p.level = rtp::audio_level(*header, 1);
  return p;
}

struct Received {
  Bytes rtp;  // unprotected
  rtp::RtpHeader header;
};

// Receives the guest's next datagram and unprotects it with the browser-side keys.
std::optional<Received> receive_rtp(LoopbackUdp& socket, Guest& guest, const SocketAddress& from) {
  auto datagram = socket.receive(2s);
  if (!datagram) {
    ADD_FAILURE() << "no datagram";
    return std::nullopt;
  }
  EXPECT_EQ(datagram->source, from);
  auto length = guest.receiver->unprotect(datagram->bytes);
  if (!length) {
    ADD_FAILURE() << "unprotect failed: " << length.error().text;
    return std::nullopt;
  }
  Received r;
  r.rtp.assign(datagram->bytes.begin(),
               datagram->bytes.begin() + static_cast<std::ptrdiff_t>(*length));
  auto header = rtp::parse_rtp(r.rtp);
  if (!header) {
    ADD_FAILURE() << "forwarded packet does not parse: " << header.error().text;
    return std::nullopt;
  }
  r.header = *header;
  return r;
}

class FanOutProfiles : public FanOut, public ::testing::WithParamInterface<dtls::SrtpProfile> {};

TEST_P(FanOutProfiles, EachGuestGetsItsOwnRewrittenSrtpCopy) {
  dtls::DtlsContextOptions browser_options;
  browser_options.srtp_profiles = {GetParam()};
  const Identity browser = make_identity(browser_options);
  Room room("room");
  LoopbackUdp sfu_socket;
  LoopbackUdp sockets[3];
  std::vector<std::unique_ptr<Guest>> guests;
  for (auto& socket : sockets) guests.push_back(add_guest(room, socket.address(), browser));
  ASSERT_EQ(room.guests().size(), 3u);
  EXPECT_EQ(guests[0]->profile, static_cast<srtp::Profile>(GetParam()));

  // Per-guest rewrite state, as the media worker sets it from each guest's answer.
  struct Rewrite {
    std::uint32_t ssrc;
    std::uint16_t seq_offset;
    std::uint32_t ts_offset;
    std::uint8_t payload_type;
    std::uint8_t level_id;
  };
  const Rewrite rewrites[3] = {{0x0A0A0A0A, 0, 0, 111, 1},
                               {0x0B0B0B0B, 0xFFF0, 0x80000000, 109, 5},
                               {0x0C0C0C0C, 12345, 7, 96, 0}};
  for (int i = 0; i < 3; ++i) {
    Session& s = *guests[i]->session;
    s.out_ssrc = rewrites[i].ssrc;
    s.seq_offset = rewrites[i].seq_offset;
    s.ts_offset = rewrites[i].ts_offset;
    s.out_payload_type = rewrites[i].payload_type;
    s.out_audio_level_id = rewrites[i].level_id;
  }

  auto batch = std::make_unique<MediaSendBatch>();
  const Clock::time_point t0 = Clock::now();
  std::uint32_t sent_octets = 0;
  for (int n = 0; n < 3; ++n) {
    const auto seq = static_cast<std::uint16_t>(4000 + n);
    const std::uint32_t ts = 160000 + static_cast<std::uint32_t>(n) * 960;
    auto packet = presenter_packet(seq, ts, n == 0);
    ASSERT_TRUE(packet.level.has_value());
    sent_octets += static_cast<std::uint32_t>(packet.payload.size());
    auto result = room.forward_audio(packet.header, packet.payload, packet.level, t0 + n * 20ms,
                                     sfu_socket.fd(), *batch);
    EXPECT_EQ(result.packets, 3u);
    EXPECT_EQ(result.protect_errors, 0u);
    EXPECT_EQ(batch->pending(), 3u);
    EXPECT_EQ(batch->flush(), 0u) << "sendmmsg failures";

    std::uint64_t received_bytes = 0;
    for (int i = 0; i < 3; ++i) {
      SCOPED_TRACE("guest " + std::to_string(i) + ", packet " + std::to_string(n));
      auto got = receive_rtp(sockets[i], *guests[i], sfu_socket.address());
      ASSERT_TRUE(got.has_value());
      const auto& h = got->header;
      received_bytes += got->rtp.size() + srtp::srtp_overhead(guests[i]->profile);
      EXPECT_EQ(h.ssrc, rewrites[i].ssrc);
      EXPECT_EQ(h.sequence, static_cast<std::uint16_t>(seq + rewrites[i].seq_offset));
      EXPECT_EQ(h.timestamp, ts + rewrites[i].ts_offset);
      EXPECT_EQ(h.payload_type, rewrites[i].payload_type);
      EXPECT_EQ(h.marker, n == 0) << "the marker bit is kept";
      EXPECT_EQ(got->rtp[0] & 0x0F, 0) << "no CSRCs";
      EXPECT_EQ(got->rtp[0] & 0x20, 0) << "no padding";
      EXPECT_EQ(bytes(std::span(got->rtp).subspan(h.header_size, h.payload_size)),
                bytes(packet.payload))
          << "payload unchanged";
      if (rewrites[i].level_id != 0) {
        EXPECT_EQ(h.header_size, 20u) << "one extension word";
        EXPECT_EQ(h.extension_profile, rtp::kOneByteProfile);
        auto level = rtp::audio_level(h, rewrites[i].level_id);
        ASSERT_TRUE(level.has_value()) << "the level under the guest's own id";
        EXPECT_EQ(level->level, 33);
        EXPECT_TRUE(level->voice);
        if (rewrites[i].level_id != 1) {
          EXPECT_FALSE(rtp::find_one_byte_extension(h, 1).has_value()) << "not the presenter's";
        }
        EXPECT_FALSE(rtp::find_one_byte_extension(h, 3).has_value()) << "transport-cc dropped";
      } else {
        EXPECT_EQ(h.header_size, 12u) << "no extension when the guest did not negotiate it";
        EXPECT_EQ(got->rtp[0] & 0x10, 0);
      }
    }
    EXPECT_EQ(result.bytes, received_bytes) << "FanOutResult::bytes counts the SRTP datagrams";
  }
  for (auto& guest : guests) {
    EXPECT_EQ(guest->session->packets_sent, 3u);
    EXPECT_EQ(guest->session->octets_sent, sent_octets) << "payload octets (RFC 3550 6.4.1)";
    EXPECT_EQ(guest->session->closing(), CloseReason::none);
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, FanOutProfiles,
                         ::testing::Values(dtls::SrtpProfile::aead_aes_128_gcm,
                                           dtls::SrtpProfile::aes128_cm_sha1_80),
                         [](const auto& info) {
                           return info.param == dtls::SrtpProfile::aead_aes_128_gcm
                                      ? std::string("AeadAes128Gcm")
                                      : std::string("Aes128CmSha1_80");
                         });

TEST_F(FanOut, PresenterSwitchKeepsEveryGuestsSequenceContinuous) {
  const Identity browser = make_identity();
  Room room("room");
  LoopbackUdp sfu_socket;
  LoopbackUdp socket;
  auto guest = add_guest(room, socket.address(), browser);
  guest->session->out_ssrc = 0x12345678;
  guest->session->seq_offset = 100;
  guest->session->ts_offset = 1000;
  auto batch = std::make_unique<MediaSendBatch>();
  const auto t0 = Clock::now();

  auto first = presenter_packet(500, 48000);
  room.forward_audio(first.header, first.payload, first.level, t0, sfu_socket.fd(), *batch);
  // A second presenter (another SSRC, unrelated numbering) takes over 60 ms later.
  auto second = presenter_packet(9, 777);
  rtp::store32(&second.bytes[8], 0xFEEDF00D);
  second.header.ssrc = 0xFEEDF00D;
  room.forward_audio(second.header, second.payload, second.level, t0 + 60ms, sfu_socket.fd(),
                     *batch);
  EXPECT_EQ(batch->flush(), 0u);
  auto a = receive_rtp(socket, *guest, sfu_socket.address());
  auto b = receive_rtp(socket, *guest, sfu_socket.address());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->header.ssrc, 0x12345678u);
  EXPECT_EQ(b->header.ssrc, 0x12345678u) << "the guest keeps seeing one SSRC";
  EXPECT_EQ(a->header.sequence, 600);
  EXPECT_EQ(b->header.sequence, 601);
  EXPECT_EQ(a->header.timestamp, 49000u);
  EXPECT_EQ(b->header.timestamp, 49000u + 2880u) << "60 ms later";
}

// RFC 3711 section 9.1 / RFC 7714 section 8.1: an SRTP packet index must never protect two
// different packets (for AES-GCM the IV would repeat: the keystream XOR of both payloads leaks
// and the GHASH key can be recovered). After a presenter switch, a packet of the new source that
// is older than the new source's first packet (reordered on the way in) must therefore not be
// sent under a sequence number the previous presenter's packets already used.
TEST_F(FanOut, ReorderedPacketAfterASwitchDoesNotReuseAnSrtpIndex) {
  const Identity browser = make_identity();
  Room room("room");
  LoopbackUdp sfu_socket;
  LoopbackUdp socket;
  auto guest = add_guest(room, socket.address(), browser);
  guest->session->out_ssrc = 0x600D;
  auto batch = std::make_unique<MediaSendBatch>();
  const auto t0 = Clock::now();

  std::vector<PresenterPacket> sent;
  auto forward = [&](std::uint32_t ssrc, std::uint16_t seq, std::uint32_t ts,
                     Clock::time_point at) {
    auto p = presenter_packet(seq, ts);
    rtp::store32(&p.bytes[8], ssrc);
    p.header.ssrc = ssrc;
    room.forward_audio(p.header, p.payload, p.level, at, sfu_socket.fd(), *batch);
    sent.push_back(std::move(p));
  };
  // Presenter A: 100..104. Presenter B takes over; its packet 21 overtakes its packet 20.
  for (int i = 0; i < 5; ++i) {
    forward(0xA, static_cast<std::uint16_t>(100 + i), 1000 + static_cast<std::uint32_t>(i) * 960,
            t0 + i * 20ms);
  }
  forward(0xB, 21, 50000 + 960, t0 + 120ms);
  forward(0xB, 20, 50000, t0 + 122ms);
  forward(0xB, 22, 50000 + 2 * 960, t0 + 140ms);
  EXPECT_EQ(batch->flush(), 0u);

  // What went on the wire: the RTP header is in the clear (RFC 3711 section 3.1).
  std::vector<Bytes> wire;
  while (auto datagram = socket.receive(wire.size() < 6 ? 2000ms : 200ms)) {
    wire.push_back(std::move(datagram->bytes));
  }
  ASSERT_GE(wire.size(), 7u);
  for (std::size_t i = 0; i < wire.size(); ++i) {
    for (std::size_t j = i + 1; j < wire.size(); ++j) {
      const std::uint16_t seq_i = rtp::load16(&wire[i][2]);
      const std::uint16_t seq_j = rtp::load16(&wire[j][2]);
      if (seq_i != seq_j || wire[i] == wire[j]) continue;
      // Same SSRC and sequence number (same index, so same IV) for different packets.
      std::size_t leaked = 0;
      const std::size_t h = (wire[i][0] & 0x10) ? 20 : 12;  // with / without the level word
      const std::size_t payload =
          std::min(wire[i].size(), wire[j].size()) - h - srtp::kGcmTagLength;
      for (std::size_t k = 0; k < payload; ++k) {
        // sent[] is in forwarding order, like wire[].
        const std::uint8_t plain = sent[i].payload[k] ^ sent[j].payload[k];
        if ((wire[i][h + k] ^ wire[j][h + k]) == plain) ++leaked;
      }
      ADD_FAILURE() << "datagrams " << i << " and " << j << " both carry sequence number " << seq_i
                    << " (one SRTP index, one IV) for different packets; " << leaked << " of "
                    << payload << " payload bytes satisfy ciphertext XOR == plaintext XOR";
    }
  }
}

TEST_F(FanOut, SkipsGuestsWithoutKeysRemoteOrThatAreClosing) {
  const Identity browser = make_identity();
  Room room("room");
  LoopbackUdp sfu_socket;
  LoopbackUdp sockets[2];
  auto keyed = add_guest(room, sockets[0].address(), browser);
  auto closing = add_guest(room, sockets[1].address(), browser);
  closing->session->mark_closing(CloseReason::deleted);
  // Not keyed yet (DTLS still running): no SRTP context.
  ice::IceLiteAgent agent({"new1", "sfu-password-0123456789"}, {"brws", "browser-password-987654"},
                          30s);
  Session unkeyed("unkeyed", SessionRole::guest, room, std::move(agent), sdp::Negotiation{},
                  collector_, now_);
  unkeyed.set_remote(sockets[1].address());
  room.add_guest(unkeyed);

  auto batch = std::make_unique<MediaSendBatch>();
  auto packet = presenter_packet(1, 1);
  auto result = room.forward_audio(packet.header, packet.payload, packet.level, Clock::now(),
                                   sfu_socket.fd(), *batch);
  EXPECT_EQ(result.packets, 1u);
  EXPECT_EQ(result.protect_errors, 0u);
  EXPECT_EQ(batch->flush(), 0u);
  EXPECT_TRUE(receive_rtp(sockets[0], *keyed, sfu_socket.address()).has_value());
  EXPECT_FALSE(sockets[1].receive(100ms).has_value());
  EXPECT_EQ(closing->session->packets_sent, 0u);
  room.remove(unkeyed);
}

TEST_F(FanOut, GuestWhoseProtectFailsIsMarkedClosingAndOthersStillGetThePacket) {
  const Identity browser = make_identity();
  Room room("room");
  LoopbackUdp sfu_socket;
  LoopbackUdp sockets[3];
  std::vector<std::unique_ptr<Guest>> guests;
  for (auto& socket : sockets) guests.push_back(add_guest(room, socket.address(), browser));
  for (std::size_t i = 0; i < guests.size(); ++i) {
    guests[i]->session->out_ssrc = 0x100 + static_cast<std::uint32_t>(i);
  }
  // Exhaust the middle guest's SRTP sender: it already carries kMaxStreams other SSRCs, so a
  // packet for its out_ssrc fails ("too many SSRCs in one SRTP session"). Only public API.
  srtp::SrtpSender* sender = guests[1]->session->rtp_out();
  ASSERT_NE(sender, nullptr);
  for (std::uint32_t k = 0; k < srtp::kMaxStreams; ++k) {
    std::array<std::uint8_t, 64> scratch{0x80, 111, 0, 1, 0, 0, 0, 0};
    rtp::store32(&scratch[8], 0xF000 + k);
    ASSERT_TRUE(sender->protect(scratch, 20).ok());
  }

  auto batch = std::make_unique<MediaSendBatch>();
  auto packet = presenter_packet(10, 10);
  auto result = room.forward_audio(packet.header, packet.payload, packet.level, Clock::now(),
                                   sfu_socket.fd(), *batch);
  EXPECT_EQ(result.protect_errors, 1u);
  EXPECT_EQ(result.packets, 2u);
  EXPECT_EQ(guests[1]->session->closing(), CloseReason::srtp_failed);
  EXPECT_EQ(guests[0]->session->closing(), CloseReason::none);
  EXPECT_EQ(guests[2]->session->closing(), CloseReason::none);
  EXPECT_EQ(batch->pending(), 2u) << "the failed copy is not queued";
  EXPECT_EQ(batch->flush(), 0u);
  for (int i : {0, 2}) {
    auto got = receive_rtp(sockets[i], *guests[i], sfu_socket.address());
    ASSERT_TRUE(got.has_value()) << i;
    EXPECT_EQ(got->header.ssrc, 0x100u + static_cast<std::uint32_t>(i));
    EXPECT_EQ(bytes(std::span(got->rtp).subspan(got->header.header_size)), bytes(packet.payload));
  }
  EXPECT_FALSE(sockets[1].receive(100ms).has_value());
  EXPECT_EQ(guests[1]->session->packets_sent, 0u);

  // The closing guest is skipped from then on, without further errors.
  auto next = presenter_packet(11, 970);
  result = room.forward_audio(next.header, next.payload, next.level, Clock::now(), sfu_socket.fd(),
                              *batch);
  EXPECT_EQ(result.protect_errors, 0u);
  EXPECT_EQ(result.packets, 2u);
  EXPECT_EQ(batch->flush(), 0u);
}

TEST_F(FanOut, OversizedPacketIsNotSent) {
  const Identity browser = make_identity();
  Room room("room");
  LoopbackUdp sfu_socket;
  LoopbackUdp socket;
  auto guest = add_guest(room, socket.address(), browser);
  guest->session->out_audio_level_id = 1;
  auto batch = std::make_unique<MediaSendBatch>();
  // 20-byte header + payload + 16-byte GCM tag must fit kMaxMediaDatagram (1500).
  auto fits = presenter_packet(1, 1, false, 1500 - 20 - 16);
  auto result = room.forward_audio(fits.header, fits.payload, fits.level, Clock::now(),
                                   sfu_socket.fd(), *batch);
  EXPECT_EQ(result.packets, 1u);
  EXPECT_EQ(result.bytes, 1500u);
  auto too_big = presenter_packet(2, 961, false, 1500 - 20 - 16 + 1);
  result = room.forward_audio(too_big.header, too_big.payload, too_big.level, Clock::now(),
                              sfu_socket.fd(), *batch);
  EXPECT_EQ(result.packets, 0u);
  EXPECT_EQ(result.protect_errors, 0u);
  EXPECT_EQ(batch->flush(), 0u);
  auto got = receive_rtp(socket, *guest, sfu_socket.address());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->header.sequence, 1);
  EXPECT_FALSE(socket.receive(100ms).has_value());
}

TEST_F(FanOut, SenderReportIsTranslatedPerGuest) {
  const Identity browser = make_identity();
  Room room("room");
  LoopbackUdp sfu_socket;
  LoopbackUdp sockets[2];
  std::vector<std::unique_ptr<Guest>> guests;
  for (auto& socket : sockets) guests.push_back(add_guest(room, socket.address(), browser));
  guests[0]->session->out_ssrc = 0xAAAA;
  guests[0]->session->ts_offset = 1000;
  guests[0]->session->cname = "guest-zero-cname";
  guests[1]->session->out_ssrc = 0xBBBB;
  guests[1]->session->ts_offset = 0xFFFFFF00;
  guests[1]->session->cname = "g1";
  auto batch = std::make_unique<MediaSendBatch>();
  const auto t0 = Clock::now();

  // An SR before any packet of that source: nothing to translate.
  room.forward_sender_report(rtp::SenderInfo{0x5EED0001, 1, 2, 3, 4}, sfu_socket.fd(), *batch);
  EXPECT_EQ(batch->pending(), 0u);

  std::size_t payload_octets = 0;
  for (int n = 0; n < 5; ++n) {
    auto p = presenter_packet(static_cast<std::uint16_t>(70 + n),
                              9000 + static_cast<std::uint32_t>(n) * 960);
    payload_octets += p.payload.size();
    room.forward_audio(p.header, p.payload, p.level, t0 + n * 20ms, sfu_socket.fd(), *batch);
  }
  EXPECT_EQ(batch->flush(), 0u);
  for (int i = 0; i < 2; ++i) {
    for (int n = 0; n < 5; ++n) {
      ASSERT_TRUE(receive_rtp(sockets[i], *guests[i], sfu_socket.address()).has_value());
    }
  }
  // The presenter's SR, in its own timestamp space (SSRC 0x5EED0001 as presenter_packet).
  const rtp::SenderInfo sr{0x5EED0001, 0xE0000000'80000000ull, 9000 + 4 * 960 + 480, 999, 99999};
  room.forward_sender_report(sr, sfu_socket.fd(), *batch);
  EXPECT_EQ(batch->pending(), 2u);
  EXPECT_EQ(batch->flush(), 0u);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    const Session& s = *guests[i]->session;
    auto datagram = sockets[i].receive(2s);
    ASSERT_TRUE(datagram.has_value());
    auto length = guests[i]->receiver->unprotect_rtcp(datagram->bytes);
    ASSERT_TRUE(length.ok()) << length.error().text;
    rtp::RtcpWalker walker(std::span(datagram->bytes).first(*length));
    auto first = walker.next();
    ASSERT_TRUE(first.has_value());
    auto info = rtp::parse_sender_report(first->packet);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->ssrc, s.out_ssrc);
    EXPECT_EQ(info->ntp, sr.ntp);
    EXPECT_EQ(info->rtp_timestamp, sr.rtp_timestamp + s.ts_offset);
    EXPECT_EQ(info->packet_count, 5u) << "this guest's own counts";
    EXPECT_EQ(info->octet_count, payload_octets);
    auto sdes = walker.next();
    ASSERT_TRUE(sdes.has_value());
    EXPECT_EQ(sdes->header.type, rtp::kSourceDescription);
    EXPECT_EQ(rtp::load32(&sdes->packet[4]), s.out_ssrc);
    ASSERT_GE(sdes->packet.size(), 10 + s.cname.size());
    EXPECT_EQ(sdes->packet[9], s.cname.size());
    EXPECT_EQ(std::string(sdes->packet.begin() + 10,
                          sdes->packet.begin() + 10 + static_cast<long>(s.cname.size())),
              s.cname);
    EXPECT_FALSE(walker.next().has_value());
    EXPECT_FALSE(walker.error());
  }
  // An SR of another SSRC (not the room's current source) is not forwarded.
  room.forward_sender_report(rtp::SenderInfo{0x0BAD, 1, 2, 3, 4}, sfu_socket.fd(), *batch);
  EXPECT_EQ(batch->pending(), 0u);
}

TEST_F(FanOut, HundredGuestsWithoutHeapAllocation) {
  const Identity browser = make_identity();
  Room room("room");
  LoopbackUdp sfu_socket;
  LoopbackUdp sink;  // every guest's remote: the copies are not read back here
  std::vector<std::unique_ptr<Guest>> guests;
  for (int i = 0; i < 100; ++i) {
    guests.push_back(add_guest(room, sink.address(), browser));
    guests.back()->session->out_ssrc = 0x1000 + static_cast<std::uint32_t>(i);
    guests.back()->session->seq_offset = static_cast<std::uint16_t>(i * 611);
    guests.back()->session->out_audio_level_id = i % 2 ? 1 : 0;
  }
  std::vector<PresenterPacket> packets;
  packets.reserve(25);  // the packets' views point into their own buffers
  for (int n = 0; n < 25; ++n) {
    packets.push_back(presenter_packet(static_cast<std::uint16_t>(65530 + n),
                                       static_cast<std::uint32_t>(n) * 960));
  }
  auto batch = std::make_unique<MediaSendBatch>();
  const auto t0 = Clock::now();
  // Warm-up: the first packet registers each guest's SSRC in its SRTP sender.
  auto warm = room.forward_audio(packets[0].header, packets[0].payload, packets[0].level, t0,
                                 sfu_socket.fd(), *batch);
  EXPECT_EQ(warm.packets, 100u);
  batch->flush();
  sink.drain();

  std::uint32_t forwarded = 0;
  std::uint32_t errors = 0;
  std::size_t failed_sends = 0;
  std::uint64_t allocations = 0;
  {
    podium::testing::CountAllocations count;
    for (std::size_t n = 1; n < packets.size(); ++n) {
      auto result = room.forward_audio(packets[n].header, packets[n].payload, packets[n].level,
                                       t0 + static_cast<int>(n) * 20ms, sfu_socket.fd(), *batch);
      forwarded += result.packets;
      errors += result.protect_errors;
      failed_sends += batch->flush();  // a full batch (64) also flushes inside next()
    }
    allocations = count.count();
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(forwarded, 24u * 100u);
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(failed_sends, 0u);
  for (const auto& guest : guests) {
    EXPECT_EQ(guest->session->packets_sent, 25u);
    EXPECT_EQ(guest->session->closing(), CloseReason::none);
  }
  sink.drain();
}

}  // namespace
}  // namespace podium::sfu
