// The HTTP side of WHIP (RFC 9725) and WHEP that needs no server: which resource a path names,
// media types, entity-tags and the ICE server Link header fields. SignalingServer uses these;
// they are public so that they can be tested on their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podium::signaling::whip {

// WHIP publishes (the presenter), WHEP plays (a guest). Both share one URL scheme.
enum class Endpoint : std::uint8_t { whip, whep };
std::string_view to_string(Endpoint endpoint);  // "whip" / "whep"

// A request path below /whip/ or /whep/: the endpoint URL `/whip/{room}` (session empty) or a
// session URL `/whip/{room}/{session}` (the Location of a 201, RFC 9725 section 4.2). Neither
// part is validated here: see valid_room_name() and valid_session_id().
struct Target {
  Endpoint endpoint = Endpoint::whip;
  std::string_view room;
  std::string_view session;
};

// True for every path that starts a WHIP/WHEP URL ("/whip", "/whip/...", "/whep", ...), so that
// malformed ones get a 404 from the WHIP/WHEP handler rather than the web client's.
bool is_whip_path(std::string_view path);
// The target a path names; nullopt for an empty segment, a trailing slash or extra segments.
std::optional<Target> parse_target(std::string_view path);

// Session ids come from the SFU and are URL-safe: 1 to 128 characters of [A-Za-z0-9._~-]
// (RFC 3986 section 2.3 unreserved characters).
bool valid_session_id(std::string_view id);

// Whether a Content-Type field value names `media_type`: type and subtype compared without
// regard to case, parameters ignored (RFC 9110 section 8.3.1). "application/sdp; charset=utf-8"
// has the media type application/sdp.
bool has_media_type(std::string_view content_type, std::string_view media_type);

// A quoted-string (RFC 9110 section 5.6.4), escaping '"' and '\' and dropping control
// characters (but HTAB), which a quoted-string cannot hold.
std::string quoted_string(std::string_view text);

// The ETag field value for the SFU's opaque tag: a strong entity-tag (RFC 9110 section 8.8.3).
std::string etag_field(std::string_view tag);

// The If-Match field value (RFC 9110 section 13.1.1) as SessionService::update_session takes it:
// "" when absent or empty, "*" for the wildcard, else the first strong entity-tag without its
// quotes. What does not parse as an entity-tag list is passed on trimmed but otherwise as sent
// (clients that drop the quotes still match; a weak tag never does, If-Match being strong).
std::string if_match_tag(std::string_view field);

// One Link field value (RFC 8288) per ICE server, as RFC 9725 section 4.4 specifies:
//   <turn:HOST:PORT?transport=udp>; rel="ice-server"; username="U"; credential="C";
//   credential-type="password"
// for turn: and turns: URIs, and <stun:HOST:PORT>; rel="ice-server" for stun: and stuns: URIs.
// Other schemes, and URIs with '<', '>', CR or LF, are skipped.
std::vector<std::string> ice_server_links(const std::vector<std::string>& uris,
                                          std::string_view username, std::string_view credential);

}  // namespace podium::signaling::whip
