#include <gtest/gtest.h>

#include <string>

#include "sdp/sdpfrag.hpp"

namespace {

using namespace podium::sfu::sdp;

// A WHIP trickle PATCH body (RFC 9725 section 4.3.1 shape) as Chromium clients send it.
constexpr std::string_view kTrickle =
    "a=ice-options:trickle ice2\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "a=mid:0\r\n"
    "a=ice-ufrag:EsAw\r\n"
    "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n"
    "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw "
    "network-id 1\r\n"
    "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw "
    "network-id 2\r\n"
    "a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active generation 0 "
    "ufrag EsAw network-id 1\r\n"
    "a=candidate:2154773085 1 tcp 1518214911 198.51.100.2 9 typ host tcptype active generation 0 "
    "ufrag EsAw network-id 2\r\n"
    "a=end-of-candidates\r\n";

TEST(SdpFragment, WhipTricklePatch) {
  auto f = parse_sdpfrag(kTrickle);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->ice_ufrag, "EsAw");
  EXPECT_EQ(f->ice_pwd, "bP+XJMM09aR8AiX1jdukzR6Y");
  EXPECT_EQ(f->ice_options, (std::vector<std::string>{"trickle", "ice2"}));
  ASSERT_EQ(f->groups.size(), 1u);
  EXPECT_EQ(f->groups[0].mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(f->sections.size(), 1u);
  EXPECT_EQ(f->sections[0].mid, "0");
  EXPECT_EQ(f->sections[0].index, 0u);
  EXPECT_TRUE(f->sections[0].end_of_candidates);
  EXPECT_FALSE(f->end_of_candidates);
  const auto candidates = f->candidates("0");
  ASSERT_EQ(candidates.size(), 4u);
  EXPECT_EQ(candidates[1].address, "198.51.100.2");
  EXPECT_EQ(candidates[2].tcptype, TcpType::active);
  EXPECT_TRUE(f->candidates("1").empty());
  EXPECT_FALSE(f->ice_restart("EsAw", "bP+XJMM09aR8AiX1jdukzR6Y"));
  EXPECT_TRUE(f->ice_restart("Old1", "bP+XJMM09aR8AiX1jdukzR6Y"));
  EXPECT_TRUE(f->ice_restart("EsAw", "anotherPasswordOf22Chr"));
}

TEST(SdpFragment, SessionLevelCredentialsAndEndOfCandidates) {
  auto f = parse_sdpfrag(
      "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\na=end-of-candidates\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=mid:1\n"
      "a=candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host\n");
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_TRUE(f->end_of_candidates);
  EXPECT_EQ(f->ice_ufrag, "abcd");
  ASSERT_EQ(f->sections.size(), 2u);
  EXPECT_TRUE(f->candidates("0").empty());
  EXPECT_EQ(f->candidates("1").size(), 1u);
  EXPECT_EQ(f->sections[1].index, 1u);
}

TEST(SdpFragment, CandidatesOnlyCarryNoRestart) {
  auto f = parse_sdpfrag(
      "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
      "a=candidate:1 1 udp 1 203.0.113.5 3478 typ srflx raddr 10.0.0.1 rport 5000\r\n");
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_FALSE(f->ice_ufrag);
  EXPECT_FALSE(f->ice_restart("abcd", "0123456789012345678901"));
  EXPECT_EQ(f->candidates("0")[0].related_port, 5000);
}

TEST(SdpFragment, EmptyFragmentIsValid) {
  auto f = parse_sdpfrag("");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->sections.empty());
}

TEST(SdpFragment, Refusals) {
  auto error = [](std::string_view text) {
    auto f = parse_sdpfrag(text);
    return f.ok() ? std::string("<parsed>") : f.error();
  };
  EXPECT_EQ(error("v=0\r\n"), "line 1: v= line in an SDP fragment");
  EXPECT_EQ(error("a=ice-ufrag:abcd\r\nt=0 0\r\n"), "line 2: t= line in an SDP fragment");
  EXPECT_EQ(error("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp\r\n"),
            "line 3: bad a=candidate value");
  EXPECT_EQ(error("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=ice-ufrag:aaaa\r\n"
                  "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=ice-ufrag:bbbb\r\n"),
            "m-section 1 of the fragment has other ICE credentials");
  EXPECT_EQ(error("garbage\r\n"), "line 1: expected <type>=<value>");
}

}  // namespace
