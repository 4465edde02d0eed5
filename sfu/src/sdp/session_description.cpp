// SDP generation (canonical RFC 8866 line order, CRLF) and lookups on the model.
#include "sdp/session_description.hpp"

#include <string>

namespace podium::sfu::sdp {
namespace {

class Writer {
 public:
  void line(char type, std::string_view value) {
    out_ += type;
    out_ += '=';
    out_ += value;
    out_ += "\r\n";
  }
  void attribute(std::string_view name) { line('a', name); }
  void attribute(std::string_view name, std::string_view value) {
    out_ += "a=";
    out_ += name;
    out_ += ':';
    out_ += value;
    out_ += "\r\n";
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void write_lines(Writer& w, const std::vector<OtherLine>& lines, std::string_view types) {
  for (const auto& l : lines) {
    if (types.find(l.type) != std::string_view::npos) w.line(l.type, l.value);
  }
}

std::string connection_value(const Connection& c) {
  return c.net_type + ' ' + c.address_type + ' ' + c.address;
}

std::string join_words(const std::vector<std::string>& words, std::string_view separator = " ") {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += separator;
    out += words[i];
  }
  return out;
}

// The attributes a session and a media section share, in one order.
void write_transport(Writer& w, const std::optional<std::string>& ufrag,
                     const std::optional<std::string>& pwd, const std::vector<std::string>& options,
                     const std::vector<Fingerprint>& fingerprints,
                     const std::optional<Setup>& setup) {
  if (ufrag) w.attribute("ice-ufrag", *ufrag);
  if (pwd) w.attribute("ice-pwd", *pwd);
  if (!options.empty()) w.attribute("ice-options", join_words(options));
  for (const auto& fp : fingerprints) {
    w.attribute("fingerprint", fp.algorithm + ' ' + format_fingerprint_bytes(fp.bytes));
  }
  if (setup) w.attribute("setup", to_string(*setup));
}

void write_unknown(Writer& w, const std::vector<Attribute>& attributes) {
  for (const auto& a : attributes) {
    if (a.value) {
      w.attribute(a.name, *a.value);
    } else {
      w.attribute(a.name);
    }
  }
}

std::string payload_type_text(int pt) {
  return pt == RtcpFb::kAnyPayload ? std::string("*") : std::to_string(pt);
}

void write_media(Writer& w, const MediaSection& m) {
  std::string mline = m.media + ' ' + std::to_string(m.port);
  if (m.port_count) mline += '/' + std::to_string(*m.port_count);
  mline += ' ' + m.proto_text;
  for (const auto& f : m.formats) mline += ' ' + f;
  w.line('m', mline);
  write_lines(w, m.lines, "i");
  if (m.connection) w.line('c', connection_value(*m.connection));
  write_lines(w, m.lines, "bk");

  if (m.mid) w.attribute("mid", *m.mid);
  write_transport(w, m.ice_ufrag, m.ice_pwd, m.ice_options, m.fingerprints, m.setup);
  if (m.direction) w.attribute(to_string(*m.direction));
  for (const auto& msid : m.msids) {
    w.attribute("msid",
                msid.track_id.empty() ? msid.stream_id : msid.stream_id + ' ' + msid.track_id);
  }
  if (m.rtcp_mux) w.attribute("rtcp-mux");
  if (m.rtcp_mux_only) w.attribute("rtcp-mux-only");
  if (m.rtcp_rsize) w.attribute("rtcp-rsize");
  if (m.bundle_only) w.attribute("bundle-only");
  if (m.extmap_allow_mixed) w.attribute("extmap-allow-mixed");
  for (const auto& e : m.extmaps) {
    std::string v = std::to_string(e.id);
    if (e.direction) v += '/' + std::string(to_string(*e.direction));
    v += ' ' + e.uri;
    if (!e.attributes.empty()) v += ' ' + e.attributes;
    w.attribute("extmap", v);
  }
  for (const auto& r : m.rtpmaps) {
    std::string v =
        std::to_string(r.payload_type) + ' ' + r.encoding + '/' + std::to_string(r.clock_rate);
    if (r.channels) v += '/' + std::to_string(*r.channels);
    w.attribute("rtpmap", v);
  }
  for (const auto& fb : m.rtcp_fbs) {
    std::string v = payload_type_text(fb.payload_type) + ' ' + fb.type;
    if (!fb.parameters.empty()) v += ' ' + fb.parameters;
    w.attribute("rtcp-fb", v);
  }
  for (const auto& f : m.fmtps) {
    w.attribute("fmtp", f.text.empty() ? std::to_string(f.payload_type)
                                       : std::to_string(f.payload_type) + ' ' + f.text);
  }
  for (const auto& g : m.ssrc_groups) {
    std::string v = g.semantics;
    for (auto ssrc : g.ssrcs) v += ' ' + std::to_string(ssrc);
    w.attribute("ssrc-group", v);
  }
  for (const auto& s : m.ssrcs) {
    std::string v = std::to_string(s.ssrc) + ' ' + s.attribute;
    if (s.value) v += ':' + *s.value;
    w.attribute("ssrc", v);
  }
  if (m.sctp_port) w.attribute("sctp-port", std::to_string(*m.sctp_port));
  for (const auto& s : m.sctpmaps) {
    std::string v = std::to_string(s.port) + ' ' + s.app;
    if (s.streams) v += ' ' + std::to_string(*s.streams);
    w.attribute("sctpmap", v);
  }
  if (m.max_message_size) w.attribute("max-message-size", std::to_string(*m.max_message_size));
  for (const auto& c : m.candidates) {
    // to_string(Candidate) starts with "candidate:", which is the attribute name and colon.
    w.line('a', to_string(c));
  }
  if (m.end_of_candidates) w.attribute("end-of-candidates");
  write_unknown(w, m.attributes);
}

}  // namespace

std::string_view to_string(MediaKind kind) {
  switch (kind) {
    case MediaKind::audio:
      return "audio";
    case MediaKind::video:
      return "video";
    case MediaKind::application:
      return "application";
    case MediaKind::other:
      break;
  }
  return "other";
}

std::string_view to_string(Proto proto) {
  switch (proto) {
    case Proto::udp_tls_rtp_savpf:
      return "UDP/TLS/RTP/SAVPF";
    case Proto::udp_dtls_sctp:
      return "UDP/DTLS/SCTP";
    case Proto::tcp_dtls_sctp:
      return "TCP/DTLS/SCTP";
    case Proto::dtls_sctp:
      return "DTLS/SCTP";
    case Proto::other:
      break;
  }
  return "";
}

std::string_view to_string(Direction direction) {
  switch (direction) {
    case Direction::sendrecv:
      return "sendrecv";
    case Direction::sendonly:
      return "sendonly";
    case Direction::recvonly:
      return "recvonly";
    case Direction::inactive:
      break;
  }
  return "inactive";
}

std::string_view to_string(Setup setup) {
  switch (setup) {
    case Setup::actpass:
      return "actpass";
    case Setup::active:
      return "active";
    case Setup::passive:
      return "passive";
    case Setup::holdconn:
      break;
  }
  return "holdconn";
}

std::string_view to_string(CandidateTransport transport) {
  return transport == CandidateTransport::tcp ? "tcp" : "udp";
}

std::string_view to_string(CandidateType type) {
  switch (type) {
    case CandidateType::host:
      return "host";
    case CandidateType::srflx:
      return "srflx";
    case CandidateType::prflx:
      return "prflx";
    case CandidateType::relay:
      break;
  }
  return "relay";
}

std::string_view to_string(TcpType type) {
  switch (type) {
    case TcpType::active:
      return "active";
    case TcpType::passive:
      return "passive";
    case TcpType::so:
      break;
  }
  return "so";
}

bool is_rtp(Proto proto) {
  return proto == Proto::udp_tls_rtp_savpf;
}

bool is_sctp(Proto proto) {
  return proto == Proto::udp_dtls_sctp || proto == Proto::tcp_dtls_sctp ||
         proto == Proto::dtls_sctp;
}

Direction reverse(Direction direction) {
  switch (direction) {
    case Direction::sendonly:
      return Direction::recvonly;
    case Direction::recvonly:
      return Direction::sendonly;
    default:
      return direction;
  }
}

std::string format_fingerprint_bytes(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out += ':';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0F];
  }
  return out;
}

