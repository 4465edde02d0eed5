// The SDP model for WHIP/WHEP offers and the SFU's answers: the parts of RFC 8866 that WebRTC
// uses (unified plan, RFC 8829 JSEP as Chromium, Firefox and aiortc send it), with typed fields
// for the attributes the SFU reads and a list of everything else so nothing is lost.
//
// parse() is total: any input gives a SessionDescription or a reason such as
// "line 7: m= line without a port". It never throws on malformed input and bounds its work
// (kMaxSdpSize, kMaxLines, kMaxLineLength, kMaxMediaSections, kMaxAttributes).
//
// What parse() accepts: LF or CRLF line ends; blank lines and trailing spaces are ignored; the
// first line must be "v=0"; o=, s= and t= are required once before the first m= line. Every other
// line must be one of the RFC 8866 types (i u e p c b r z k a m), else it is refused
// (RFC 8866 section 5: a parser must not ignore type letters it does not know).
//
// Attributes with a typed field must parse ("line 12: bad a=rtpmap value"); single-valued ones
// (mid, ice-ufrag, setup, ...) may appear once per level. Attributes the model does not type are
// kept in `attributes` in order, as are a few that the model types but that use a form the SFU does
// not understand (a candidate with a transport other than UDP/TCP or an unknown candidate type, an
// fmtp for a format that is not an RTP payload type, ice-lite below session level, ...).
//
// to_string() writes a canonical order (RFC 8866 line order; typed attributes, then the kept ones),
// so parse(to_string(x)) == x for every x that parse() produced. It does not validate: a model
// built by hand with spaces or line breaks in a token writes broken SDP.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "podium/common/result.hpp"

namespace podium::sfu::sdp {

// Bounds on what parse() and parse_sdpfrag() look at. HTTP refuses bodies above 64 KiB before
// parsing; these keep the parser bounded on its own.
inline constexpr std::size_t kMaxSdpSize = 128 * 1024;
inline constexpr std::size_t kMaxLines = 4096;
inline constexpr std::size_t kMaxLineLength = 4096;  // bytes, without the line end
inline constexpr std::size_t kMaxMediaSections = 32;
inline constexpr std::size_t kMaxAttributes = 512;  // a= lines at session level or in one section

enum class MediaKind : std::uint8_t { audio, video, application, other };
// The m= line transport protocols WebRTC uses (RFC 8829 section 5.1.2, RFC 8841 section 4.1);
// dtls_sctp is the pre-RFC "DTLS/SCTP" with a=sctpmap that aiortc 1.4 still offers.
enum class Proto : std::uint8_t {
  udp_tls_rtp_savpf,
  udp_dtls_sctp,
  tcp_dtls_sctp,
  dtls_sctp,
  other
};
enum class Direction : std::uint8_t { sendrecv, sendonly, recvonly, inactive };
enum class Setup : std::uint8_t { actpass, active, passive, holdconn };  // RFC 4145 section 4
enum class CandidateTransport : std::uint8_t { udp, tcp };
enum class CandidateType : std::uint8_t { host, srflx, prflx, relay };
enum class TcpType : std::uint8_t { active, passive, so };  // RFC 6544 section 4.5

std::string_view to_string(MediaKind kind);
std::string_view to_string(Proto proto);  // "" for Proto::other
std::string_view to_string(Direction direction);
std::string_view to_string(Setup setup);
std::string_view to_string(CandidateTransport transport);
std::string_view to_string(CandidateType type);
std::string_view to_string(TcpType type);

bool is_rtp(Proto proto);   // UDP/TLS/RTP/SAVPF
bool is_sctp(Proto proto);  // any DTLS/SCTP form
// The direction the other side sees: sendonly <-> recvonly (RFC 3264 section 6.1).
Direction reverse(Direction direction);

// An attribute the model keeps as written: "a=name" (no value) or "a=name:value".
struct Attribute {
  std::string name;
  std::optional<std::string> value;
  friend bool operator==(const Attribute&, const Attribute&) = default;
};

// A line other than v= o= s= t= c= m= a=, kept with its type letter (i u e p b r z k).
struct OtherLine {
  char type = 0;
  std::string value;
  friend bool operator==(const OtherLine&, const OtherLine&) = default;
};

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (RFC 8866 5.2).
struct Origin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  std::string net_type = "IN";
  std::string address_type = "IP4";
  std::string address = "127.0.0.1";
  friend bool operator==(const Origin&, const Origin&) = default;
};

