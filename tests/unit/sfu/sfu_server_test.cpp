// SfuServer in-process: the SessionService signaling calls (create / update / close with the
// captured browser and aiortc offers), and real ICE connectivity checks (RFC 8445 section 7.3,
// STUN built with the relay's codec) sent over loopback UDP to the media worker's port. The
// consent test (RFC 7675) waits for the real 5 s timeout; its suite name ends in "Slow" so that
// `ctest -E Slow` can leave it out.
#include "podium/sfu/sfu_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "loopback_udp.hpp"
#include "podium/monitoring/metrics.hpp"
#include "podium/stun/attributes.hpp"
#include "podium/stun/credentials.hpp"
#include "podium/stun/fingerprint.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"
#include "registry_metric.hpp"
#include "sdp/sdpfrag.hpp"
#include "sdp/session_description.hpp"
#include "sdp_test_data.hpp"

namespace podium::sfu {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackUdp;
using Clock = std::chrono::steady_clock;

config::SfuConfig loopback_config() {
  config::SfuConfig config;
  config.listen_ip = boost::asio::ip::make_address("127.0.0.1");
  config.udp_port = 0;
  config.max_sessions = 100;
  config.consent_timeout = 30s;
  return config;
}

using test_support::Labels;
using test_support::metric;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

struct Running {
  explicit Running(const config::SfuConfig& config = loopback_config()) : server(config, metrics) {
    server.start();
    address = SocketAddress::from(boost::asio::ip::make_address("127.0.0.1"), server.udp_port());
  }
  double value(const std::string& name, const Labels& labels = {}) {
    return metric(metrics.registry(), name, labels);
  }

