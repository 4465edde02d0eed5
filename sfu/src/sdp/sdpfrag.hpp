// Trickle ICE SDP fragments (RFC 8840 section 9, media type application/trickle-ice-sdpfrag), as
// WHIP/WHEP clients send them in PATCH requests (RFC 9725 section 4.3): ICE credentials, then
// m= sections that carry a=mid and their new candidates, maybe a=end-of-candidates.
//
// parse_sdpfrag() accepts a=, m=, c=, b=, i= and k= lines (v= o= s= t= are refused) under the same
// bounds as parse(). The m= line values are placeholders (RFC 8840 section 4.1.3) and ignored;
// sections are identified by a=mid. Credentials may sit at session level or in the sections; if
// they differ between sections the fragment is refused.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "podium/common/result.hpp"
#include "session_description.hpp"

namespace podium::sfu::sdp {

struct FragmentSection {
  std::size_t index = 0;  // position among the fragment's m= sections
  std::string mid;        // "" if the section had no a=mid
  std::vector<Candidate> candidates;
  bool end_of_candidates = false;
  friend bool operator==(const FragmentSection&, const FragmentSection&) = default;
};

struct SdpFragment {
  std::optional<std::string> ice_ufrag;
  std::optional<std::string> ice_pwd;
  std::vector<std::string> ice_options;
  std::vector<Group> groups;
  std::vector<FragmentSection> sections;
  bool end_of_candidates = false;  // at session level: gathering is over for every section

  // RFC 8839 section 4.4.1.1.1: new credentials mean an ICE restart. True if the fragment carries
  // a ufrag or pwd that differs from the current one.
  bool ice_restart(std::string_view current_ufrag, std::string_view current_pwd) const;
  // Every candidate of the section with that mid (empty if there is none).
  std::vector<Candidate> candidates(std::string_view mid) const;
  friend bool operator==(const SdpFragment&, const SdpFragment&) = default;
};

Result<SdpFragment> parse_sdpfrag(std::string_view fragment);

}  // namespace podium::sfu::sdp
