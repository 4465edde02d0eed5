#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sdp/answer.hpp"
#include "sdp/session_description.hpp"
#include "sdp_test_data.hpp"

namespace {

using namespace podium::sfu::sdp;

using podium::sfu::sdp::testing::load;

// Drops every line containing `needle`.
std::string without(std::string sdp, std::string_view needle) {
  std::string out;
  std::istringstream in(sdp);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) == std::string::npos) out += line + "\n";
  }
  return out;
}

// Drops the m-section whose m= line starts with `prefix`, up to the next m= line.
std::string drop_section(const std::string& sdp, std::string_view prefix) {
  std::string out;
  std::istringstream in(sdp);
  bool dropping = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("m=", 0) == 0) dropping = line.rfind(prefix, 0) == 0;
    if (!dropping) out += line + "\n";
  }
  return out;
}

std::string replaced(std::string sdp, std::string_view from, std::string_view to) {
  for (auto pos = sdp.find(from); pos != std::string::npos; pos = sdp.find(from, pos + to.size())) {
    sdp.replace(pos, from.size(), to);
  }
  return sdp;
}

SessionDescription offer_from(std::string_view text) {
  auto parsed = parse(text);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error());
  return parsed.ok() ? *parsed : SessionDescription{};
}

AnswerOptions options(Role role) {
  AnswerOptions o;
  o.role = role;
  o.ice_ufrag = "SfuU";
  o.ice_pwd = "sfuPasswordOf24Chars+/0";
  for (std::size_t i = 0; i < o.fingerprint_sha256.size(); ++i) {
    o.fingerprint_sha256[i] = static_cast<std::uint8_t>(i * 7);
  }
  o.candidates = {host_candidate("192.0.2.10", 40000, CandidateTransport::udp),
                  host_candidate("192.0.2.10", 40001, CandidateTransport::tcp)};
  if (role == Role::guest) o.audio = {0x11223344, "podium-sfu", "room", "room-audio"};
  return o;
}

Negotiation negotiate_ok(std::string_view offer_text, const AnswerOptions& o) {
  auto n = negotiate(offer_from(offer_text), o);
  EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error());
  return n.ok() ? *n : Negotiation{};
}

std::string negotiate_error(std::string_view offer_text, const AnswerOptions& o) {
  auto parsed = parse(offer_text);
  if (!parsed) return "parse: " + parsed.error();
  auto n = negotiate(*parsed, o);
  return n.ok() ? std::string("<answered>") : n.error();
}

// Every answer must itself be SDP that parses back to the same model.
void expect_answer_round_trips(const SessionDescription& answer) {
  const std::string text = to_string(answer);
  auto again = parse(text);
  ASSERT_TRUE(again.ok()) << again.error() << "\n" << text;
  EXPECT_EQ(*again, answer) << text;
}