  monitoring::Metrics metrics{"test"};
  SfuServer server;
  SocketAddress address;
};

// The ICE credentials of the transport section (the first m-section the SFU accepted).
struct Ice {
  std::string ufrag;
  std::string pwd;
};
Ice transport_ice(const sdp::SessionDescription& description) {
  for (const auto& m : description.media) {
    if (m.port == 0) continue;
    return {description.effective_ice_ufrag(m).value_or(""),
            description.effective_ice_pwd(m).value_or("")};
  }
  return {};
}

Ice offer_ice(const std::string& offer) {
  auto parsed = sdp::parse(offer);
  EXPECT_TRUE(parsed.ok());
  return parsed ? transport_ice(*parsed) : Ice{};
}

SessionOffer offer_from(const std::string& file, const std::string& room = "room") {
  SessionOffer offer;
  offer.role = file.find("whip") != std::string::npos ? SessionRole::presenter : SessionRole::guest;
  offer.room = room;
  offer.sdp = sdp::testing::load(file);
  return offer;
}

// A connectivity check as a controlling full agent sends it (RFC 8445 section 7.2.2).
struct Check {
  std::string username;
  std::string password;
  bool use_candidate = true;
  stun::TransactionId id{};
};
std::vector<std::uint8_t> build_check(const Check& check) {
  std::vector<std::uint8_t> buffer(512);
  stun::MessageBuilder builder(buffer);
  builder.start(stun::Method::kBinding, stun::Class::kRequest, check.id);
  builder.add_username(check.username);
  builder.add_u64(stun::AttributeType::kIceControlling, 0x0102030405060708ull);
  builder.add_u32(stun::AttributeType::kPriority, 1853824767);
  if (check.use_candidate) builder.add_flag(stun::AttributeType::kUseCandidate);
  builder.add_message_integrity(stun::short_term_key(check.password).span());
  builder.add_fingerprint();
  auto bytes = builder.finish();
  EXPECT_TRUE(bytes.ok());
  return {bytes->begin(), bytes->end()};
}

stun::TransactionId transaction(std::uint8_t n) {
  stun::TransactionId id{};
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(n + i);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Answers

class SfuServerOffers : public ::testing::TestWithParam<const char*> {};

TEST_P(SfuServerOffers, AnswersACapturedOffer) {
  Running sfu;
  const SessionOffer offer = offer_from(GetParam());
  auto answer = sfu.server.sessions().create_session(offer);
  ASSERT_TRUE(answer.ok()) << answer.error().reason;
  EXPECT_FALSE(answer->session_id.empty());
  EXPECT_FALSE(answer->etag.empty());

  auto parsed_offer = sdp::parse(offer.sdp);
  ASSERT_TRUE(parsed_offer.ok());
  auto parsed = sdp::parse(answer->sdp);
  ASSERT_TRUE(parsed.ok()) << parsed.error() << "\n" << answer->sdp;
  const sdp::SessionDescription& a = *parsed;
  EXPECT_TRUE(a.ice_lite) << "a=ice-lite at session level";
  ASSERT_EQ(a.media.size(), parsed_offer->media.size()) << "one m-section per offered one";

  const sdp::MediaSection* audio = nullptr;
  for (const auto& m : a.media) {
    if (m.kind == sdp::MediaKind::audio && m.port != 0) audio = &m;
    if (m.kind == sdp::MediaKind::video) {
      EXPECT_EQ(m.port, 0) << "video is refused";
    }
  }
  ASSERT_NE(audio, nullptr);

  // The SFU's one host candidate: the bound UDP port on the listen address.
  bool host = false;
  for (const auto& c : audio->candidates) {
    host |= c.address == "127.0.0.1" && c.port == sfu.server.udp_port() &&
            c.transport == sdp::CandidateTransport::udp && c.type == sdp::CandidateType::host;
  }
  EXPECT_TRUE(host) << answer->sdp;
  // Its DTLS certificate's fingerprint and the passive role for the offers' actpass.
  const auto& fingerprints = a.effective_fingerprints(*audio);
  ASSERT_FALSE(fingerprints.empty());
  EXPECT_EQ(fingerprints.front().algorithm, "sha-256");
  EXPECT_EQ(fingerprints.front().bytes.size(), 32u);
  EXPECT_EQ(a.effective_setup(*audio), sdp::Setup::passive);
  // Fresh ICE credentials of the SFU's own, not the offer's.
  const Ice ice = transport_ice(a);
  EXPECT_GE(ice.ufrag.size(), 4u);
  EXPECT_GE(ice.pwd.size(), 22u);
  EXPECT_NE(ice.ufrag, offer_ice(offer.sdp).ufrag);
  // The direction fits the role: the SFU receives from a presenter and sends to a guest.
  if (offer.role == SessionRole::presenter) {
    EXPECT_EQ(a.effective_direction(*audio), sdp::Direction::recvonly);
  } else {
    EXPECT_EQ(a.effective_direction(*audio), sdp::Direction::sendonly);
    EXPECT_FALSE(audio->ssrcs.empty()) << "a=ssrc of the stream the guest will receive";
  }

  // A second session gets other credentials and the same certificate.
  auto second = sfu.server.sessions().create_session(offer_from(GetParam(), "other-room"));
  ASSERT_TRUE(second.ok()) << second.error().reason;
  EXPECT_NE(second->session_id, answer->session_id);
  auto second_parsed = sdp::parse(second->sdp);
  ASSERT_TRUE(second_parsed.ok());
  EXPECT_NE(transport_ice(*second_parsed).ufrag, ice.ufrag);
  EXPECT_NE(second->etag, answer->etag);
  const auto& second_audio = second_parsed->media[static_cast<std::size_t>(audio - &a.media[0])];
  EXPECT_EQ(second_parsed->effective_fingerprints(second_audio).front(), fingerprints.front());
}

INSTANTIATE_TEST_SUITE_P(
    Captured, SfuServerOffers,
    ::testing::Values("chromium_156_whip_offer.sdp", "chromium_156_whep_offer.sdp",
                      "firefox_153_whip_offer.sdp", "firefox_153_whep_offer.sdp",
                      "aiortc_1_4_whip_offer.sdp", "aiortc_1_4_whep_offer.sdp"),
    [](const auto& info) {
      std::string name = info.param;
      name = name.substr(0, name.find("_offer"));
      for (char& c : name) {
        if (c == '.') c = '_';
      }
      return name;
    });

TEST(SfuServer, GarbageOfferIsABadOfferWithAReason) {
  Running sfu;
  auto result = sfu.server.sessions().create_session({SessionRole::guest, "room", "hello world"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, SessionErrorCode::bad_offer);
  EXPECT_NE(result.error().reason.find("SDP"), std::string::npos) << result.error().reason;

  // Parseable, but without a DTLS fingerprint: unservable.
  std::string offer = sdp::testing::load("chromium_156_whep_offer.sdp");
  std::string stripped;
  for (std::size_t at = 0; at < offer.size();) {
    std::size_t end = offer.find('\n', at);
    end = end == std::string::npos ? offer.size() : end + 1;
    std::string line = offer.substr(at, end - at);
    if (line.rfind("a=fingerprint:", 0) != 0) stripped += line;
    at = end;
  }
  result = sfu.server.sessions().create_session({SessionRole::guest, "room", stripped});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, SessionErrorCode::bad_offer);
  EXPECT_NE(result.error().reason.find("fingerprint"), std::string::npos) << result.error().reason;

  // The failures left nothing behind: the next offer makes the first session.
  ASSERT_TRUE(sfu.server.sessions().create_session(offer_from("chromium_156_whep_offer.sdp")).ok());
  EXPECT_TRUE(eventually(
      [&] {
        return sfu.value("podium_sfu_sessions_created_total", {{"role", "guest"}}) == 1 &&
               sfu.value("podium_sfu_rooms") == 1 && sfu.value("podium_sfu_guests") == 1;
      },
      3s));
}

TEST(SfuServer, MaxSessionsReachedIsCapacity) {
  auto config = loopback_config();
  config.max_sessions = 2;
  Running sfu(config);
  auto& sessions = sfu.server.sessions();
  auto first = sessions.create_session(offer_from("chromium_156_whep_offer.sdp"));
  auto second = sessions.create_session(offer_from("firefox_153_whep_offer.sdp"));
  ASSERT_TRUE(first.ok() && second.ok());
  auto third = sessions.create_session(offer_from("aiortc_1_4_whep_offer.sdp"));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, SessionErrorCode::capacity);
  EXPECT_FALSE(third.error().reason.empty());
  // A closed session frees its place.
  ASSERT_TRUE(sessions.close_session("room", first->session_id).ok());
  EXPECT_TRUE(sessions.create_session(offer_from("aiortc_1_4_whep_offer.sdp")).ok());
}

TEST(SfuServer, CloseSession) {
  Running sfu;
  auto& sessions = sfu.server.sessions();
  auto unknown = sessions.close_session("room", "no-such-session");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, SessionErrorCode::not_found);