// c=<nettype> <addrtype> <connection-address> (RFC 8866 section 5.7).
struct Connection {
  std::string net_type = "IN";
  std::string address_type = "IP4";
  std::string address = "0.0.0.0";
  friend bool operator==(const Connection&, const Connection&) = default;
};

// a=fingerprint:<hash-func> <hex bytes separated by ':'> (RFC 8122 section 5). The algorithm is
// kept lower-case; only sha-256 is acceptable for answering, but every algorithm parses.
struct Fingerprint {
  std::string algorithm;
  std::vector<std::uint8_t> bytes;
  friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
};
std::string format_fingerprint_bytes(const std::vector<std::uint8_t>& bytes);  // "AB:CD:..."

// a=group:<semantics> <mid>... (RFC 5888 section 5), e.g. BUNDLE (RFC 8843).
struct Group {
  std::string semantics;
  std::vector<std::string> mids;
  friend bool operator==(const Group&, const Group&) = default;
};

// a=msid-semantic:WMS [*|ids] (the pre-RFC 8830 form browsers still send at session level).
struct MsidSemantic {
  std::string semantic;
  std::vector<std::string> ids;
  friend bool operator==(const MsidSemantic&, const MsidSemantic&) = default;
};

// a=rtpmap:<pt> <encoding>/<clock>[/<channels>] (RFC 8866 section 6.6).
struct RtpMap {
  std::uint8_t payload_type = 0;  // 0..127
  std::string encoding;
  std::uint32_t clock_rate = 0;
  std::optional<std::uint32_t> channels;
  friend bool operator==(const RtpMap&, const RtpMap&) = default;
};

// a=fmtp:<pt> <parameters> (RFC 8866 section 6.15). `text` is what to_string() writes;
// `parameters` is its parsed view: ';'-separated, "key=value" or a bare "key" (value "").
struct Fmtp {
  std::uint8_t payload_type = 0;
  std::string text;
  std::map<std::string, std::string, std::less<>> parameters;
  friend bool operator==(const Fmtp&, const Fmtp&) = default;
};
std::map<std::string, std::string, std::less<>> parse_fmtp_parameters(std::string_view text);

// a=rtcp-fb:<pt|*> <type> [<parameters>] (RFC 4585 section 4.2), e.g. "nack pli".
struct RtcpFb {
  static constexpr int kAnyPayload = -1;  // "*"
  int payload_type = kAnyPayload;
  std::string type;
  std::string parameters;  // the rest, single-spaced; "" if none
  friend bool operator==(const RtcpFb&, const RtcpFb&) = default;
};

// a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 section 8).
struct Extmap {
  std::uint16_t id = 0;  // 1..255 (1..14 in the one-byte form)
  std::optional<Direction> direction;
  std::string uri;
  std::string attributes;  // "" if none
  friend bool operator==(const Extmap&, const Extmap&) = default;
};

// One a=ssrc:<ssrc> <attribute>[:<value>] line (RFC 5576 section 4.1), e.g. cname.
struct SsrcAttribute {
  std::uint32_t ssrc = 0;
  std::string attribute;
  std::optional<std::string> value;
  friend bool operator==(const SsrcAttribute&, const SsrcAttribute&) = default;
};

// a=ssrc-group:<semantics> <ssrc>... (RFC 5576 section 4.2), e.g. FID.
struct SsrcGroup {
  std::string semantics;
  std::vector<std::uint32_t> ssrcs;
  friend bool operator==(const SsrcGroup&, const SsrcGroup&) = default;
};

// a=msid:<stream id> [<track id>] (RFC 8830 section 2).
struct Msid {
  std::string stream_id;
  std::string track_id;  // "" if absent
  friend bool operator==(const Msid&, const Msid&) = default;
};

// a=sctpmap:<port> <app> [<streams>] (draft-ietf-mmusic-sctp-sdp-05, aiortc 1.4).
struct Sctpmap {
  std::uint16_t port = 0;
  std::string app;
  std::optional<std::uint32_t> streams;
  friend bool operator==(const Sctpmap&, const Sctpmap&) = default;
};

