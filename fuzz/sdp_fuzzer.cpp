// libFuzzer entry for the SDP layer of the SFU: parse any input as an offer and as a trickle ICE
// fragment; whatever parses must write and parse back to the same model, and the answer built
// from it (as presenter and as guest) must itself parse back to the same model.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sdp/answer.hpp"
#include "sdp/sdpfrag.hpp"
#include "sdp/session_description.hpp"

namespace {

using namespace podium::sfu::sdp;

void check(bool condition) {
  if (!condition) std::abort();
}

AnswerOptions options(Role role) {
  AnswerOptions o;
  o.role = role;
  o.ice_ufrag = "FuzZ";
  o.ice_pwd = "fuzzPasswordOf24Chars+/";
  o.fingerprint_sha256.fill(0xAB);
  o.candidates = {host_candidate("192.0.2.10", 40000, CandidateTransport::udp),
                  host_candidate("2001:db8::10", 40001, CandidateTransport::tcp)};
  o.audio = {0x11223344, "podium", "stream", "track"};
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto fragment = parse_sdpfrag(input)) {
    (void)fragment->ice_restart("abcd", "0123456789012345678901");
    for (const auto& section : fragment->sections) (void)fragment->candidates(section.mid);
  }
  (void)parse_candidate(input);

  auto parsed = parse(input);
  if (!parsed) {
    check(!parsed.error().empty());
    return 0;
  }
  const std::string written = to_string(*parsed);
  auto again = parse(written);
  check(again.ok());
  check(*again == *parsed);
  check(to_string(*again) == written);

  static const AnswerOptions kPresenter = options(Role::presenter);
  static const AnswerOptions kGuest = options(Role::guest);
  for (const AnswerOptions* o : {&kPresenter, &kGuest}) {
    auto negotiation = negotiate(*parsed, *o);
    if (!negotiation) {
      check(!negotiation.error().empty());
      continue;
    }
    check(negotiation->answer.media.size() == parsed->media.size());
    check(negotiation->audio || negotiation->data);
    auto answer = parse(to_string(negotiation->answer));
    check(answer.ok());
    check(*answer == negotiation->answer);
    auto built = build_answer(*parsed, *o);
    check(built.ok() && *built == negotiation->answer);
  }
  return 0;
}