  auto answer = sessions.create_session(offer_from("chromium_156_whep_offer.sdp"));
  ASSERT_TRUE(answer.ok());
  auto wrong_room = sessions.close_session("another-room", answer->session_id);
  ASSERT_FALSE(wrong_room.ok());
  EXPECT_EQ(wrong_room.error().code, SessionErrorCode::not_found) << "ids are scoped to the room";
  EXPECT_TRUE(sessions.close_session("room", answer->session_id).ok());
  auto again = sessions.close_session("room", answer->session_id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, SessionErrorCode::not_found);
  EXPECT_TRUE(eventually(
      [&] {
        return sfu.value("podium_sfu_sessions_closed_total", {{"reason", "deleted"}}) == 1;
      },
      3s));
}

TEST(SfuServer, SecondPresenterReplacesTheFirst) {
  Running sfu;
  auto& sessions = sfu.server.sessions();
  auto first = sessions.create_session(offer_from("chromium_156_whip_offer.sdp"));
  ASSERT_TRUE(first.ok());
  auto guest = sessions.create_session(offer_from("chromium_156_whep_offer.sdp"));
  ASSERT_TRUE(guest.ok());
  auto second = sessions.create_session(offer_from("firefox_153_whip_offer.sdp"));
  ASSERT_TRUE(second.ok()) << second.error().reason;
  auto closed = sessions.close_session("room", first->session_id);
  ASSERT_FALSE(closed.ok()) << "the first presenter is gone";
  EXPECT_EQ(closed.error().code, SessionErrorCode::not_found);
  EXPECT_TRUE(eventually(
      [&] {
        return sfu.value("podium_sfu_sessions_closed_total", {{"reason", "replaced"}}) == 1 &&
               sfu.value("podium_sfu_presenters") == 1 && sfu.value("podium_sfu_guests") == 1;
      },
      3s));
  EXPECT_TRUE(sessions.close_session("room", second->session_id).ok());
  EXPECT_TRUE(sessions.close_session("room", guest->session_id).ok());
}