void expect_local_transport(const MediaSection& m, const AnswerOptions& o, Setup setup) {
  EXPECT_EQ(m.port, 40000);
  ASSERT_TRUE(m.connection);
  EXPECT_EQ(m.connection->address, "192.0.2.10");
  EXPECT_EQ(m.ice_ufrag, o.ice_ufrag);
  EXPECT_EQ(m.ice_pwd, o.ice_pwd);
  ASSERT_EQ(m.fingerprints.size(), 1u);
  EXPECT_EQ(m.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(m.fingerprints[0].bytes,
            std::vector<std::uint8_t>(o.fingerprint_sha256.begin(), o.fingerprint_sha256.end()));
  EXPECT_EQ(m.setup, setup);
  EXPECT_EQ(m.candidates, o.candidates);
  EXPECT_TRUE(m.end_of_candidates);
}

void expect_rejected(const MediaSection& m, std::string_view mid) {
  EXPECT_EQ(m.port, 0);
  EXPECT_EQ(m.mid, mid);
  EXPECT_EQ(m.direction, Direction::inactive);
  EXPECT_EQ(m.formats.size(), 1u);
  EXPECT_TRUE(m.candidates.empty());
}

TEST(SdpAnswer, ChromiumWhipPresenter) {
  const AnswerOptions o = options(Role::presenter);
  const Negotiation n = negotiate_ok(load("chromium_156_whip_offer.sdp"), o);
  const SessionDescription& a = n.answer;
  EXPECT_TRUE(a.ice_lite);
  ASSERT_EQ(a.groups.size(), 1u);
  EXPECT_EQ(a.groups[0], (Group{"BUNDLE", {"0", "2"}}));
  EXPECT_EQ(n.bundle, (std::vector<std::string>{"0", "2"}));
  ASSERT_EQ(a.media.size(), 3u);

  const MediaSection& audio = a.media[0];
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.proto_text, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(audio.direction, Direction::recvonly);
  EXPECT_EQ(audio.formats, (std::vector<std::string>{"111"}));
  ASSERT_EQ(audio.rtpmaps.size(), 1u);
  EXPECT_EQ(audio.rtpmaps[0], (RtpMap{111, "opus", 48000, 2}));
  ASSERT_EQ(audio.fmtps.size(), 1u);
  EXPECT_EQ(audio.fmtps[0].text, "minptime=10;useinbandfec=1");
  ASSERT_EQ(audio.rtcp_fbs.size(), 1u);
  EXPECT_EQ(audio.rtcp_fbs[0], (RtcpFb{111, "transport-cc", ""}));
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_TRUE(audio.rtcp_rsize);
  ASSERT_EQ(audio.extmaps.size(), 2u);  // abs-send-time and sdes:mid are not answered
  EXPECT_EQ(audio.extmaps[0], (Extmap{1, std::nullopt, std::string(kAudioLevelUri), ""}));
  EXPECT_EQ(audio.extmaps[1], (Extmap{3, std::nullopt, std::string(kTransportCcUri), ""}));
  EXPECT_TRUE(audio.ssrcs.empty());  // a presenter's SFU sends nothing
  expect_local_transport(audio, o, Setup::passive);

  expect_rejected(a.media[1], "1");
  EXPECT_EQ(a.media[1].media, "video");

  const MediaSection& data = a.media[2];
  EXPECT_EQ(data.mid, "2");
  EXPECT_EQ(data.proto_text, "UDP/DTLS/SCTP");
  EXPECT_EQ(data.formats, (std::vector<std::string>{"webrtc-datachannel"}));
  EXPECT_EQ(data.sctp_port, 5000);
  EXPECT_EQ(data.max_message_size, 262144u);
  EXPECT_FALSE(data.direction);
  expect_local_transport(data, o, Setup::passive);

  // What the SFU learns from the offer.
  EXPECT_EQ(n.local_setup, Setup::passive);
  EXPECT_TRUE(n.dtls_server());
  EXPECT_EQ(n.remote.mid, "0");
  EXPECT_EQ(n.remote.ice_ufrag, "hWKD");
  EXPECT_EQ(n.remote.ice_pwd, "NS3fCCV+vF2dxrw92EtjRjCu");
  EXPECT_EQ(n.remote.fingerprint.algorithm, "sha-256");
  EXPECT_EQ(n.remote.fingerprint.bytes.size(), 32u);
  EXPECT_EQ(n.remote.setup, Setup::actpass);
  EXPECT_TRUE(n.remote.trickle);
  EXPECT_FALSE(n.remote.ice_lite);
  ASSERT_EQ(n.remote.candidates.size(), 2u);
  EXPECT_EQ(n.remote.candidates[0].port, 39224);
  ASSERT_TRUE(n.audio);
  EXPECT_EQ(n.audio->mid, "0");
  EXPECT_EQ(n.audio->payload_type, 111);
  EXPECT_EQ(n.audio->fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(n.audio->audio_level_id, 1);
  EXPECT_EQ(n.audio->transport_cc_id, 3);
  EXPECT_TRUE(n.audio->transport_cc_feedback);
  EXPECT_EQ(n.audio->remote_ssrc, 1099332964u);
  EXPECT_EQ(n.audio->remote_direction, Direction::sendonly);
  EXPECT_EQ(n.audio->local_direction, Direction::recvonly);
  ASSERT_TRUE(n.data);
  EXPECT_EQ(n.data->mid, "2");
  EXPECT_EQ(n.data->remote_sctp_port, 5000);
  EXPECT_EQ(n.data->remote_max_message_size, 262144u);
  EXPECT_EQ(n.data->local_max_message_size, 262144u);
  EXPECT_FALSE(n.data->legacy_sctpmap);
  ASSERT_EQ(n.rejected.size(), 1u);
  EXPECT_EQ(n.rejected[0].mid, "1");
  EXPECT_EQ(n.rejected[0].reason, "video is not served");
  expect_answer_round_trips(a);

  const std::string text = to_string(a);
  EXPECT_NE(text.find("a=ice-lite\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=group:BUNDLE 0 2\r\n"), std::string::npos);
  EXPECT_NE(text.find("m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=" + to_string(o.candidates[1]) + "\r\n"), std::string::npos);
  EXPECT_NE(text.find(" 192.0.2.10 40001 typ host tcptype passive\r\n"), std::string::npos);
}

TEST(SdpAnswer, BuildAnswerMatchesNegotiate) {
  const AnswerOptions o = options(Role::presenter);
  const SessionDescription offer = offer_from(load("chromium_156_whip_offer.sdp"));
  auto answer = build_answer(offer, o);
  ASSERT_TRUE(answer.ok()) << answer.error();
  EXPECT_EQ(*answer, negotiate(offer, o)->answer);
}

TEST(SdpAnswer, ChromiumWhepGuest) {
  const AnswerOptions o = options(Role::guest);
  const Negotiation n = negotiate_ok(load("chromium_156_whep_offer.sdp"), o);
  const SessionDescription& a = n.answer;
  ASSERT_EQ(a.media.size(), 2u);
  EXPECT_EQ(a.groups[0].mids, (std::vector<std::string>{"0", "1"}));
  const MediaSection& audio = a.media[0];
  EXPECT_EQ(audio.direction, Direction::sendonly);
  ASSERT_EQ(audio.msids.size(), 1u);
  EXPECT_EQ(audio.msids[0], (Msid{"room", "room-audio"}));
  ASSERT_EQ(audio.ssrcs.size(), 2u);
  EXPECT_EQ(audio.ssrcs[0], (SsrcAttribute{0x11223344, "cname", "podium-sfu"}));
  EXPECT_EQ(audio.ssrcs[1], (SsrcAttribute{0x11223344, "msid", "room room-audio"}));
  EXPECT_EQ(n.audio->remote_direction, Direction::recvonly);
  EXPECT_EQ(n.audio->local_direction, Direction::sendonly);
  EXPECT_FALSE(n.audio->remote_ssrc);  // Chromium's recvonly offer lists no a=ssrc
  ASSERT_TRUE(n.data);
  EXPECT_TRUE(n.rejected.empty());
  expect_answer_round_trips(a);
}

TEST(SdpAnswer, RoleMustFitTheAudioDirection) {
  // A WHEP (recvonly) offer sent to the WHIP endpoint: the audio cannot be received.
  const Negotiation n = negotiate_ok(load("chromium_156_whep_offer.sdp"), options(Role::presenter));
  EXPECT_EQ(n.answer.media[0].port, 0);
  EXPECT_FALSE(n.audio);
  ASSERT_EQ(n.rejected.size(), 1u);
  EXPECT_EQ(n.rejected[0].reason, "audio is recvonly; a presenter must send");
  EXPECT_EQ(n.bundle, (std::vector<std::string>{"1"}));
  EXPECT_EQ(n.remote.mid, "1");  // the data section carries the transport now

  EXPECT_EQ(negotiate_error(drop_section(load("chromium_156_whip_offer.sdp"), "m=application"),
                            options(Role::guest))
                .find("no acceptable m-section"),
            0u);
}

TEST(SdpAnswer, FirefoxWhipPresenter) {
  const AnswerOptions o = options(Role::presenter);
  const Negotiation n = negotiate_ok(load("firefox_153_whip_offer.sdp"), o);
  const SessionDescription& a = n.answer;
  ASSERT_EQ(a.media.size(), 3u);
  EXPECT_EQ(a.groups[0].mids, (std::vector<std::string>{"0", "2"}));
  const MediaSection& audio = a.media[0];
  EXPECT_EQ(audio.formats, (std::vector<std::string>{"109"}));
  EXPECT_EQ(audio.direction, Direction::recvonly);
  ASSERT_EQ(audio.fmtps.size(), 1u);
  EXPECT_EQ(audio.fmtps[0].text, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  ASSERT_EQ(audio.extmaps.size(), 2u);
  EXPECT_EQ(audio.extmaps[0].id, 1);
  EXPECT_EQ(audio.extmaps[1].id, 7);  // Firefox's transport-cc id is kept
  EXPECT_EQ(audio.rtcp_fbs, (std::vector<RtcpFb>{{109, "transport-cc", ""}}));
  EXPECT_FALSE(audio.rtcp_rsize);  // Firefox offers no rtcp-rsize for audio
  expect_rejected(a.media[1], "1");
  EXPECT_EQ(n.remote.ice_ufrag, "dc5aa98b");
  EXPECT_EQ(n.remote.fingerprint.bytes[0], 0x75);  // from the session level
  EXPECT_TRUE(n.remote.end_of_candidates);
  ASSERT_EQ(n.remote.candidates.size(), 4u);  // Firefox's component 2 (RTCP) ones are left out
  for (const auto& c : n.remote.candidates) EXPECT_EQ(c.component, 1);
  EXPECT_EQ(n.audio->payload_type, 109);
  EXPECT_EQ(n.audio->remote_ssrc, 2196253870u);
  EXPECT_EQ(n.data->remote_max_message_size, 1073741823u);
  expect_answer_round_trips(a);
}

TEST(SdpAnswer, FirefoxWhepGuest) {
  const Negotiation n = negotiate_ok(load("firefox_153_whep_offer.sdp"), options(Role::guest));
  EXPECT_EQ(n.answer.media[0].direction, Direction::sendonly);
  EXPECT_EQ(n.audio->payload_type, 109);
  // Only one-byte ids of supported URIs; the offered csrc-audio-level/recvonly is not supported.
  EXPECT_EQ(n.answer.media[0].extmaps.size(), 2u);
  EXPECT_TRUE(n.data);
  expect_answer_round_trips(n.answer);
}

TEST(SdpAnswer, AiortcLegacyDataChannel) {
  const Negotiation n = negotiate_ok(load("aiortc_1_4_whip_offer.sdp"), options(Role::presenter));
  const SessionDescription& a = n.answer;
  ASSERT_EQ(a.media.size(), 2u);
  const MediaSection& audio = a.media[0];
  EXPECT_EQ(audio.formats, (std::vector<std::string>{"96"}));
  ASSERT_EQ(audio.extmaps.size(), 1u);
  EXPECT_EQ(audio.extmaps[0].id, 2);  // aiortc numbers ssrc-audio-level 2
  EXPECT_TRUE(audio.rtcp_fbs.empty());
  EXPECT_TRUE(audio.fmtps.empty());
  const MediaSection& data = a.media[1];
  EXPECT_EQ(data.proto_text, "DTLS/SCTP");
  EXPECT_EQ(data.formats, (std::vector<std::string>{"5000"}));
  EXPECT_EQ(data.sctpmaps, (std::vector<Sctpmap>{{5000, "webrtc-datachannel", 65535}}));
  EXPECT_FALSE(data.sctp_port);
  EXPECT_EQ(data.max_message_size, 262144u);
  EXPECT_TRUE(n.data->legacy_sctpmap);
  EXPECT_EQ(n.data->remote_sctp_port, 5000);
  EXPECT_EQ(n.data->remote_max_message_size, 65536u);
  // aiortc takes the transport of the first mid of the answer's group: section 0's credentials.
  EXPECT_EQ(n.remote.ice_ufrag, "rZ02");
  EXPECT_EQ(n.remote.candidates.size(), 1u);
  EXPECT_EQ(n.audio->audio_level_id, 2);
  EXPECT_FALSE(n.audio->transport_cc_id);
  EXPECT_EQ(n.audio->remote_ssrc, 1689096816u);
  expect_answer_round_trips(a);
  EXPECT_NE(to_string(a).find("m=application 40000 DTLS/SCTP 5000\r\n"), std::string::npos);
  EXPECT_NE(to_string(a).find("a=sctpmap:5000 webrtc-datachannel 65535\r\n"), std::string::npos);

  const Negotiation guest = negotiate_ok(load("aiortc_1_4_whep_offer.sdp"), options(Role::guest));
  EXPECT_EQ(guest.answer.media[0].direction, Direction::sendonly);
}

TEST(SdpAnswer, MaxMessageSizeDefaultsTo64KiB) {
  const std::string offer = without(load("aiortc_1_4_whip_offer.sdp"), "max-message-size");
  EXPECT_EQ(negotiate_ok(offer, options(Role::presenter)).data->remote_max_message_size, 65536u);
  const std::string chromium = without(load("chromium_156_whip_offer.sdp"), "max-message-size");
  const Negotiation n = negotiate_ok(chromium, options(Role::presenter));
  EXPECT_EQ(n.data->remote_max_message_size, 65536u);
  const std::string no_port = without(chromium, "sctp-port");
  EXPECT_EQ(negotiate_ok(no_port, options(Role::presenter)).data->remote_sctp_port, 5000);
}

TEST(SdpAnswer, SetupRoles) {
  const std::string offer = load("chromium_156_whip_offer.sdp");
  const AnswerOptions o = options(Role::presenter);
  auto setup_of = [&](const std::string& text, const AnswerOptions& opts) {
    const Negotiation n = negotiate_ok(text, opts);
    EXPECT_EQ(n.answer.media[0].setup, n.local_setup);
    return n.local_setup;
  };
  EXPECT_EQ(setup_of(offer, o), Setup::passive);
  EXPECT_EQ(setup_of(replaced(offer, "a=setup:actpass", "a=setup:active"), o), Setup::passive);
  EXPECT_EQ(setup_of(replaced(offer, "a=setup:actpass", "a=setup:passive"), o), Setup::active);
  EXPECT_EQ(setup_of(without(offer, "a=setup"), o), Setup::passive);  // absent means active
  AnswerOptions client = o;
  client.setup_for_actpass = Setup::active;
  EXPECT_EQ(setup_of(offer, client), Setup::active);
  EXPECT_FALSE(negotiate_ok(offer, client).dtls_server());
  EXPECT_EQ(negotiate_error(replaced(offer, "a=setup:actpass", "a=setup:holdconn"), o),
            "a=setup:holdconn: the offer asks for no DTLS connection");
}

TEST(SdpAnswer, UnservableOffers) {
  const std::string offer = load("chromium_156_whip_offer.sdp");
  const AnswerOptions o = options(Role::presenter);
  EXPECT_EQ(negotiate_error(without(offer, "a=ice-ufrag"), o),
            "no ICE credentials (a=ice-ufrag and a=ice-pwd) for mid 0");
  EXPECT_EQ(negotiate_error(replaced(offer, "a=ice-ufrag:hWKD", "a=ice-ufrag:h!"), o),
            "bad ICE credentials for mid 0: a=ice-ufrag needs 4-256 and a=ice-pwd 22-256 of "
            "ALPHA DIGIT + /");
  EXPECT_EQ(negotiate_error(without(offer, "a=fingerprint"), o),
            "no sha-256 a=fingerprint for mid 0");
  EXPECT_EQ(negotiate_error(replaced(offer, "fingerprint:sha-256", "fingerprint:sha-1"), o),
            "no sha-256 a=fingerprint for mid 0 (offered: sha-1)");
  EXPECT_EQ(negotiate_error(without(offer, "a=group:BUNDLE"), o),
            "not BUNDLE-able: the accepted mids 0 and 2 are not in one a=group:BUNDLE");
  EXPECT_EQ(negotiate_error(replaced(offer, "a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1 2 7"), o),
            "not BUNDLE-able: a=group:BUNDLE names mid '7', which no m-section has");
  EXPECT_EQ(negotiate_error(replaced(offer, "a=mid:2", "a=mid:0"), o),
            "not BUNDLE-able: mid '0' is used twice");
  EXPECT_EQ(negotiate_error(without(offer, "a=mid:"), o),
            "not BUNDLE-able: m-section 0 has no a=mid");
  EXPECT_EQ(negotiate_error(replaced(offer, "a=extmap-allow-mixed", "a=ice-lite"), o),
            "the offerer is ICE-lite like the SFU; one side must run full ICE (RFC 8445)");

  // Nothing to accept: each section's reason is given.
  std::string video_only = replaced(offer, "111 opus/48000/2", "111 opux/48000/2");
  video_only = replaced(video_only, "m=application 42642 UDP/DTLS/SCTP webrtc-datachannel",
                        "m=application 42642 UDP/DTLS/SCTP bfcp");
  EXPECT_EQ(negotiate_error(video_only, o),
            "no acceptable m-section: m-section 0 (mid 0): no Opus/48000/2 payload type; "
            "m-section 1 (mid 1): video is not served; m-section 2 (mid 2): application section "
            "is not webrtc-datachannel over DTLS/SCTP");
  EXPECT_EQ(negotiate_error("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", o),
            "no acceptable m-section: the offer has none");
}

TEST(SdpAnswer, RtcpMuxIsRequiredForAudio) {
  const AnswerOptions o = options(Role::presenter);
  const std::string offer = without(load("chromium_156_whip_offer.sdp"), "a=rtcp-mux");
  const Negotiation n = negotiate_ok(offer, o);
  EXPECT_EQ(n.answer.media[0].port, 0);
  EXPECT_FALSE(n.audio);
  EXPECT_EQ(n.rejected[0].reason,
            "no a=rtcp-mux (RTP and RTCP must share the transport, RFC 8858)");
  EXPECT_TRUE(n.data);
  const std::string audio_only = drop_section(offer, "m=application");
  EXPECT_NE(negotiate_error(audio_only, o).find("no a=rtcp-mux"), std::string::npos);
}

TEST(SdpAnswer, HandWrittenEdgeCases) {
  std::string fp;  // 32 bytes, upper-case algorithm name as some stacks write it
  for (int i = 0; i < 32; ++i) fp += (i ? ":" : "") + std::string("AB");
  const std::string session =
      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "a=group:BUNDLE a b c d\r\na=ice-ufrag:abcd\r\n"
      "a=ice-pwd:0123456789012345678901\r\n"
      "a=fingerprint:SHA-256 " +
      fp + "\r\na=setup:actpass\r\n";
  const std::string offer = session +
                            // disabled by the offerer
                            "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\na=rtcp-mux\r\n"
                            "a=rtpmap:111 opus/48000/2\r\n"
                            // bundle-only with port 0 is alive; sendonly extmap direction
                            "m=audio 0 UDP/TLS/RTP/SAVPF 100 111\r\na=mid:b\r\na=bundle-only\r\n"
                            "a=rtcp-mux\r\na=sendrecv\r\na=rtpmap:100 opus/48000\r\n"
                            "a=rtpmap:111 OPUS/48000/2\r\na=rtcp-fb:* transport-cc\r\n"
                            "a=extmap:5/sendonly urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
                            "a=extmap:20 " +
                            std::string(kTransportCcUri) +
                            "\r\n"
                            // a second usable audio section
                            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:c\r\na=rtcp-mux\r\n"
                            "a=rtpmap:111 opus/48000/2\r\n"
                            "m=text 9 RTP/AVP 98\r\na=mid:d\r\n";
  AnswerOptions o = options(Role::presenter);
  o.candidates.clear();
  o.trickle = false;
  o.ice_lite = false;
  const Negotiation n = negotiate_ok(offer, o);
  ASSERT_EQ(n.answer.media.size(), 4u);
  EXPECT_FALSE(n.answer.ice_lite);
  EXPECT_EQ(n.rejected.size(), 3u);
  EXPECT_EQ(n.rejected[0].reason, "disabled by the offerer (port 0)");
  EXPECT_EQ(n.rejected[1].reason, "only one audio section is served");
  EXPECT_EQ(n.rejected[2].reason, "media 'text' is not served");
  expect_rejected(n.answer.media[3], "d");
  EXPECT_EQ(n.answer.media[3].proto_text, "RTP/AVP");
  const MediaSection& audio = n.answer.media[1];
  EXPECT_EQ(audio.port, 9);  // no candidates: the discard port
  EXPECT_EQ(audio.connection, Connection{});
  EXPECT_TRUE(audio.ice_options.empty());
  EXPECT_EQ(audio.formats, (std::vector<std::string>{"111"}));  // 100 is mono
  ASSERT_EQ(audio.extmaps.size(), 1u);  // id 20 needs two-byte headers: not answered
  EXPECT_EQ(audio.extmaps[0], (Extmap{5, Direction::recvonly, std::string(kAudioLevelUri), ""}));
  EXPECT_TRUE(audio.rtcp_fbs.empty());  // transport-cc feedback needs the extension
  EXPECT_EQ(n.bundle, (std::vector<std::string>{"b"}));
  EXPECT_EQ(n.remote.fingerprint.algorithm, "sha-256");  // "SHA-256" as written
  EXPECT_EQ(n.audio->remote_direction, Direction::sendrecv);
  expect_answer_round_trips(n.answer);
}

TEST(SdpAnswer, ConflictingExtensionIdsAreAnsweredOnce) {
  const std::string offer = replaced(
      load("chromium_156_whip_offer.sdp"),
      "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
      "a=extmap:4",
      "a=extmap:1 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
      "a=extmap:4");
  const Negotiation n = negotiate_ok(offer, options(Role::presenter));
  ASSERT_EQ(n.answer.media[0].extmaps.size(), 1u);
  EXPECT_EQ(n.answer.media[0].extmaps[0].uri, kAudioLevelUri);
  EXPECT_FALSE(n.audio->transport_cc_id);
  EXPECT_FALSE(n.audio->transport_cc_feedback);
}

TEST(SdpAnswer, BadOptionsAreRefused) {
  const std::string offer = load("chromium_156_whip_offer.sdp");
  AnswerOptions o = options(Role::presenter);
  o.ice_ufrag = "abc";
  EXPECT_EQ(negotiate_error(offer, o), "local ice-ufrag must be 4-256 ice-chars");
  o = options(Role::presenter);
  o.ice_pwd = "short";
  EXPECT_EQ(negotiate_error(offer, o), "local ice-pwd must be 22-256 ice-chars");
  o = options(Role::presenter);
  o.setup_for_actpass = Setup::actpass;
  EXPECT_EQ(negotiate_error(offer, o), "local setup must be active or passive");
  o = options(Role::presenter);
  o.max_message_size = 65536;
  EXPECT_EQ(negotiate_error(offer, o), "local max-message-size must be at least 262144");
  o = options(Role::guest);
  o.audio.ssrc = 0;
  EXPECT_EQ(negotiate_error(load("chromium_156_whep_offer.sdp"), o),
            "a guest answer needs the SFU's audio SSRC and cname");
  o = options(Role::guest);
  o.audio.cname = "two words";
  EXPECT_EQ(negotiate_error(load("chromium_156_whep_offer.sdp"), o),
            "a guest answer needs the SFU's audio SSRC and cname");
  o = options(Role::presenter);
  o.candidates[0].address = "192.0.2.1\r\na=injected";
  EXPECT_EQ(negotiate_error(offer, o), "bad local candidate");
}

TEST(SdpAnswer, HostCandidatePriorities) {
  const Candidate udp = host_candidate("192.0.2.10", 40000, CandidateTransport::udp);
  EXPECT_EQ(udp.priority, 2130706431u);  // 126 << 24 | 65535 << 8 | 255
  EXPECT_EQ(udp.type, CandidateType::host);
  EXPECT_FALSE(udp.tcptype);
  const Candidate tcp = host_candidate("192.0.2.10", 40001, CandidateTransport::tcp);
  EXPECT_EQ(tcp.tcptype, TcpType::passive);
  EXPECT_LT(tcp.priority, udp.priority);
  EXPECT_NE(tcp.foundation, udp.foundation);
  EXPECT_EQ(host_candidate("192.0.2.10", 1, CandidateTransport::udp).foundation, udp.foundation);
  auto parsed = parse_candidate(to_string(tcp));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(*parsed, tcp);
}

TEST(SdpAnswer, Ipv6DefaultCandidate) {
  AnswerOptions o = options(Role::presenter);
  o.candidates = {host_candidate("2001:db8::10", 40000, CandidateTransport::udp)};
  const Negotiation n = negotiate_ok(load("chromium_156_whip_offer.sdp"), o);
  EXPECT_EQ(n.answer.media[0].connection, (Connection{"IN", "IP6", "2001:db8::10"}));
  expect_answer_round_trips(n.answer);
}

}  // namespace
