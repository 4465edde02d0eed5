// SDP parsing (RFC 8866 section 9 grammar, with the attributes of RFC 8829 JSEP offers).
#include <algorithm>
#include <string>

#include "sdp/parser_internal.hpp"
#include "sdp/session_description.hpp"
#include "sdp/text.hpp"

namespace podium::sfu::sdp {
namespace {

using text::first_token;
using text::number;
using text::tokens;
using text::trim;

// A failed attribute or line: the reason without the "line N: " prefix.
using Error = std::optional<std::string>;

std::string at_line(std::size_t line, std::string_view reason) {
  return "line " + std::to_string(line) + ": " + std::string(reason);
}

std::string bad_value(std::string_view name) {
  return "bad a=" + std::string(name) + " value";
}

std::optional<Direction> direction_from(std::string_view s) {
  if (s == "sendrecv") return Direction::sendrecv;
  if (s == "sendonly") return Direction::sendonly;
  if (s == "recvonly") return Direction::recvonly;
  if (s == "inactive") return Direction::inactive;
  return std::nullopt;
}

std::optional<Setup> setup_from(std::string_view s) {
  if (s == "actpass") return Setup::actpass;
  if (s == "active") return Setup::active;
  if (s == "passive") return Setup::passive;
  if (s == "holdconn") return Setup::holdconn;
  return std::nullopt;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// a=fingerprint:<hash-func> <XX:XX:...> (RFC 8122 section 5).
std::optional<Fingerprint> fingerprint_from(std::string_view value) {
  const auto parts = tokens(value);
  if (parts.size() != 2 || !text::is_token(parts[0])) return std::nullopt;
  Fingerprint fp;
  fp.algorithm = text::to_lower(parts[0]);
  const std::string_view hex = parts[1];
  // Each byte is two hex digits; bytes are separated by ':'. At most 64 bytes (SHA-512).
  if (hex.size() % 3 != 2 || hex.size() > 64 * 3 - 1) return std::nullopt;
  for (std::size_t i = 0; i < hex.size(); i += 3) {
    const int hi = hex_digit(hex[i]);
    const int lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i + 2 < hex.size() && hex[i + 2] != ':') return std::nullopt;
    fp.bytes.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return fp;
}

// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>].
std::optional<RtpMap> rtpmap_from(std::string_view value) {
  const auto parts = tokens(value);
  if (parts.size() != 2) return std::nullopt;
  const auto pt = number<std::uint8_t>(parts[0], 127);
  if (!pt) return std::nullopt;
  RtpMap map;
  map.payload_type = *pt;
  std::string_view rest = parts[1];
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  map.encoding = std::string(rest.substr(0, slash));
  rest.remove_prefix(slash + 1);
  const auto slash2 = rest.find('/');
  const auto clock = number<std::uint32_t>(rest.substr(0, slash2));
  if (!clock) return std::nullopt;
  map.clock_rate = *clock;
  if (slash2 != std::string_view::npos) {
    const auto channels = number<std::uint32_t>(rest.substr(slash2 + 1));
    if (!channels) return std::nullopt;
    map.channels = *channels;
  }
  return map;
}

// a=rtcp-fb:<pt|*> <type> [<parameters>] (RFC 4585 section 4.2).
std::optional<RtcpFb> rtcp_fb_from(std::string_view value) {
  const auto parts = tokens(value);
  if (parts.size() < 2) return std::nullopt;
  RtcpFb fb;
  if (parts[0] != "*") {
    const auto pt = number<std::uint8_t>(parts[0], 127);
    if (!pt) return std::nullopt;
    fb.payload_type = *pt;
  }
  fb.type = std::string(parts[1]);
  fb.parameters = text::join(parts, 2);
  return fb;
}

// a=extmap:<id>[/<direction>] <uri> [<extension attributes>] (RFC 8285 section 8).
std::optional<Extmap> extmap_from(std::string_view value) {
  const auto parts = tokens(value);
  if (parts.size() < 2) return std::nullopt;
  Extmap ext;
  std::string_view id = parts[0];
  const auto slash = id.find('/');
  if (slash != std::string_view::npos) {
    ext.direction = direction_from(id.substr(slash + 1));
    if (!ext.direction) return std::nullopt;
    id = id.substr(0, slash);
  }
  const auto n = number<std::uint16_t>(id, 255);
  if (!n || *n == 0) return std::nullopt;
  ext.id = *n;
  ext.uri = std::string(parts[1]);
  ext.attributes = text::join(parts, 2);
  return ext;
}

// a=ssrc:<ssrc-id> <attribute>[:<value>] (RFC 5576 section 4.1).
std::optional<SsrcAttribute> ssrc_from(std::string_view value) {
  const auto [id, rest] = first_token(value);
  const auto ssrc = number<std::uint32_t>(id);
  if (!ssrc || rest.empty()) return std::nullopt;
  SsrcAttribute attr;
  attr.ssrc = *ssrc;
  const auto colon = rest.find(':');
  attr.attribute = std::string(rest.substr(0, colon));
  if (!text::is_token(attr.attribute)) return std::nullopt;
  if (colon != std::string_view::npos) attr.value = std::string(rest.substr(colon + 1));
  return attr;
}

// a=ssrc-group:<semantics> *(SP <ssrc-id>) (RFC 5576 section 4.2).
std::optional<SsrcGroup> ssrc_group_from(std::string_view value) {
  const auto parts = tokens(value);
  if (parts.empty() || !text::is_token(parts[0])) return std::nullopt;
  SsrcGroup group;
  group.semantics = std::string(parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto ssrc = number<std::uint32_t>(parts[i]);
    if (!ssrc) return std::nullopt;
    group.ssrcs.push_back(*ssrc);
  }
  return group;
}

// a=group:<semantics> *(SP <identification-tag>) (RFC 5888 section 5).
std::optional<Group> group_from(std::string_view value) {
  const auto parts = tokens(value);
  if (parts.empty() || !text::is_token(parts[0])) return std::nullopt;
  Group group;
  group.semantics = std::string(parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (!text::is_token(parts[i])) return std::nullopt;
    group.mids.emplace_back(parts[i]);
  }
  return group;
}

// a=sctpmap:<number> <app> [<streams>] (draft-ietf-mmusic-sctp-sdp-05 section 5).
std::optional<Sctpmap> sctpmap_from(std::string_view value) {
  const auto parts = tokens(value);
  if (parts.size() < 2 || parts.size() > 3 || !text::is_token(parts[1])) return std::nullopt;
  const auto port = number<std::uint16_t>(parts[0]);
  if (!port) return std::nullopt;
  Sctpmap map;
  map.port = *port;
  map.app = std::string(parts[1]);
  if (parts.size() == 3) {
    map.streams = number<std::uint32_t>(parts[2]);
    if (!map.streams) return std::nullopt;
  }
  return map;
}

// The outcome of reading an a=candidate value: a candidate, a well-formed one the model does not
// type (kept as an attribute), or an error.
struct CandidateParse {
  std::optional<Candidate> candidate;
  std::string unsupported;  // why it is kept untyped
  std::string error;
};

// RFC 8839 section 5.1: foundation component transport priority address port "typ" type
// [raddr <address>] [rport <port>] *(<extension name> <extension value>).
CandidateParse candidate_from(std::string_view value) {
  CandidateParse out;
  const auto parts = tokens(value);
  if (parts.size() < 8 || parts[6] != "typ" || (parts.size() - 8) % 2 != 0) {
    out.error = "bad a=candidate value";
    return out;
  }
  Candidate c;
  if (parts[0].size() > 32 || !text::is_ice_chars(parts[0])) {
    out.error = "bad candidate foundation";
    return out;
  }
  c.foundation = std::string(parts[0]);
  const auto component = number<std::uint16_t>(parts[1], 256);
  const auto priority = number<std::uint32_t>(parts[3]);
  const auto port = number<std::uint16_t>(parts[5]);
  if (!component || *component == 0 || !priority || !port) {
    out.error = "bad candidate component, priority or port";
    return out;
  }
  c.component = *component;
  c.priority = *priority;
  c.port = *port;
  c.address = std::string(parts[4]);
  for (std::size_t i = 8; i < parts.size(); i += 2) {
    if (!text::is_token(parts[i])) {
      out.error = "bad candidate extension";
      return out;
    }
  }
  if (text::iequals(parts[2], "udp")) {
    c.transport = CandidateTransport::udp;
  } else if (text::iequals(parts[2], "tcp")) {
    c.transport = CandidateTransport::tcp;
  } else {
    out.unsupported = "candidate transport '" + std::string(parts[2]) + "' is not UDP or TCP";
    return out;
  }
  const std::string type = text::to_lower(parts[7]);
  if (type == "host") {
    c.type = CandidateType::host;
  } else if (type == "srflx") {
    c.type = CandidateType::srflx;
  } else if (type == "prflx") {
    c.type = CandidateType::prflx;
  } else if (type == "relay") {
    c.type = CandidateType::relay;
  } else {
    out.unsupported = "candidate type '" + std::string(parts[7]) + "' is unknown";
    return out;
  }
  bool seen_raddr = false;
  for (std::size_t i = 8; i < parts.size(); i += 2) {
    const std::string_view name = parts[i];
    const std::string_view val = parts[i + 1];
    if (name == "raddr") {
      if (seen_raddr) {
        out.error = "second raddr in a=candidate";
        return out;
      }
      seen_raddr = true;
      c.related_address = std::string(val);
    } else if (name == "rport") {
      const auto rport = number<std::uint16_t>(val);
      if (!rport || c.related_port) {
        out.error = "bad rport in a=candidate";
        return out;
      }
      c.related_port = *rport;
    } else if (name == "tcptype") {
      if (c.tcptype) {
        out.error = "second tcptype in a=candidate";
        return out;
      }
      if (val == "active") {
        c.tcptype = TcpType::active;
      } else if (val == "passive") {
        c.tcptype = TcpType::passive;
      } else if (val == "so") {
        c.tcptype = TcpType::so;
      } else {
        out.error = "bad tcptype in a=candidate";
        return out;
      }
    } else {
      c.extensions.emplace_back(name, val);
    }
  }
  out.candidate = std::move(c);
  return out;
}

bool is_session_only(char type) {
  return type == 'v' || type == 'o' || type == 's' || type == 't' || type == 'u' || type == 'e' ||
         type == 'p' || type == 'r' || type == 'z';
}

bool is_known_line_type(char type) {
  static constexpr std::string_view kTypes = "vosiuepcbtrzkam";
  return kTypes.find(type) != std::string_view::npos;
}

// RFC 8866 section 5 order of the lines kept as OtherLine.
int line_rank(char type) {
  static constexpr std::string_view kOrder = "iuepbrzk";
  const auto pos = kOrder.find(type);
  return pos == std::string_view::npos ? 99 : static_cast<int>(pos);
}

class Parser {
 public:
  explicit Parser(detail::ParseMode mode) : mode_(mode) {}

  Result<SessionDescription> run(std::string_view sdp) {
    if (sdp.size() > kMaxSdpSize) {
      return fail("SDP larger than " + std::to_string(kMaxSdpSize) + " bytes");
    }
    std::size_t pos = 0;
    std::size_t number = 0;
    while (pos < sdp.size()) {
      auto end = sdp.find('\n', pos);
      if (end == std::string_view::npos) end = sdp.size();
      std::string_view line = sdp.substr(pos, end - pos);
      pos = end + 1;
      if (++number > kMaxLines) {
        return fail("more than " + std::to_string(kMaxLines) + " lines");
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() > kMaxLineLength) {
        return fail(at_line(number, "longer than " + std::to_string(kMaxLineLength) + " bytes"));
      }
      if (line.find('\0') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
        return fail(at_line(number, "NUL or CR inside a line"));
      }
      while (!line.empty() && text::is_space(line.back())) line.remove_suffix(1);
      if (line.empty()) continue;  // tolerated: blank lines and a trailing line end
      if (Error e = on_line(line)) return fail(at_line(number, *e));
    }
    if (mode_ == detail::ParseMode::session) {
      if (!seen_v_) return fail("empty SDP: no v= line");
      if (!seen_o_) return fail("missing o= line");
      if (!seen_s_) return fail("missing s= line");
      if (!timing_seen_) return fail("missing t= line");
    }
    auto by_rank = [](const OtherLine& a, const OtherLine& b) {
      return line_rank(a.type) < line_rank(b.type);
    };
    std::stable_sort(d_.lines.begin(), d_.lines.end(), by_rank);
    for (auto& m : d_.media) std::stable_sort(m.lines.begin(), m.lines.end(), by_rank);
    return std::move(d_);
  }

 private:
  Error on_line(std::string_view line) {
    if (line.size() < 2 || line[1] != '=') return "expected <type>=<value>";
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (!is_known_line_type(type)) return std::string("unknown line type '") + type + "'";
    if (mode_ == detail::ParseMode::fragment) {
      if (is_session_only(type)) {
        return std::string(1, type) + "= line in an SDP fragment";
      }
    } else if (!seen_v_) {
      if (type != 'v') return "expected v=0 as the first line";
      if (trim(value) != "0") return "unsupported SDP version (v=0 expected)";
      seen_v_ = true;
      return std::nullopt;
    }
    if (media_ != nullptr && is_session_only(type)) {
      return std::string(1, type) + "= line inside a media section";
    }
    switch (type) {
      case 'v':
        return "second v= line";
      case 'o':
        return on_origin(value);
      case 's':
        if (seen_s_) return "second s= line";
        seen_s_ = true;
        d_.session_name = std::string(value);
        return std::nullopt;
      case 't': {
        const auto parts = tokens(value);
        if (parts.size() != 2 || !number<std::uint64_t>(parts[0]) ||
            !number<std::uint64_t>(parts[1])) {
          return "bad t= line";
        }
        if (!timing_seen_) d_.timing.clear();
        timing_seen_ = true;
        d_.timing.push_back(text::join(parts));
        return std::nullopt;
      }
      case 'c':
        return on_connection(value);
      case 'm':
        return on_media(value);
      case 'a':
        if (Error e = count_attribute()) return e;
        return on_attribute(value);
      default:  // i u e p b r z k
        if (Error e = count_attribute()) return e;
        (media_ ? media_->lines : d_.lines).push_back({type, std::string(value)});
        return std::nullopt;
    }
  }

  Error count_attribute() {
    if (++attributes_ > kMaxAttributes) {
      return "more than " + std::to_string(kMaxAttributes) + " attributes " +
             (media_ ? "in one m-section" : "at session level");
    }
    return std::nullopt;
  }

  Error on_origin(std::string_view value) {
    if (seen_o_) return "second o= line";
    seen_o_ = true;
    const auto parts = tokens(value);
    if (parts.size() != 6) return "bad o= line (6 fields expected)";
    d_.origin = {std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                 std::string(parts[3]), std::string(parts[4]), std::string(parts[5])};
    return std::nullopt;
  }

  Error on_connection(std::string_view value) {
    auto& slot = media_ ? media_->connection : d_.connection;
    if (slot) return "second c= line";
    const auto parts = tokens(value);
    if (parts.size() != 3) return "bad c= line (3 fields expected)";
    slot = Connection{std::string(parts[0]), std::string(parts[1]), std::string(parts[2])};
    return std::nullopt;
  }

  // m=<media> <port>[/<number of ports>] <proto> 1*(SP <fmt>) (RFC 8866 section 5.14).
  Error on_media(std::string_view value) {
    if (d_.media.size() >= kMaxMediaSections) {
      return "more than " + std::to_string(kMaxMediaSections) + " m-sections";
    }
    const auto parts = tokens(value);
    if (parts.empty() || !text::is_token(parts[0])) return "m= line without a media type";
    if (parts.size() < 2) return "m= line without a port";
    if (parts.size() < 3) return "m= line without a protocol";
    if (parts.size() < 4) return "m= line without formats";
    MediaSection m;
    m.media = std::string(parts[0]);
    if (m.media == "audio") {
      m.kind = MediaKind::audio;
    } else if (m.media == "video") {
      m.kind = MediaKind::video;
    } else if (m.media == "application") {
      m.kind = MediaKind::application;
    }
    std::string_view port = parts[1];
    const auto slash = port.find('/');
    if (slash != std::string_view::npos) {
      m.port_count = number<std::uint16_t>(port.substr(slash + 1));
      if (!m.port_count) return "bad port count in m= line";
      port = port.substr(0, slash);
    }
    const auto p = number<std::uint16_t>(port);
    if (!p) return "bad port in m= line";
    m.port = *p;
    m.proto_text = std::string(parts[2]);
    if (m.proto_text == "UDP/TLS/RTP/SAVPF") {
      m.proto = Proto::udp_tls_rtp_savpf;
    } else if (m.proto_text == "UDP/DTLS/SCTP") {
      m.proto = Proto::udp_dtls_sctp;
    } else if (m.proto_text == "TCP/DTLS/SCTP") {
      m.proto = Proto::tcp_dtls_sctp;
    } else if (m.proto_text == "DTLS/SCTP") {
      m.proto = Proto::dtls_sctp;
    }
    for (std::size_t i = 3; i < parts.size(); ++i) m.formats.emplace_back(parts[i]);
    d_.media.push_back(std::move(m));
    media_ = &d_.media.back();
    attributes_ = 0;
    return std::nullopt;
  }

  Error on_attribute(std::string_view line_value) {
    const auto colon = line_value.find(':');
    const std::string_view name = line_value.substr(0, colon);
    if (!text::is_token(name)) return "bad attribute name";
    std::optional<std::string_view> raw;
    if (colon != std::string_view::npos) raw = line_value.substr(colon + 1);
    if (Error e = media_ ? on_media_attribute(name, raw) : on_session_attribute(name, raw)) {
      return e;
    }
    if (!handled_) {
      auto& list = media_ ? media_->attributes : d_.attributes;
      list.push_back({std::string(name), raw ? std::optional<std::string>(*raw) : std::nullopt});
    }
    return std::nullopt;
  }

  // Helpers for one attribute: they set handled_ when the model keeps it in a typed field.
  Error flag(std::string_view name, const std::optional<std::string_view>& raw, bool& field) {
    if (raw) return "a=" + std::string(name) + " takes no value";
    field = true;
    handled_ = true;
    return std::nullopt;
  }

  static Error need_value(std::string_view name, const std::optional<std::string_view>& raw) {
    if (!raw || trim(*raw).empty()) return "a=" + std::string(name) + " without a value";
    return std::nullopt;
  }

  Error word(std::string_view name, const std::optional<std::string_view>& raw,
             std::optional<std::string>& field) {
    if (Error e = need_value(name, raw)) return e;
    if (field) return "second a=" + std::string(name);
    const std::string_view v = trim(*raw);
    if (!text::is_word(v)) return bad_value(name);
    field = std::string(v);
    handled_ = true;
    return std::nullopt;
  }

  Error direction(std::string_view name, const std::optional<std::string_view>& raw,
                  std::optional<Direction>& field) {
    if (raw) return "a=" + std::string(name) + " takes no value";
    if (field) return "more than one direction attribute";
    field = direction_from(name);
    handled_ = true;
    return std::nullopt;
  }

  template <typename T, typename Fn>
  Error typed(std::string_view name, const std::optional<std::string_view>& raw,
              std::vector<T>& list, Fn from) {
    if (Error e = need_value(name, raw)) return e;
    auto v = from(trim(*raw));
    if (!v) return bad_value(name);
    list.push_back(std::move(*v));
    handled_ = true;
    return std::nullopt;
  }

  // The transport attributes allowed at session and media level.
  Error common_attribute(std::string_view name, const std::optional<std::string_view>& raw,
                         std::optional<std::string>& ufrag, std::optional<std::string>& pwd,
                         std::vector<std::string>& options, std::vector<Fingerprint>& fingerprints,
                         std::optional<Setup>& setup, bool& allow_mixed,
                         std::optional<Direction>& dir) {
    if (name == "ice-ufrag") return word(name, raw, ufrag);
    if (name == "ice-pwd") return word(name, raw, pwd);
    if (name == "ice-options") {
      if (Error e = need_value(name, raw)) return e;
      for (auto option : tokens(*raw)) options.emplace_back(option);
      handled_ = true;
      return std::nullopt;
    }
    if (name == "fingerprint") return typed(name, raw, fingerprints, fingerprint_from);
    if (name == "setup") {
      if (Error e = need_value(name, raw)) return e;
      if (setup) return "second a=setup";
      setup = setup_from(trim(*raw));
      if (!setup) return bad_value(name);
      handled_ = true;
      return std::nullopt;
    }
    if (name == "extmap-allow-mixed") return flag(name, raw, allow_mixed);
    if (direction_from(name)) return direction(name, raw, dir);
    return std::nullopt;
  }

  Error on_session_attribute(std::string_view name, const std::optional<std::string_view>& raw) {
    handled_ = false;
    SessionDescription& d = d_;
    if (Error e = common_attribute(name, raw, d.ice_ufrag, d.ice_pwd, d.ice_options, d.fingerprints,
                                   d.setup, d.extmap_allow_mixed, d.direction)) {
      return e;
    }
    if (handled_) return std::nullopt;
    if (name == "group") return typed(name, raw, d.groups, group_from);
    if (name == "ice-lite") return flag(name, raw, d.ice_lite);
    if (name == "msid-semantic") {
      if (Error e = need_value(name, raw)) return e;
      if (d.msid_semantic) return "second a=msid-semantic";
      const auto parts = tokens(*raw);
      MsidSemantic semantic{std::string(parts[0]), {}};
      for (std::size_t i = 1; i < parts.size(); ++i) semantic.ids.emplace_back(parts[i]);
      d.msid_semantic = std::move(semantic);
      handled_ = true;
    }
    return std::nullopt;
  }

  Error on_media_attribute(std::string_view name, const std::optional<std::string_view>& raw) {
    handled_ = false;
    MediaSection& m = *media_;
    if (Error e = common_attribute(name, raw, m.ice_ufrag, m.ice_pwd, m.ice_options, m.fingerprints,
                                   m.setup, m.extmap_allow_mixed, m.direction)) {
      return e;
    }
    if (handled_) return std::nullopt;
    if (name == "mid") {
      if (Error e = word(name, raw, m.mid)) return e;
      if (!text::is_token(*m.mid)) return bad_value(name);
      return std::nullopt;
    }
    if (name == "rtcp-mux") return flag(name, raw, m.rtcp_mux);
    if (name == "rtcp-mux-only") return flag(name, raw, m.rtcp_mux_only);
    if (name == "rtcp-rsize") return flag(name, raw, m.rtcp_rsize);
    if (name == "bundle-only") return flag(name, raw, m.bundle_only);
    if (name == "end-of-candidates") return flag(name, raw, m.end_of_candidates);
    if (name == "rtpmap") return typed(name, raw, m.rtpmaps, rtpmap_from);
    if (name == "rtcp-fb") return typed(name, raw, m.rtcp_fbs, rtcp_fb_from);
    if (name == "extmap") return typed(name, raw, m.extmaps, extmap_from);
    if (name == "ssrc") return typed(name, raw, m.ssrcs, ssrc_from);
    if (name == "ssrc-group") return typed(name, raw, m.ssrc_groups, ssrc_group_from);
    if (name == "sctpmap") return typed(name, raw, m.sctpmaps, sctpmap_from);
    if (name == "msid") {
      return typed(name, raw, m.msids, [](std::string_view v) -> std::optional<Msid> {
        const auto parts = tokens(v);
        if (parts.empty() || parts.size() > 2) return std::nullopt;
        return Msid{std::string(parts[0]), parts.size() == 2 ? std::string(parts[1]) : ""};
      });
    }
    if (name == "fmtp") {
      // Typed only for RTP payload types; the fmtp of any other format is kept as written.
      if (!raw) return std::nullopt;
      const auto [pt_text, rest] = first_token(*raw);
      const auto pt = number<std::uint8_t>(pt_text, 127);
      if (!pt) return std::nullopt;
      m.fmtps.push_back({*pt, std::string(rest), parse_fmtp_parameters(rest)});
      handled_ = true;
      return std::nullopt;
    }
    if (name == "sctp-port") {
      if (Error e = need_value(name, raw)) return e;
      if (m.sctp_port) return "second a=sctp-port";
      m.sctp_port = number<std::uint16_t>(trim(*raw));
      if (!m.sctp_port) return bad_value(name);
      handled_ = true;
      return std::nullopt;
    }
    if (name == "max-message-size") {
      if (Error e = need_value(name, raw)) return e;
      if (m.max_message_size) return "second a=max-message-size";
      m.max_message_size = number<std::uint64_t>(trim(*raw));
      if (!m.max_message_size) return bad_value(name);
      handled_ = true;
      return std::nullopt;
    }
    if (name == "candidate") {
      if (Error e = need_value(name, raw)) return e;
      CandidateParse c = candidate_from(*raw);
      if (!c.error.empty()) return c.error;
      if (c.candidate) {
        m.candidates.push_back(std::move(*c.candidate));
        handled_ = true;
      }
      return std::nullopt;
    }
    return std::nullopt;
  }

  detail::ParseMode mode_;
  SessionDescription d_;
  MediaSection* media_ = nullptr;
  std::size_t attributes_ = 0;
  bool seen_v_ = false;
  bool seen_o_ = false;
  bool seen_s_ = false;
  bool timing_seen_ = false;
  bool handled_ = false;
};

}  // namespace

std::map<std::string, std::string, std::less<>> parse_fmtp_parameters(std::string_view text) {
  std::map<std::string, std::string, std::less<>> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      out.insert_or_assign(std::string(item), std::string());
    } else {
      out.insert_or_assign(std::string(trim(item.substr(0, eq))),
                           std::string(trim(item.substr(eq + 1))));
    }
  }
  return out;
}

Result<Candidate> parse_candidate(std::string_view value) {
  value = trim(value);
  if (value.starts_with("a=")) value.remove_prefix(2);
  if (value.starts_with("candidate:")) value.remove_prefix(10);
  if (value.size() > kMaxLineLength) return fail("candidate longer than a line may be");
  CandidateParse c = candidate_from(value);
  if (!c.error.empty()) return fail(c.error);
  if (!c.candidate) return fail(c.unsupported);
  return std::move(*c.candidate);
}

Result<SessionDescription> parse(std::string_view sdp) {
  return detail::parse_lines(sdp, detail::ParseMode::session);
}

namespace detail {

Result<SessionDescription> parse_lines(std::string_view sdp, ParseMode mode) {
  return Parser(mode).run(sdp);
}

}  // namespace detail
}  // namespace podium::sfu::sdp
