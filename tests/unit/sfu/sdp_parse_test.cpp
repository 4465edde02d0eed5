#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sdp/session_description.hpp"
#include "sdp_test_data.hpp"

namespace {

using namespace podium::sfu::sdp;

using podium::sfu::sdp::testing::load;

SessionDescription parse_file(const std::string& name) {
  auto parsed = parse(load(name));
  EXPECT_TRUE(parsed.ok()) << name << ": " << (parsed.ok() ? "" : parsed.error());
  return parsed.ok() ? *parsed : SessionDescription{};
}

const std::string kFiles[] = {
    "chromium_156_whip_offer.sdp", "chromium_156_whep_offer.sdp", "firefox_153_whip_offer.sdp",
    "firefox_153_whep_offer.sdp",  "aiortc_1_4_whip_offer.sdp",   "aiortc_1_4_whep_offer.sdp",
};

std::string parse_error(std::string_view sdp) {
  auto parsed = parse(sdp);
  return parsed.ok() ? std::string("<parsed>") : parsed.error();
}

// A minimal valid head; tests append lines to it.
constexpr std::string_view kHead = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

TEST(SdpParse, ChromiumWhipOfferSession) {
  const SessionDescription d = parse_file("chromium_156_whip_offer.sdp");
  EXPECT_EQ(d.origin.session_id, "4858889932870777134");
  EXPECT_EQ(d.origin.address, "127.0.0.1");
  ASSERT_NE(d.bundle_group(), nullptr);
  EXPECT_EQ(d.bundle_group()->mids, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_TRUE(d.extmap_allow_mixed);
  ASSERT_TRUE(d.msid_semantic);
  EXPECT_EQ(d.msid_semantic->semantic, "WMS");  // "a=msid-semantic: WMS <id>" with the space
  EXPECT_EQ(d.msid_semantic->ids,
            (std::vector<std::string>{"ebb21da7-f6e9-4e2f-92f7-998a8487dd30"}));
  ASSERT_EQ(d.media.size(), 3u);
  EXPECT_EQ(d.media[0].kind, MediaKind::audio);
  EXPECT_EQ(d.media[1].kind, MediaKind::video);
  EXPECT_EQ(d.media[2].kind, MediaKind::application);
}

TEST(SdpParse, ChromiumWhipOfferAudio) {
  const SessionDescription d = parse_file("chromium_156_whip_offer.sdp");
  ASSERT_EQ(d.media.size(), 3u);
  const MediaSection& a = d.media[0];
  EXPECT_EQ(a.port, 39224);
  EXPECT_EQ(a.proto, Proto::udp_tls_rtp_savpf);
  EXPECT_EQ(a.formats, (std::vector<std::string>{"111", "63", "9", "0", "8", "13", "110", "126"}));
  ASSERT_TRUE(a.connection);
  EXPECT_EQ(a.connection->address, "127.0.0.1");
  EXPECT_EQ(a.mid, "0");
  EXPECT_EQ(a.direction, Direction::sendonly);
  EXPECT_EQ(a.ice_ufrag, "hWKD");
  EXPECT_EQ(a.ice_pwd, "NS3fCCV+vF2dxrw92EtjRjCu");
  EXPECT_EQ(a.ice_options, (std::vector<std::string>{"trickle"}));
  ASSERT_EQ(a.fingerprints.size(), 1u);
  EXPECT_EQ(a.fingerprints[0].algorithm, "sha-256");
  ASSERT_EQ(a.fingerprints[0].bytes.size(), 32u);
  EXPECT_EQ(a.fingerprints[0].bytes[0], 0x18);
  EXPECT_EQ(a.fingerprints[0].bytes[31], 0xC6);
  EXPECT_EQ(a.setup, Setup::actpass);
  EXPECT_TRUE(a.rtcp_mux);
  EXPECT_TRUE(a.rtcp_rsize);

  const RtpMap* opus = a.rtpmap(111);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->encoding, "opus");
  EXPECT_EQ(opus->clock_rate, 48000u);
  EXPECT_EQ(opus->channels, 2u);
  ASSERT_NE(a.rtpmap(9), nullptr);
  EXPECT_EQ(a.rtpmap(9)->encoding, "G722");
  EXPECT_FALSE(a.rtpmap(9)->channels);
  const Fmtp* fmtp = a.fmtp(111);
  ASSERT_NE(fmtp, nullptr);
  EXPECT_EQ(fmtp->text, "minptime=10;useinbandfec=1");
  EXPECT_EQ(fmtp->parameters.at("minptime"), "10");
  EXPECT_EQ(fmtp->parameters.at("useinbandfec"), "1");
  ASSERT_NE(a.fmtp(63), nullptr);
  EXPECT_EQ(a.fmtp(63)->text, "111/111");  // red: not key=value
  ASSERT_EQ(a.rtcp_fbs.size(), 1u);
  EXPECT_EQ(a.rtcp_fbs[0].payload_type, 111);
  EXPECT_EQ(a.rtcp_fbs[0].type, "transport-cc");

  ASSERT_EQ(a.extmaps.size(), 4u);
  const Extmap* level = a.extmap("urn:ietf:params:rtp-hdrext:ssrc-audio-level");
  ASSERT_NE(level, nullptr);
  EXPECT_EQ(level->id, 1);
  EXPECT_FALSE(level->direction);
  const Extmap* twcc =
      a.extmap("http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
  ASSERT_NE(twcc, nullptr);
  EXPECT_EQ(twcc->id, 3);

  ASSERT_EQ(a.msids.size(), 1u);
  EXPECT_EQ(a.msids[0].stream_id, "ebb21da7-f6e9-4e2f-92f7-998a8487dd30");
  EXPECT_EQ(a.msids[0].track_id, "08c1c5f0-6090-4568-9449-64e0852692f3");
  ASSERT_EQ(a.ssrcs.size(), 2u);
  EXPECT_EQ(a.ssrcs[0].ssrc, 1099332964u);
  EXPECT_EQ(a.ssrcs[0].attribute, "cname");
  EXPECT_EQ(a.ssrcs[0].value, "1kdAsSrL9f1gFY4p");
  EXPECT_EQ(a.ssrcs[1].attribute, "msid");
  EXPECT_EQ(a.ssrcs[1].value,
            "ebb21da7-f6e9-4e2f-92f7-998a8487dd30 08c1c5f0-6090-4568-9449-64e0852692f3");

  ASSERT_EQ(a.candidates.size(), 2u);
  const Candidate& udp = a.candidates[0];
  EXPECT_EQ(udp.foundation, "861775943");
  EXPECT_EQ(udp.component, 1);
  EXPECT_EQ(udp.transport, CandidateTransport::udp);
  EXPECT_EQ(udp.priority, 2122260223u);
  EXPECT_EQ(udp.address, "127.0.0.1");
  EXPECT_EQ(udp.port, 39224);
  EXPECT_EQ(udp.type, CandidateType::host);
  EXPECT_FALSE(udp.tcptype);
  EXPECT_EQ(udp.extensions, (std::vector<std::pair<std::string, std::string>>{
                                {"generation", "0"}, {"network-id", "1"}, {"network-cost", "50"}}));
  const Candidate& tcp = a.candidates[1];
  EXPECT_EQ(tcp.transport, CandidateTransport::tcp);
  EXPECT_EQ(tcp.port, 9);
  EXPECT_EQ(tcp.tcptype, TcpType::active);
  EXPECT_FALSE(a.end_of_candidates);

  // Attributes without a typed field are kept, in order.
  ASSERT_EQ(a.attributes.size(), 2u);
  EXPECT_EQ(a.attributes[0].name, "rtcp");
  EXPECT_EQ(a.attributes[0].value, "9 IN IP4 0.0.0.0");
  EXPECT_EQ(a.attributes[1].name, "rtcp-xr");
  EXPECT_EQ(a.attributes[1].value, "rcvr-rtt=all");
}

TEST(SdpParse, ChromiumWhipOfferVideoAndData) {
  const SessionDescription d = parse_file("chromium_156_whip_offer.sdp");
  ASSERT_EQ(d.media.size(), 3u);
  const MediaSection& v = d.media[1];
  EXPECT_EQ(v.formats.size(), 23u);
  EXPECT_EQ(v.extmaps.size(), 11u);
  ASSERT_EQ(v.ssrc_groups.size(), 1u);
  EXPECT_EQ(v.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(v.ssrc_groups[0].ssrcs, (std::vector<std::uint32_t>{1063644411u, 502226955u}));
  bool nack_pli = false;
  for (const auto& fb : v.rtcp_fbs) nack_pli |= fb.type == "nack" && fb.parameters == "pli";
  EXPECT_TRUE(nack_pli);
  ASSERT_NE(v.fmtp(102), nullptr);
  EXPECT_EQ(v.fmtp(102)->parameters.at("profile-level-id"), "42001f");

  const MediaSection& app = d.media[2];
  EXPECT_EQ(app.proto, Proto::udp_dtls_sctp);
  EXPECT_EQ(app.formats, (std::vector<std::string>{"webrtc-datachannel"}));
  EXPECT_EQ(app.sctp_port, 5000);
  EXPECT_EQ(app.max_message_size, 262144u);
  EXPECT_EQ(app.mid, "2");
}

TEST(SdpParse, FirefoxWhipOffer) {
  const SessionDescription d = parse_file("firefox_153_whip_offer.sdp");
  EXPECT_EQ(d.origin.username, "mozilla...THIS_IS_SDPARTA-99.0");
  EXPECT_EQ(d.direction, Direction::sendrecv);  // session-level a=sendrecv
  ASSERT_EQ(d.fingerprints.size(), 1u);         // session-level fingerprint
  EXPECT_EQ(d.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(d.ice_options, (std::vector<std::string>{"trickle"}));
  ASSERT_TRUE(d.msid_semantic);
  EXPECT_EQ(d.msid_semantic->ids, (std::vector<std::string>{"*"}));
  ASSERT_EQ(d.media.size(), 3u);

  const MediaSection& a = d.media[0];
  EXPECT_TRUE(a.fingerprints.empty());
  EXPECT_EQ(d.effective_fingerprints(a), d.fingerprints);
  EXPECT_EQ(a.ice_ufrag, "dc5aa98b");
  EXPECT_EQ(d.effective_ice_ufrag(a), "dc5aa98b");
  EXPECT_EQ(d.effective_direction(a), Direction::sendonly);
  EXPECT_EQ(d.effective_direction(d.media[2]), Direction::sendrecv);
  ASSERT_NE(a.rtpmap(109), nullptr);
  EXPECT_EQ(a.rtpmap(109)->encoding, "opus");
  EXPECT_EQ(a.rtpmap(9)->channels, 1u);  // "G722/8000/1"
  const Fmtp* fmtp = a.fmtp(109);
  ASSERT_NE(fmtp, nullptr);
  EXPECT_EQ(fmtp->parameters.at("maxplaybackrate"), "48000");
  EXPECT_EQ(fmtp->parameters.at("stereo"), "1");
  EXPECT_EQ(fmtp->parameters.at("useinbandfec"), "1");
  const Extmap* csrc = a.extmap("urn:ietf:params:rtp-hdrext:csrc-audio-level");
  ASSERT_NE(csrc, nullptr);
  EXPECT_EQ(csrc->id, 2);
  EXPECT_EQ(csrc->direction, Direction::recvonly);  // "a=extmap:2/recvonly"
  EXPECT_TRUE(a.extmap_allow_mixed);
  // Four RTP and four RTCP candidates, IPv4 and IPv6, "UDP"/"TCP" upper-case.
  ASSERT_EQ(a.candidates.size(), 8u);
  EXPECT_EQ(a.candidates[1].address, "::1");
  EXPECT_EQ(a.candidates[2].transport, CandidateTransport::tcp);
  EXPECT_EQ(a.candidates[4].component, 2);
  EXPECT_TRUE(a.end_of_candidates);
  ASSERT_EQ(a.ssrcs.size(), 1u);
  EXPECT_EQ(a.ssrcs[0].value, "{7523bbb8-e05e-477c-994a-08324b66f3d4}");

  EXPECT_EQ(d.media[2].max_message_size, 1073741823u);
  EXPECT_EQ(d.media[2].sctp_port, 5000);
}

TEST(SdpParse, AiortcOfferUsesLegacySctpmap) {
  const SessionDescription d = parse_file("aiortc_1_4_whip_offer.sdp");
  ASSERT_EQ(d.media.size(), 2u);
  const MediaSection& a = d.media[0];
  EXPECT_EQ(a.direction, Direction::sendonly);
  EXPECT_EQ(a.rtpmap(96)->encoding, "opus");
  EXPECT_EQ(a.ice_ufrag, "rZ02");
  const MediaSection& app = d.media[1];
  EXPECT_EQ(app.proto, Proto::dtls_sctp);
  EXPECT_EQ(app.proto_text, "DTLS/SCTP");
  EXPECT_EQ(app.formats, (std::vector<std::string>{"5000"}));
  ASSERT_EQ(app.sctpmaps.size(), 1u);
  EXPECT_EQ(app.sctpmaps[0].port, 5000);
  EXPECT_EQ(app.sctpmaps[0].app, "webrtc-datachannel");
  EXPECT_EQ(app.sctpmaps[0].streams, 65535u);
  EXPECT_FALSE(app.sctp_port);
  EXPECT_EQ(app.max_message_size, 65536u);
  EXPECT_EQ(app.ice_ufrag, "73Vl");  // aiortc 1.4: other credentials per section
}

TEST(SdpParse, RoundTripEveryCapturedOffer) {
  for (const auto& name : kFiles) {
    const SessionDescription first = parse_file(name);
    const std::string written = to_string(first);
    auto again = parse(written);
    ASSERT_TRUE(again.ok()) << name << ": " << again.error() << "\n" << written;
    EXPECT_EQ(*again, first) << name;
    EXPECT_EQ(to_string(*again), written) << name;  // canonical output is a fixed point
  }
}

TEST(SdpParse, GeneratesCrlfOnly) {
  const std::string written = to_string(parse_file("firefox_153_whip_offer.sdp"));
  ASSERT_GE(written.size(), 2u);
  EXPECT_EQ(written.substr(written.size() - 2), "\r\n");
  for (std::size_t i = 0; i < written.size(); ++i) {
    if (written[i] == '\n') {
      ASSERT_TRUE(i > 0 && written[i - 1] == '\r') << "bare LF at " << i;
    }
  }
  EXPECT_EQ(written.rfind("v=0\r\n", 0), 0u);
}

TEST(SdpParse, LfLineEndsAndBlankLinesAreAccepted) {
  std::string crlf = load("chromium_156_whep_offer.sdp");
  std::string lf;
  for (char c : crlf) {
    if (c != '\r') lf += c;
  }
  lf += "\n\n";
  auto a = parse(crlf);
  auto b = parse(lf);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(SdpParse, KeepsUnknownAttributesAndLines) {
  const std::string sdp = std::string(kHead) +
                          "a=x-session-flag\r\n"
                          "a=x-session:some value\r\n"
                          "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                          "i=info\r\n"
                          "b=AS:64\r\n"
                          "a=x-custom:1 2  3\r\n"
                          "a=x-empty:\r\n"
                          "a=ice-lite\r\n";
  auto d = parse(sdp);
  ASSERT_TRUE(d.ok()) << d.error();
  ASSERT_EQ(d->attributes.size(), 2u);
  EXPECT_EQ(d->attributes[0], (Attribute{"x-session-flag", std::nullopt}));
  EXPECT_EQ(d->attributes[1], (Attribute{"x-session", "some value"}));
  const MediaSection& m = d->media[0];
  EXPECT_EQ(m.lines, (std::vector<OtherLine>{{'i', "info"}, {'b', "AS:64"}}));
  ASSERT_EQ(m.attributes.size(), 3u);
  EXPECT_EQ(m.attributes[0], (Attribute{"x-custom", "1 2  3"}));
  EXPECT_EQ(m.attributes[1], (Attribute{"x-empty", ""}));
  EXPECT_EQ(m.attributes[2], (Attribute{"ice-lite", std::nullopt}));  // only at session level
  auto again = parse(to_string(*d));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *d);
}

TEST(SdpParse, SessionLevelIceLiteAndCredentials) {
  auto d = parse(std::string(kHead) +
                 "a=ice-lite\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
                 "a=setup:passive\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:wxyz\r\n");
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_TRUE(d->ice_lite);
  EXPECT_EQ(d->effective_ice_ufrag(d->media[0]), "wxyz");  // section level wins
  EXPECT_EQ(d->effective_ice_pwd(d->media[0]), "0123456789012345678901");
  EXPECT_EQ(d->effective_setup(d->media[0]), Setup::passive);
}

TEST(SdpParse, Candidates) {
  auto srflx = parse_candidate(
      "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.2 rport "
      "46154 generation 0 ufrag sK9n network-cost 999");
  ASSERT_TRUE(srflx.ok()) << srflx.error();
  EXPECT_EQ(srflx->type, CandidateType::srflx);
  EXPECT_EQ(srflx->related_address, "10.0.0.2");
  EXPECT_EQ(srflx->related_port, 46154);
  EXPECT_EQ(srflx->extensions.size(), 3u);

  auto mdns = parse_candidate(
      "1 1 UDP 2122252543 3c3b0e2c-0c8e-4b7a-9f2e-6c1d0b3f6a11.local 51234 typ host");
  ASSERT_TRUE(mdns.ok()) << mdns.error();
  EXPECT_EQ(mdns->address, "3c3b0e2c-0c8e-4b7a-9f2e-6c1d0b3f6a11.local");

  auto relay = parse_candidate(
      "a=candidate:3 1 udp 41885695 198.51.100.9 3478 typ relay raddr 203.0.113.7 rport 46154");
  ASSERT_TRUE(relay.ok()) << relay.error();
  EXPECT_EQ(relay->type, CandidateType::relay);

  auto passive =
      parse_candidate("candidate:7 1 tcp 1518280447 192.0.2.1 443 typ host tcptype passive");
  ASSERT_TRUE(passive.ok());
  EXPECT_EQ(passive->tcptype, TcpType::passive);
  EXPECT_EQ(to_string(*passive),
            "candidate:7 1 tcp 1518280447 192.0.2.1 443 typ host tcptype passive");

  EXPECT_FALSE(parse_candidate("candidate:1 1 udp 1 192.0.2.1 9 typ").ok());
  EXPECT_FALSE(parse_candidate("candidate:1 0 udp 1 192.0.2.1 9 typ host").ok());  // component
  EXPECT_FALSE(parse_candidate("candidate:1 1 udp 99999999999 192.0.2.1 9 typ host").ok());
  EXPECT_FALSE(parse_candidate("candidate:1 1 udp 1 192.0.2.1 70000 typ host").ok());
  EXPECT_FALSE(parse_candidate("candidate:1 1 udp 1 192.0.2.1 9 typ host generation").ok());
  EXPECT_FALSE(parse_candidate("candidate:1 1 tcp 1 192.0.2.1 9 typ host tcptype sideways").ok());
  EXPECT_FALSE(parse_candidate("candidate:1 1 sctp 1 192.0.2.1 9 typ host").ok());
}

TEST(SdpParse, UnsupportedCandidateFormsAreKeptAsAttributes) {
  auto d = parse(std::string(kHead) +
                 "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                 "a=candidate:1 1 ssltcp 1 192.0.2.1 443 typ host\r\n"
                 "a=candidate:2 1 udp 1 192.0.2.1 443 typ magic\r\n");
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_TRUE(d->media[0].candidates.empty());
  ASSERT_EQ(d->media[0].attributes.size(), 2u);
  EXPECT_EQ(d->media[0].attributes[0].value, "1 1 ssltcp 1 192.0.2.1 443 typ host");
}

struct Malformed {
  std::string sdp;
  std::string reason;
};

TEST(SdpParse, MalformedInputNamesTheLine) {
  const std::string head(kHead);
  const Malformed cases[] = {
      {"", "empty SDP: no v= line"},
      {"\r\n\r\n", "empty SDP: no v= line"},
      {"hello", "line 1: expected <type>=<value>"},
      {"o=- 1 1 IN IP4 0.0.0.0\r\n", "line 1: expected v=0 as the first line"},
      {"v=1\r\n", "line 1: unsupported SDP version (v=0 expected)"},
      {head + "x=1\r\n", "line 5: unknown line type 'x'"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=audio\r\n",
       "line 7: m= line without a port"},
      {head + "m=audio x UDP/TLS/RTP/SAVPF 111\r\n", "line 5: bad port in m= line"},
      {head + "m=audio 70000 UDP/TLS/RTP/SAVPF 111\r\n", "line 5: bad port in m= line"},
      {head + "m=audio 9\r\n", "line 5: m= line without a protocol"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF\r\n", "line 5: m= line without formats"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\no=- 1 1 IN IP4 0.0.0.0\r\n",
       "line 6: o= line inside a media section"},
      {head + "v=0\r\n", "line 5: second v= line"},
      {"v=0\r\no=- 1 IN IP4 0.0.0.0\r\n", "line 2: bad o= line (6 fields expected)"},
      {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nt=0 0\r\n", "missing s= line"},
      {"v=0\r\ns=-\r\nt=0 0\r\n", "missing o= line"},
      {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n", "missing t= line"},
      {head + "t=now later\r\n", "line 5: bad t= line"},
      {head + "c=IN IP4\r\n", "line 5: bad c= line (3 fields expected)"},
      {head + "a=\r\n", "line 5: bad attribute name"},
      {head + "a=setup:sideways\r\n", "line 5: bad a=setup value"},
      {head + "a=setup:active\r\na=setup:passive\r\n", "line 6: second a=setup"},
      {head + "a=fingerprint:sha-256 AB:CD:EF:G0\r\n", "line 5: bad a=fingerprint value"},
      {head + "a=fingerprint:sha-256\r\n", "line 5: bad a=fingerprint value"},
      {head + "a=ice-lite:yes\r\n", "line 5: a=ice-lite takes no value"},
      {head + "a=ice-ufrag\r\n", "line 5: a=ice-ufrag without a value"},
      {head + "a=sendonly\r\na=recvonly\r\n", "line 6: more than one direction attribute"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=mid:1\r\n", "line 7: second a=mid"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus\r\n",
       "line 6: bad a=rtpmap value"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF 200\r\na=rtpmap:200 opus/48000/2\r\n",
       "line 6: bad a=rtpmap value"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtcp-fb:x nack\r\n",
       "line 6: bad a=rtcp-fb value"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=extmap:0 urn:x\r\n",
       "line 6: bad a=extmap value"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=extmap:1/sideways urn:x\r\n",
       "line 6: bad a=extmap value"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ssrc:12ab cname:x\r\n",
       "line 6: bad a=ssrc value"},
      {head + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:65536\r\n",
       "line 6: bad a=sctp-port value"},
      {head + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=max-message-size:-1\r\n",
       "line 6: bad a=max-message-size value"},
      {head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=candidate:1 1 udp\r\n",
       "line 6: bad a=candidate value"},
      {head + std::string("s=a\0b\r\n", 7), "line 5: NUL or CR inside a line"},
      {head + "s=a\rb\r\n", "line 5: NUL or CR inside a line"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_error(c.sdp), c.reason) << c.sdp;
  }
}

TEST(SdpParse, Bounds) {
  const std::string head(kHead);
  std::string many_sections = head;
  for (int i = 0; i < 33; ++i) many_sections += "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n";
  EXPECT_EQ(parse_error(many_sections), "line 37: more than 32 m-sections");

  std::string thirty_two = head;
  for (int i = 0; i < 32; ++i) thirty_two += "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n";
  EXPECT_TRUE(parse(thirty_two).ok());

  EXPECT_EQ(parse_error(head + "a=x:" + std::string(kMaxLineLength, 'y') + "\r\n"),
            "line 5: longer than 4096 bytes");

  std::string many_attributes = head + "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n";
  for (std::size_t i = 0; i <= kMaxAttributes; ++i) many_attributes += "a=x\r\n";
  EXPECT_EQ(parse_error(many_attributes), "line 518: more than 512 attributes in one m-section");

  std::string many_lines = head;
  for (std::size_t i = 0; i < kMaxLines; ++i) many_lines += "\n";
  EXPECT_EQ(parse_error(many_lines), "more than 4096 lines");

  EXPECT_EQ(parse_error(std::string(kMaxSdpSize + 1, 'a')), "SDP larger than 131072 bytes");
}

TEST(SdpParse, FmtpParameters) {
  const auto p = parse_fmtp_parameters(" minptime=10; useinbandfec = 1;;stereo;x=a=b ");
  EXPECT_EQ(p.at("minptime"), "10");
  EXPECT_EQ(p.at("useinbandfec"), "1");
  EXPECT_EQ(p.at("stereo"), "");
  EXPECT_EQ(p.at("x"), "a=b");
  EXPECT_EQ(p.size(), 4u);
}

TEST(SdpParse, FmtpOfNonRtpFormatIsKept) {
  auto d = parse(std::string(kHead) +
                 "m=application 9 DTLS/SCTP 5000\r\na=fmtp:5000 max-message-size=100000\r\n");
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_TRUE(d->media[0].fmtps.empty());
  ASSERT_EQ(d->media[0].attributes.size(), 1u);
  EXPECT_EQ(d->media[0].attributes[0].value, "5000 max-message-size=100000");
}

TEST(SdpParse, OtherMediaAndPortCount) {
  auto d = parse(std::string(kHead) + "m=message 9/2 TCP/MSRP *\r\nc=IN IP6 ::1\r\n");
  ASSERT_TRUE(d.ok()) << d.error();
  const MediaSection& m = d->media[0];
  EXPECT_EQ(m.kind, MediaKind::other);
  EXPECT_EQ(m.media, "message");
  EXPECT_EQ(m.port_count, 2);
  EXPECT_EQ(m.proto, Proto::other);
  EXPECT_EQ(m.proto_text, "TCP/MSRP");
  EXPECT_NE(to_string(*d).find("m=message 9/2 TCP/MSRP *\r\nc=IN IP6 ::1\r\n"), std::string::npos);
}

}  // namespace