// a=candidate (RFC 8839 section 5.1, tcptype from RFC 6544 section 4.5).
struct Candidate {
  std::string foundation;
  std::uint16_t component = 1;  // 1..256
  CandidateTransport transport = CandidateTransport::udp;
  std::uint32_t priority = 0;
  std::string address;  // IP literal or FQDN (mDNS .local names)
  std::uint16_t port = 0;
  CandidateType type = CandidateType::host;
  std::optional<TcpType> tcptype;
  std::string related_address;  // raddr; "" if absent
  std::optional<std::uint16_t> related_port;
  std::vector<std::pair<std::string, std::string>> extensions;  // "generation 0", ... in order
  friend bool operator==(const Candidate&, const Candidate&) = default;
};
// Parses the attribute value, with or without the "candidate:" prefix (the W3C
// RTCIceCandidate.candidate form has it, the SDP line value does not).
Result<Candidate> parse_candidate(std::string_view text);
std::string to_string(const Candidate& candidate);  // "candidate:<foundation> ..." (no "a=")

struct MediaSection {
  MediaKind kind = MediaKind::other;
  std::string media;  // the m= line media token, e.g. "audio" or "message"
  std::uint16_t port = 9;
  std::optional<std::uint16_t> port_count;  // m=<media> <port>/<count>
  Proto proto = Proto::other;
  std::string proto_text;  // as written, e.g. "UDP/TLS/RTP/SAVPF"
  std::vector<std::string> formats;
  std::vector<OtherLine> lines;  // i= b= k=
  std::optional<Connection> connection;

  std::optional<std::string> mid;
  std::optional<Direction> direction;  // absent: the session's, else sendrecv (RFC 8866 6.7)
  std::optional<std::string> ice_ufrag;
  std::optional<std::string> ice_pwd;
  std::vector<std::string> ice_options;
  std::vector<Fingerprint> fingerprints;
  std::optional<Setup> setup;
  bool rtcp_mux = false;
  bool rtcp_mux_only = false;  // RFC 8858
  bool rtcp_rsize = false;     // RFC 5506
  bool bundle_only = false;    // RFC 8843 section 6
  bool extmap_allow_mixed = false;
  std::vector<RtpMap> rtpmaps;
  std::vector<Fmtp> fmtps;
  std::vector<RtcpFb> rtcp_fbs;
  std::vector<Extmap> extmaps;
  std::vector<SsrcAttribute> ssrcs;
  std::vector<SsrcGroup> ssrc_groups;
  std::vector<Msid> msids;
  std::optional<std::uint16_t> sctp_port;
  std::optional<std::uint64_t> max_message_size;
  std::vector<Sctpmap> sctpmaps;
  std::vector<Candidate> candidates;
  bool end_of_candidates = false;
  std::vector<Attribute> attributes;  // the rest, in order

  const RtpMap* rtpmap(int payload_type) const;
  const Fmtp* fmtp(int payload_type) const;
  const Extmap* extmap(std::string_view uri) const;
  bool has_format(std::string_view format) const;
  friend bool operator==(const MediaSection&, const MediaSection&) = default;
};

struct SessionDescription {
  Origin origin;
  std::string session_name = "-";
  std::vector<std::string> timing = {"0 0"};  // t= values in order (at least one)
  std::vector<OtherLine> lines;               // i= u= e= p= b= r= z= k=, in RFC 8866 order
  std::optional<Connection> connection;

  std::vector<Group> groups;
  bool ice_lite = false;
  std::optional<std::string> ice_ufrag;
  std::optional<std::string> ice_pwd;
  std::vector<std::string> ice_options;
  std::vector<Fingerprint> fingerprints;
  std::optional<Setup> setup;
  bool extmap_allow_mixed = false;
  std::optional<MsidSemantic> msid_semantic;
  std::optional<Direction> direction;  // session-level default (Firefox sends a=sendrecv)
  std::vector<Attribute> attributes;

  std::vector<MediaSection> media;

  const Group* bundle_group() const;  // the first a=group:BUNDLE, if any
  const MediaSection* find_mid(std::string_view mid) const;
  // Section-level values override session-level ones (RFC 8839 5.4, RFC 8122 5, RFC 4145 4).
  const std::optional<std::string>& effective_ice_ufrag(const MediaSection& m) const;
  const std::optional<std::string>& effective_ice_pwd(const MediaSection& m) const;
  const std::vector<Fingerprint>& effective_fingerprints(const MediaSection& m) const;
  std::optional<Setup> effective_setup(const MediaSection& m) const;
  Direction effective_direction(const MediaSection& m) const;
  friend bool operator==(const SessionDescription&, const SessionDescription&) = default;
};

Result<SessionDescription> parse(std::string_view sdp);
std::string to_string(const SessionDescription& description);  // CRLF line ends

}  // namespace podium::sfu::sdp
