// Trickle ICE SDP fragments (RFC 8840 section 9).
#include "sdp/sdpfrag.hpp"

#include "sdp/parser_internal.hpp"

namespace podium::sfu::sdp {
namespace {

bool has_attribute(const std::vector<Attribute>& attributes, std::string_view name) {
  for (const auto& a : attributes) {
    if (a.name == name && !a.value) return true;
  }
  return false;
}

// Takes `value` into `slot`, refusing a second, different value.
bool merge(std::optional<std::string>& slot, const std::optional<std::string>& value) {
  if (!value) return true;
  if (slot && *slot != *value) return false;
  slot = value;
  return true;
}

}  // namespace

bool SdpFragment::ice_restart(std::string_view current_ufrag, std::string_view current_pwd) const {
  return (ice_ufrag && *ice_ufrag != current_ufrag) || (ice_pwd && *ice_pwd != current_pwd);
}

std::vector<Candidate> SdpFragment::candidates(std::string_view mid) const {
  std::vector<Candidate> out;
  for (const auto& s : sections) {
    if (s.mid == mid) out.insert(out.end(), s.candidates.begin(), s.candidates.end());
  }
  return out;
}

Result<SdpFragment> parse_sdpfrag(std::string_view fragment) {
  auto parsed = detail::parse_lines(fragment, detail::ParseMode::fragment);
  if (!parsed) return fail(parsed.error());
  SessionDescription& d = *parsed;
  SdpFragment f;
  f.ice_ufrag = d.ice_ufrag;
  f.ice_pwd = d.ice_pwd;
  f.ice_options = d.ice_options;
  f.groups = d.groups;
  // RFC 8840 section 4.4: a session-level a=end-of-candidates ends gathering everywhere.
  f.end_of_candidates = has_attribute(d.attributes, "end-of-candidates");
  for (std::size_t i = 0; i < d.media.size(); ++i) {
    MediaSection& m = d.media[i];
    if (!merge(f.ice_ufrag, m.ice_ufrag) || !merge(f.ice_pwd, m.ice_pwd)) {
      return fail("m-section " + std::to_string(i) + " of the fragment has other ICE credentials");
    }
    for (auto& option : m.ice_options) f.ice_options.push_back(std::move(option));
    f.sections.push_back({i, m.mid.value_or(""), std::move(m.candidates), m.end_of_candidates});
  }
  return f;
}

}  // namespace podium::sfu::sdp
