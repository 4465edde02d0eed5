// The SFU's side of SDP offer/answer (RFC 3264, RFC 8829 JSEP section 5.3) for WHIP (RFC 9725)
// and WHEP: the client offers, the SFU answers once. negotiate() returns the answer and what the
// SFU needs from the offer to run ICE, DTLS-SRTP, RTP and SCTP.
//
// What is accepted (every other m-section is answered with port 0, its mid and a=inactive, and
// listed in Negotiation::rejected with the reason):
//   - the first audio section that has Opus/48000/2, UDP/TLS/RTP/SAVPF, a=rtcp-mux and a direction
//     that fits the role: a presenter must send (sendonly/sendrecv; answered recvonly), a guest
//     must receive (recvonly/sendrecv; answered sendonly). The offer's Opus payload type and fmtp
//     are kept; only Opus is answered. Header extensions in AnswerOptions::header_extensions are
//     kept with the offer's ids (one-byte ids 1-14 only: the answer has no extmap-allow-mixed);
//     rtcp-fb transport-cc only if offered and the transport-cc extension was kept.
//   - the first application section for webrtc-datachannel over UDP/DTLS/SCTP, TCP/DTLS/SCTP, or
//     the legacy DTLS/SCTP + a=sctpmap form (answered in the same form, as aiortc 1.4 needs).
//   - an offered port of 0 means the offerer disabled the section, unless it carries
//     a=bundle-only (RFC 8843 section 6).
//
// rtcp-mux rule: an audio section without a=rtcp-mux is rejected (port 0) like any other section
// the SFU cannot serve; the SFU never demultiplexes RTCP on a second component (RFC 8858, RFC 8829
// section 5.1.3 make rtcp-mux mandatory). If that leaves nothing acceptable the offer fails.
//
// BUNDLE (RFC 8843): the SFU runs one ICE/DTLS transport. Accepted sections must have a=mid and,
// if more than one is accepted, all be in one offered a=group:BUNDLE; the answer's group lists the
// accepted mids in the offer's group order. The transport is the one of the first of them (the
// answerer-tagged section): its ICE credentials, fingerprint, setup and candidates are the remote
// transport. Chromium, Firefox and aiortc all take the transport from the first mid of the
// answer's group, also when that differs from the offer's first mid (e.g. video first, rejected).
// aiortc 1.4 offers distinct ICE credentials per section; only the tagged section's count.
//
// Unservable offers fail with a reason for the HTTP 400: no acceptable m-section (with each
// section's reason), not BUNDLE-able (no mid, sections outside one BUNDLE group, duplicate mids,
// a group naming a missing mid), no or malformed ICE credentials, no sha-256 fingerprint,
// a=setup:holdconn, or an ICE-lite offerer when the SFU is ICE-lite too.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "podium/common/result.hpp"
#include "session_description.hpp"