TEST(SfuServer, StoppedServerIsUnavailable) {
  Running sfu;
  sfu.server.stop();
  auto result = sfu.server.sessions().create_session(offer_from("chromium_156_whep_offer.sdp"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, SessionErrorCode::unavailable);
  auto closed = sfu.server.sessions().close_session("room", "x");
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, SessionErrorCode::unavailable);
}

// ---------------------------------------------------------------------------------------------
// PATCH: trickle and ICE restart (RFC 9725 section 4.3)

struct Created {
  SessionAnswer answer;
  Ice local;   // the SFU's
  Ice remote;  // the offer's
};
Created create(Running& sfu, const std::string& file = "chromium_156_whep_offer.sdp") {
  const SessionOffer offer = offer_from(file);
  auto answer = sfu.server.sessions().create_session(offer);
  EXPECT_TRUE(answer.ok()) << (answer.ok() ? "" : answer.error().reason);
  if (!answer.ok()) return {};
  auto parsed = sdp::parse(answer->sdp);
  EXPECT_TRUE(parsed.ok());
  return {*answer, parsed ? transport_ice(*parsed) : Ice{}, offer_ice(offer.sdp)};
}

std::string fragment(const Ice& ice, const std::string& candidate_port = "50000") {
  return "a=ice-ufrag:" + ice.ufrag + "\r\na=ice-pwd:" + ice.pwd +
         "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
         "a=candidate:1 1 udp 2122260223 192.0.2.10 " +
         candidate_port + " typ host\r\n";
}

