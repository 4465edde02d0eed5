// Random mutations of real offers: whatever parse() accepts must write and parse back to the same
// model, and negotiate() must answer or refuse without crashing. A short, seeded version of
// fuzz/sdp_fuzzer.cpp that runs with every unit test build.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "sdp/answer.hpp"
#include "sdp/sdpfrag.hpp"
#include "sdp/session_description.hpp"
#include "sdp_test_data.hpp"

namespace {

using namespace podium::sfu::sdp;

using podium::sfu::sdp::testing::load;

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
  return lines;
}

std::string mutate(const std::string& input, std::mt19937& rng) {
  static constexpr std::string_view kTokens[] = {
      " ",
      ":",
      "/",
      "=",
      "\r",
      "\n",
      "0",
      "4294967296",
      "65536",
      "127",
      "128",
      "a=mid:0\n",
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\n",
      "a=setup:holdconn\n",
      "a=rtcp-mux\n",
      "a=group:BUNDLE 0\n",
      "a=sendonly\n",
      "typ",
      "a=candidate:1 1 udp 1 ::1 9 typ host\n",
      "m=application 9 DTLS/SCTP 5000\n",
      "a=sctpmap:5000 webrtc-datachannel 1\n",
      "a=fingerprint:sha-256 AB\n",
  };
  std::string s = input;
  auto pick = [&](std::size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const int edits = 1 + static_cast<int>(pick(4));
  for (int e = 0; e < edits; ++e) {
    switch (pick(7)) {
      case 0:  // flip a byte
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(pick(256));
        break;
      case 1: {  // erase a range
        if (s.empty()) break;
        const std::size_t at = pick(s.size());
        s.erase(at, pick(40));
        break;
      }
      case 2: {  // insert a token
        const auto& t = kTokens[pick(std::size(kTokens))];
        s.insert(pick(s.size() + 1), t);
        break;
      }
      case 3: {  // duplicate a line elsewhere
        auto lines = split_lines(s);
        if (lines.empty()) break;
        lines.insert(lines.begin() + static_cast<long>(pick(lines.size() + 1)),
                     lines[pick(lines.size())]);
        s.clear();
        for (const auto& l : lines) s += l;
        break;
      }
      case 4: {  // swap two lines
        auto lines = split_lines(s);
        if (lines.size() < 2) break;
        std::swap(lines[pick(lines.size())], lines[pick(lines.size())]);
        s.clear();
        for (const auto& l : lines) s += l;
        break;
      }
      case 5:  // truncate
        s.resize(pick(s.size() + 1));
        break;
      default: {  // drop a line
        auto lines = split_lines(s);
        if (lines.empty()) break;
        lines.erase(lines.begin() + static_cast<long>(pick(lines.size())));
        s.clear();
        for (const auto& l : lines) s += l;
        break;
      }
    }
  }
  return s;
}

AnswerOptions fixed_options(Role role) {
  AnswerOptions o;
  o.role = role;
  o.ice_ufrag = "SfuU";
  o.ice_pwd = "sfuPasswordOf24Chars+/0";
  o.candidates = {host_candidate("192.0.2.10", 40000, CandidateTransport::udp)};
  o.audio = {1, "sfu", "s", "t"};
  return o;
}

TEST(SdpMutation, ParserSurvivesAndRoundTrips) {
  const std::string files[] = {"chromium_156_whip_offer.sdp", "chromium_156_whep_offer.sdp",
                               "firefox_153_whip_offer.sdp",  "firefox_153_whep_offer.sdp",
                               "aiortc_1_4_whip_offer.sdp",   "aiortc_1_4_whep_offer.sdp"};
  std::mt19937 rng(20240611);
  int parsed_count = 0;
  int answered = 0;
  for (const auto& file : files) {
    const std::string original = load(file);
    for (int i = 0; i < 400; ++i) {
      const std::string input = mutate(original, rng);
      (void)parse_sdpfrag(input);
      auto parsed = parse(input);
      if (!parsed) {
        EXPECT_FALSE(parsed.error().empty());
        continue;
      }
      ++parsed_count;
      const std::string written = to_string(*parsed);
      auto again = parse(written);
      ASSERT_TRUE(again.ok()) << again.error() << "\n--- input:\n" << input;
      ASSERT_EQ(*again, *parsed) << "--- input:\n" << input << "\n--- written:\n" << written;
      for (Role role : {Role::presenter, Role::guest}) {
        auto n = negotiate(*parsed, fixed_options(role));
        if (!n) continue;
        ++answered;
        auto answer = parse(to_string(n->answer));
        ASSERT_TRUE(answer.ok()) << answer.error();
        ASSERT_EQ(*answer, n->answer);
      }
    }
  }
  // The mutations must leave enough valid offers to exercise the writer and the answerer.
  EXPECT_GT(parsed_count, 200);
  EXPECT_GT(answered, 60);
}

}  // namespace