std::string to_string(const Candidate& c) {
  std::string out = "candidate:" + c.foundation + ' ' + std::to_string(c.component) + ' ' +
                    std::string(to_string(c.transport)) + ' ' + std::to_string(c.priority) + ' ' +
                    c.address + ' ' + std::to_string(c.port) + " typ " +
                    std::string(to_string(c.type));
  if (!c.related_address.empty()) out += " raddr " + c.related_address;
  if (c.related_port) out += " rport " + std::to_string(*c.related_port);
  if (c.tcptype) out += " tcptype " + std::string(to_string(*c.tcptype));
  for (const auto& [name, value] : c.extensions) out += ' ' + name + ' ' + value;
  return out;
}

const RtpMap* MediaSection::rtpmap(int payload_type) const {
  for (const auto& r : rtpmaps) {
    if (r.payload_type == payload_type) return &r;
  }
  return nullptr;
}

const Fmtp* MediaSection::fmtp(int payload_type) const {
  for (const auto& f : fmtps) {
    if (f.payload_type == payload_type) return &f;
  }
  return nullptr;
}

const Extmap* MediaSection::extmap(std::string_view uri) const {
  for (const auto& e : extmaps) {
    if (e.uri == uri) return &e;
  }
  return nullptr;
}

bool MediaSection::has_format(std::string_view format) const {
  for (const auto& f : formats) {
    if (f == format) return true;
  }
  return false;
}