TEST(SfuServer, TrickleIsAcceptedWithoutRestart) {
  Running sfu;
  auto& sessions = sfu.server.sessions();
  Created s = create(sfu);
  auto update = sessions.update_session("room", s.answer.session_id, fragment(s.remote), "");
  ASSERT_TRUE(update.ok()) << update.error().reason;
  EXPECT_FALSE(update->ice_restarted);
  EXPECT_TRUE(update->sdpfrag.empty());
  EXPECT_TRUE(update->etag.empty());
  // Candidates only, no credentials: trickle too.
  update = sessions.update_session(
      "room", s.answer.session_id,
      "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=end-of-candidates\r\n", "");
  ASSERT_TRUE(update.ok()) << update.error().reason;
  EXPECT_FALSE(update->ice_restarted);

  auto unknown = sessions.update_session("room", "nope", fragment(s.remote), "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, SessionErrorCode::not_found);
  auto bad = sessions.update_session("room", s.answer.session_id, "v=0\r\n", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, SessionErrorCode::bad_offer);
  EXPECT_FALSE(bad.error().reason.empty());
}

TEST(SfuServer, IceRestartNeedsIfMatch) {
  Running sfu;
  auto& sessions = sfu.server.sessions();
  Created s = create(sfu);
  const Ice restarted{"rst1", "restart-password-000000001"};

  auto no_if_match = sessions.update_session("room", s.answer.session_id, fragment(restarted), "");
  ASSERT_FALSE(no_if_match.ok());
  EXPECT_EQ(no_if_match.error().code, SessionErrorCode::precondition_failed);
  auto wrong = sessions.update_session("room", s.answer.session_id, fragment(restarted),
                                       "\"ice-somethingelse\"");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, SessionErrorCode::precondition_failed);

  auto any = sessions.update_session("room", s.answer.session_id, fragment(restarted), "*");
  ASSERT_TRUE(any.ok()) << any.error().reason;
  EXPECT_TRUE(any->ice_restarted);
  EXPECT_FALSE(any->etag.empty());
  EXPECT_NE(any->etag, s.answer.etag);
  auto frag = sdp::parse_sdpfrag(any->sdpfrag);
  ASSERT_TRUE(frag.ok()) << frag.error() << "\n" << any->sdpfrag;
  ASSERT_TRUE(frag->ice_ufrag.has_value());
  ASSERT_TRUE(frag->ice_pwd.has_value());
  EXPECT_NE(*frag->ice_ufrag, s.local.ufrag);
  EXPECT_NE(*frag->ice_pwd, s.local.pwd);
  EXPECT_NE(any->sdpfrag.find("a=ice-ufrag:" + *frag->ice_ufrag), std::string::npos);
  ASSERT_FALSE(frag->sections.empty());
  EXPECT_EQ(frag->sections[0].mid, "0");
  ASSERT_FALSE(frag->sections[0].candidates.empty());
  EXPECT_EQ(frag->sections[0].candidates[0].port, sfu.server.udp_port());
  EXPECT_EQ(frag->sections[0].candidates[0].address, "127.0.0.1");

  // The replaced ICE session's ETag no longer matches; the new one does, quoted or not.
  const Ice again{"rst2", "restart-password-000000002"};
  auto stale = sessions.update_session("room", s.answer.session_id, fragment(again), s.answer.etag);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, SessionErrorCode::precondition_failed);
  auto current = sessions.update_session("room", s.answer.session_id, fragment(again),
                                         "\"" + any->etag + "\"");
  ASSERT_TRUE(current.ok()) << current.error().reason;
  EXPECT_TRUE(current->ice_restarted);
  EXPECT_NE(current->etag, any->etag);
  // The same credentials again are not a restart.
  auto same = sessions.update_session("room", s.answer.session_id, fragment(again), "");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->ice_restarted);

  // A restart needs both a ufrag and a password.
  auto half = sessions.update_session("room", s.answer.session_id,
                                      "a=ice-ufrag:rst3\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
                                      "a=mid:0\r\n",
                                      "*");
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.error().code, SessionErrorCode::bad_offer);
}

// ---------------------------------------------------------------------------------------------
// ICE connectivity checks on the media port

struct Response {
  stun::Class cls;
  std::optional<std::uint16_t> error_code;
  std::optional<stun::Address> mapped;
  bool integrity_ok = false;
  bool fingerprint_ok = false;
};

// Sends a check and waits for the response to it.
std::optional<Response> check(LoopbackUdp& socket, const SocketAddress& sfu, const Check& c,
                              const std::string& verify_password,
                              std::chrono::milliseconds wait = 2s) {
  EXPECT_TRUE(socket.send_to(sfu, build_check(c)));
  auto datagram = socket.receive(wait);
  if (!datagram) return std::nullopt;
  EXPECT_EQ(datagram->source, sfu);
  auto message = stun::MessageView::parse(datagram->bytes);
  EXPECT_TRUE(message.ok());
  if (!message) return std::nullopt;
  EXPECT_EQ(message->transaction_id(), c.id);
  EXPECT_EQ(message->method(), stun::Method::kBinding);
  Response r{message->cls(), {}, {}, false, false};
  if (auto attribute = message->find(stun::AttributeType::kErrorCode)) {
    if (auto code = stun::decode_error_code(*attribute)) r.error_code = code->code;
  }
  if (auto mapped = message->xor_address(stun::AttributeType::kXorMappedAddress)) {
    r.mapped = *mapped;
  }
  r.integrity_ok =
      stun::verify_message_integrity(*message, stun::short_term_key(verify_password).span()).ok();
  r.fingerprint_ok = stun::verify_fingerprint(*message).ok();
  return r;
}

