#include "podium/signaling/whip_http.hpp"

#include <boost/algorithm/string/predicate.hpp>

namespace podium::signaling::whip {

namespace {

using boost::algorithm::iequals;
using boost::algorithm::istarts_with;

constexpr std::string_view kWhipPrefix = "/whip";
constexpr std::string_view kWhepPrefix = "/whep";

// Optional whitespace (RFC 9110 section 5.6.3).
std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// etagc = "!" / %x23-7E / obs-text (RFC 9110 section 8.8.3): anything visible but '"'.
bool etagc(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u != 0x7f);
}

}  // namespace

std::string_view to_string(Endpoint endpoint) {
  return endpoint == Endpoint::whip ? "whip" : "whep";
}

bool is_whip_path(std::string_view path) {
  for (auto prefix : {kWhipPrefix, kWhepPrefix}) {
    if (path == prefix || (path.starts_with(prefix) && path.substr(prefix.size()).starts_with('/')))
      return true;
  }
  return false;
}

std::optional<Target> parse_target(std::string_view path) {
  Target target;
  if (path.starts_with(kWhipPrefix)) {
    target.endpoint = Endpoint::whip;
  } else if (path.starts_with(kWhepPrefix)) {
    target.endpoint = Endpoint::whep;
  } else {
    return std::nullopt;
  }
  std::string_view rest = path.substr(kWhipPrefix.size());
  if (!rest.starts_with('/')) return std::nullopt;
  rest.remove_prefix(1);
  auto slash = rest.find('/');
  target.room = rest.substr(0, slash);
  if (target.room.empty()) return std::nullopt;
  if (slash == std::string_view::npos) return target;
  target.session = rest.substr(slash + 1);
  if (target.session.empty() || target.session.find('/') != std::string_view::npos) {
    return std::nullopt;
  }
  return target;
}

bool valid_session_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '~';
    if (!ok) return false;
  }
  return true;
}

bool has_media_type(std::string_view content_type, std::string_view media_type) {
  // media-type = type "/" subtype parameters (RFC 9110 section 8.3.1); type and subtype are
  // case-insensitive tokens, so no whitespace may come between them.
  return iequals(trim(content_type.substr(0, content_type.find(';'))), media_type);
}

std::string quoted_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (char c : text) {
    // qdtext and quoted-pair exclude control characters but HTAB: drop them (a CR or LF here
    // would end the header field).
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) continue;
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string etag_field(std::string_view tag) {
  std::string field;
  field.reserve(tag.size() + 2);
  field.append("\"").append(tag).append("\"");
  return field;
}

std::string if_match_tag(std::string_view field) {
  // If-Match = "*" / #entity-tag; entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE
  // (RFC 9110 sections 13.1.1 and 8.8.3). If-Match compares strongly: weak tags never match.
  field = trim(field);
  if (field.empty() || field == "*") return std::string(field);
  std::string_view rest = field;
  bool parsed = true;
  std::optional<std::string_view> first_strong;
  while (!rest.empty()) {
    bool weak = rest.starts_with("W/");
    if (weak) rest.remove_prefix(2);
    if (!rest.starts_with('"')) {
      parsed = false;
      break;
    }
    auto close = rest.find('"', 1);
    if (close == std::string_view::npos) {
      parsed = false;
      break;
    }
    std::string_view opaque = rest.substr(1, close - 1);
    for (char c : opaque) parsed = parsed && etagc(c);
    if (!parsed) break;
    if (!weak && !first_strong) first_strong = opaque;
    rest = trim(rest.substr(close + 1));
    if (rest.empty()) break;
    if (!rest.starts_with(',')) {
      parsed = false;
      break;
    }
    rest = trim(rest.substr(1));
  }
  if (parsed && first_strong) return std::string(*first_strong);
  return std::string(field);
}

std::vector<std::string> ice_server_links(const std::vector<std::string>& uris,
                                          std::string_view username, std::string_view credential) {
  std::vector<std::string> links;
  links.reserve(uris.size());
  for (const auto& uri : uris) {
    // The URI goes between '<' and '>' as a URI-Reference (RFC 8288 section 3); ICE server URIs
    // (RFC 7064, RFC 7065) never contain those characters, but do not pass them on if one did.
    if (uri.find_first_of("<>\r\n") != std::string::npos) continue;
    std::string link;
    link.append("<").append(uri).append(">; rel=\"ice-server\"");
    if (istarts_with(uri, "turn:") || istarts_with(uri, "turns:")) {
      link.append("; username=")
          .append(quoted_string(username))
          .append("; credential=")
          .append(quoted_string(credential))
          .append("; credential-type=\"password\"");
    } else if (!istarts_with(uri, "stun:") && !istarts_with(uri, "stuns:")) {
      continue;
    }
    links.push_back(std::move(link));
  }
  return links;
}

}  // namespace podium::signaling::whip