const Group* SessionDescription::bundle_group() const {
  for (const auto& g : groups) {
    if (g.semantics == "BUNDLE") return &g;
  }
  return nullptr;
}

const MediaSection* SessionDescription::find_mid(std::string_view mid) const {
  for (const auto& m : media) {
    if (m.mid && *m.mid == mid) return &m;
  }
  return nullptr;
}

const std::optional<std::string>& SessionDescription::effective_ice_ufrag(
    const MediaSection& m) const {
  return m.ice_ufrag ? m.ice_ufrag : ice_ufrag;
}

const std::optional<std::string>& SessionDescription::effective_ice_pwd(
    const MediaSection& m) const {
  return m.ice_pwd ? m.ice_pwd : ice_pwd;
}

const std::vector<Fingerprint>& SessionDescription::effective_fingerprints(
    const MediaSection& m) const {
  return m.fingerprints.empty() ? fingerprints : m.fingerprints;
}

std::optional<Setup> SessionDescription::effective_setup(const MediaSection& m) const {
  return m.setup ? m.setup : setup;
}

Direction SessionDescription::effective_direction(const MediaSection& m) const {
  if (m.direction) return *m.direction;
  if (direction) return *direction;
  return Direction::sendrecv;
}

std::string to_string(const SessionDescription& d) {
  Writer w;
  w.line('v', "0");
  const Origin& o = d.origin;
  w.line('o', o.username + ' ' + o.session_id + ' ' + o.session_version + ' ' + o.net_type + ' ' +
                  o.address_type + ' ' + o.address);
  w.line('s', d.session_name);
  write_lines(w, d.lines, "iuep");
  if (d.connection) w.line('c', connection_value(*d.connection));
  write_lines(w, d.lines, "b");
  for (const auto& t : d.timing) w.line('t', t);
  write_lines(w, d.lines, "rzk");

  for (const auto& g : d.groups) {
    w.attribute("group", g.mids.empty() ? g.semantics : g.semantics + ' ' + join_words(g.mids));
  }
  if (d.ice_lite) w.attribute("ice-lite");
  write_transport(w, d.ice_ufrag, d.ice_pwd, d.ice_options, d.fingerprints, d.setup);
  if (d.extmap_allow_mixed) w.attribute("extmap-allow-mixed");
  if (d.msid_semantic) {
    std::string v = d.msid_semantic->semantic;
    for (const auto& id : d.msid_semantic->ids) v += ' ' + id;
    w.attribute("msid-semantic", v);
  }
  if (d.direction) w.attribute(to_string(*d.direction));
  write_unknown(w, d.attributes);
  for (const auto& m : d.media) write_media(w, m);
  return w.take();
}

}  // namespace podium::sfu::sdp