TEST(SfuServer, AnswersConnectivityChecks) {
  Running sfu;
  Created s = create(sfu);
  LoopbackUdp peer;

  // RFC 8445 section 7.2.2: USERNAME "<answer ufrag>:<offer ufrag>", keyed with the answer's pwd.
  Check valid{s.local.ufrag + ":" + s.remote.ufrag, s.local.pwd, true, transaction(1)};
  auto ok = check(peer, sfu.address, valid, s.local.pwd);
  ASSERT_TRUE(ok.has_value()) << "no response";
  EXPECT_EQ(ok->cls, stun::Class::kSuccessResponse);
  ASSERT_TRUE(ok->mapped.has_value());
  EXPECT_EQ(ok->mapped->ip.to_string(), "127.0.0.1");
  EXPECT_EQ(ok->mapped->port, peer.address().port()) << "XOR-MAPPED-ADDRESS is our socket";
  EXPECT_TRUE(ok->integrity_ok) << "the response is keyed with the SFU's password";
  EXPECT_TRUE(ok->fingerprint_ok);

  // Wrong password: 401 (RFC 8489 section 9.1.3).
  Check wrong{s.local.ufrag + ":" + s.remote.ufrag, "not-the-right-password-1", true,
              transaction(2)};
  auto unauthorized = check(peer, sfu.address, wrong, s.local.pwd);
  ASSERT_TRUE(unauthorized.has_value());
  EXPECT_EQ(unauthorized->cls, stun::Class::kErrorResponse);
  EXPECT_EQ(unauthorized->error_code, 401);
  EXPECT_TRUE(unauthorized->fingerprint_ok);

  // An unknown ufrag routes to no session: no answer at all.
  Check stranger{"zzzz:" + s.remote.ufrag, s.local.pwd, true, transaction(3)};
  EXPECT_FALSE(check(peer, sfu.address, stranger, s.local.pwd, 300ms).has_value());

  EXPECT_TRUE(eventually(
      [&] {
        return sfu.value("podium_sfu_ice_checks_total", {{"result", "accepted"}}) == 1 &&
               sfu.value("podium_sfu_ice_checks_total", {{"result", "rejected"}}) == 1 &&
               sfu.value("podium_sfu_dropped_datagrams_total", {{"reason", "unknown_ufrag"}}) ==
                   1 &&
               sfu.value("podium_sfu_datagrams_received_total", {{"kind", "stun"}}) == 3 &&
               sfu.value("podium_sfu_sessions", {{"ice", "connected"}, {"dtls", "new"}}) == 1;
      },
      3s))
      << "accepted " << sfu.value("podium_sfu_ice_checks_total", {{"result", "accepted"}})
      << ", rejected " << sfu.value("podium_sfu_ice_checks_total", {{"result", "rejected"}});
}

TEST(SfuServer, ChecksFollowAnIceRestart) {
  Running sfu;
  Created s = create(sfu);
  LoopbackUdp peer;
  ASSERT_TRUE(check(peer, sfu.address,
                    {s.local.ufrag + ":" + s.remote.ufrag, s.local.pwd, true, transaction(1)},
                    s.local.pwd));
  const Ice browser{"rst1", "restart-password-000000001"};
  auto update =
      sfu.server.sessions().update_session("room", s.answer.session_id, fragment(browser), "*");
  ASSERT_TRUE(update.ok()) << update.error().reason;
  auto frag = sdp::parse_sdpfrag(update->sdpfrag);
  ASSERT_TRUE(frag.ok() && frag->ice_ufrag && frag->ice_pwd);

  auto fresh = check(peer, sfu.address,
                     {*frag->ice_ufrag + ":" + browser.ufrag, *frag->ice_pwd, true, transaction(2)},
                     *frag->ice_pwd);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->cls, stun::Class::kSuccessResponse);
  EXPECT_TRUE(fresh->integrity_ok);
  // The old ufrag no longer routes anywhere.
  EXPECT_FALSE(check(peer, sfu.address,
                     {s.local.ufrag + ":" + s.remote.ufrag, s.local.pwd, true, transaction(3)},
                     s.local.pwd, 300ms)
                   .has_value());
}