namespace podium::sfu::sdp {

inline constexpr std::string_view kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view kTransportCcUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
// RFC 8841 section 6: no a=max-message-size means 64 KiB; 0 means no limit.
inline constexpr std::uint64_t kDefaultRemoteMaxMessageSize = 65536;
// RFC 8841 section 5: no a=sctp-port means 5000.
inline constexpr std::uint16_t kDefaultSctpPort = 5000;
inline constexpr std::uint64_t kMinLocalMaxMessageSize = 262144;

enum class Role : std::uint8_t {
  presenter,  // publishes with WHIP: the SFU receives audio
  guest,      // plays with WHEP: the SFU sends audio
};

// What the SFU sends to a guest (a=msid, a=ssrc cname/msid, RFC 8830 and RFC 5576).
struct LocalAudioStream {
  std::uint32_t ssrc = 0;
  std::string cname;
  std::string stream_id;  // "" for no a=msid
  std::string track_id;
};

struct AnswerOptions {
  Role role = Role::presenter;
  std::string ice_ufrag;                              // 4-256 ice-chars (RFC 8839 section 5.4)
  std::string ice_pwd;                                // 22-256 ice-chars
  std::array<std::uint8_t, 32> fingerprint_sha256{};  // of the SFU's DTLS certificate
  // The answer to a=setup:actpass: passive makes the SFU the DTLS server (RFC 8842 section 5.3).
  // An offer's active is answered passive and passive active, whatever this says.
  Setup setup_for_actpass = Setup::passive;
  std::vector<Candidate> candidates;  // e.g. from host_candidate(); the first is the default
  bool ice_lite = true;               // a=ice-lite at session level (RFC 8839 section 5.3)
  bool trickle = true;                // a=ice-options:trickle: accepts trickled candidates
  LocalAudioStream audio;             // guests only
  std::vector<std::string> header_extensions = {std::string(kAudioLevelUri),
                                                std::string(kTransportCcUri)};
  std::uint64_t max_message_size = kMinLocalMaxMessageSize;  // >= kMinLocalMaxMessageSize
  std::uint16_t sctp_port = kDefaultSctpPort;
  std::uint64_t session_id = 0;  // o= line; 0: derived from ice_ufrag
};

// A host candidate of the SFU (RFC 8445 section 5.1.2 priority; TCP ones are passive, RFC 6544,
// with a lower type preference so that UDP wins). The foundation is derived from transport and
// address.
Candidate host_candidate(std::string address, std::uint16_t port, CandidateTransport transport,
                         std::uint16_t local_preference = 65535);

struct RemoteTransport {
  std::string mid;  // the section whose transport is used (first mid of the answer's group)
  std::string ice_ufrag;
  std::string ice_pwd;
  Fingerprint fingerprint;       // sha-256, 32 bytes
  Setup setup = Setup::actpass;  // as offered; absent means active (RFC 4145 section 4)
  bool ice_lite = false;
  bool trickle = false;               // a=ice-options:trickle
  std::vector<Candidate> candidates;  // of that section only, component 1
  bool end_of_candidates = false;
};

struct NegotiatedAudio {
  std::string mid;
  std::uint8_t payload_type = 111;
  std::string fmtp;  // the offered fmtp of that payload type, "" if none
  Direction remote_direction = Direction::sendonly;
  Direction local_direction = Direction::recvonly;
  std::optional<std::uint8_t> audio_level_id;  // RFC 6464
  std::optional<std::uint8_t> transport_cc_id;
  bool transport_cc_feedback = false;        // a=rtcp-fb transport-cc answered
  bool rtcp_rsize = false;                   // RFC 5506 reduced-size RTCP agreed
  std::optional<std::uint32_t> remote_ssrc;  // the offerer's a=ssrc (the presenter's stream)
};

struct NegotiatedData {
  std::string mid;
  std::uint16_t remote_sctp_port = kDefaultSctpPort;
  std::uint64_t remote_max_message_size = kDefaultRemoteMaxMessageSize;  // 0: no limit
  std::uint16_t local_sctp_port = kDefaultSctpPort;
  std::uint64_t local_max_message_size = kMinLocalMaxMessageSize;
  bool legacy_sctpmap = false;  // answered as m=application ... DTLS/SCTP <port> + a=sctpmap
};

struct RejectedSection {
  std::size_t index = 0;  // position in the offer
  std::string mid;        // "" if the section had none
  std::string reason;
};

struct Negotiation {
  SessionDescription answer;
  RemoteTransport remote;
  Setup local_setup = Setup::passive;  // active: the SFU is the DTLS client
  std::optional<NegotiatedAudio> audio;
  std::optional<NegotiatedData> data;
  std::vector<std::string> bundle;  // the answer's a=group:BUNDLE mids (may be empty)
  std::vector<RejectedSection> rejected;

  bool dtls_server() const { return local_setup == Setup::passive; }
};

Result<Negotiation> negotiate(const SessionDescription& offer, const AnswerOptions& options);
Result<SessionDescription> build_answer(const SessionDescription& offer,
                                        const AnswerOptions& options);

}  // namespace podium::sfu::sdp
