// The line parser behind parse() and parse_sdpfrag() (internal).
#pragma once

#include <string_view>

#include "session_description.hpp"

namespace podium::sfu::sdp::detail {

enum class ParseMode : std::uint8_t {
  session,   // a full session description (RFC 8866): v= o= s= t= required
  fragment,  // an SDP fragment (RFC 8840 section 9): only a=, m=, c=, b=, i=, k= lines
};

Result<SessionDescription> parse_lines(std::string_view sdp, ParseMode mode);

}  // namespace podium::sfu::sdp::detail