// ---------------------------------------------------------------------------------------------
// Consent freshness (RFC 7675) with the real clock: about 7 s.

TEST(SfuServerSlow, SilentPeersLoseConsentAndNeverConnectedOnesTimeOut) {
  auto config = loopback_config();
  config.consent_timeout = 5s;  // the smallest the configuration accepts
  Running sfu(config);
  auto& sessions = sfu.server.sessions();
  LoopbackUdp silent_peer;
  LoopbackUdp live_peer;
  Created silent = create(sfu);
  Created live = create(sfu, "firefox_153_whep_offer.sdp");
  Created never = create(sfu, "aiortc_1_4_whep_offer.sdp");
  auto check_of = [](const Created& s, std::uint8_t n) {
    return Check{s.local.ufrag + ":" + s.remote.ufrag, s.local.pwd, true, transaction(n)};
  };

  const auto start = Clock::now();
  auto connected = check(silent_peer, sfu.address, check_of(silent, 1), silent.local.pwd);
  ASSERT_TRUE(connected && connected->cls == stun::Class::kSuccessResponse);
  ASSERT_TRUE(check(live_peer, sfu.address, check_of(live, 2), live.local.pwd));

  // The live peer sends a consent check every second (RFC 7675 section 5.1 suggests ~5 s with
  // jitter; 1 s keeps well inside the 5 s timeout); the silent one stops after its first.
  std::optional<Clock::duration> expired_after;
  std::uint8_t n = 10;
  auto next_refresh = Clock::now() + 1s;
  while (Clock::now() - start < 9s) {
    if (Clock::now() >= next_refresh) {
      auto refreshed = check(live_peer, sfu.address, check_of(live, n++), live.local.pwd);
      ASSERT_TRUE(refreshed && refreshed->cls == stun::Class::kSuccessResponse);
      next_refresh += 1s;
    }
    if (!expired_after && sfu.value("podium_sfu_consent_expiries_total") >= 1) {
      expired_after = Clock::now() - start;
    }
    if (expired_after &&
        sfu.value("podium_sfu_sessions_closed_total", {{"reason", "setup_timeout"}}) >= 1 &&
        Clock::now() - start > 7s) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(expired_after.has_value()) << "consent never expired";
  EXPECT_GE(*expired_after, 5s) << "not before consent_timeout";
  EXPECT_LE(*expired_after, 7500ms) << "checked once a second, flushed once a second";
  EXPECT_EQ(sfu.value("podium_sfu_consent_expiries_total"), 1) << "only the silent session";
  EXPECT_EQ(sfu.value("podium_sfu_sessions_closed_total", {{"reason", "consent_expired"}}), 1);
  EXPECT_EQ(sfu.value("podium_sfu_sessions_closed_total", {{"reason", "setup_timeout"}}), 1)
      << "the session that never had a valid check";

  // The silent and the never-connected sessions are gone, the live one is still there.
  auto gone = sessions.close_session("room", silent.answer.session_id);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, SessionErrorCode::not_found);
  auto never_gone = sessions.close_session("room", never.answer.session_id);
  ASSERT_FALSE(never_gone.ok());
  EXPECT_EQ(never_gone.error().code, SessionErrorCode::not_found);
  EXPECT_TRUE(sessions.close_session("room", live.answer.session_id).ok());
  // A check for the expired session is not answered any more.
  EXPECT_FALSE(
      check(silent_peer, sfu.address, check_of(silent, 99), silent.local.pwd, 300ms).has_value());
}

}  // namespace
}  // namespace podium::sfu
