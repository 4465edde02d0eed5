// The SFU's answer to WHIP/WHEP offers; the rules are in answer.hpp.
#include "sdp/answer.hpp"

#include <algorithm>
#include <string>

#include "sdp/text.hpp"

namespace podium::sfu::sdp {
namespace {

constexpr std::string_view kDataChannel = "webrtc-datachannel";
constexpr std::uint32_t kLegacySctpStreams = 65535;

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

std::string describe(const MediaSection& m, std::size_t index) {
  std::string out = "m-section " + std::to_string(index);
  if (m.mid) out += " (mid " + *m.mid + ")";
  return out;
}

// RFC 8839 section 5.4: ice-ufrag is 4-256 ice-chars, ice-pwd 22-256.
bool valid_ufrag(std::string_view s) {
  return s.size() >= 4 && s.size() <= 256 && text::is_ice_chars(s);
}
bool valid_pwd(std::string_view s) {
  return s.size() >= 22 && s.size() <= 256 && text::is_ice_chars(s);
}

// The first Opus/48000/2 payload type in the offer's preference order (RFC 7587 section 7).
std::optional<std::uint8_t> find_opus(const MediaSection& m) {
  for (const auto& f : m.formats) {
    const auto pt = text::number<std::uint8_t>(f, 127);
    if (!pt) continue;
    const RtpMap* map = m.rtpmap(*pt);
    if (map && text::iequals(map->encoding, "opus") && map->clock_rate == 48000 &&
        map->channels.value_or(1) == 2) {
      return pt;
    }
  }
  return std::nullopt;
}

// webrtc-datachannel over SCTP: RFC 8841 form, or the legacy a=sctpmap form.
bool is_data_channel(const MediaSection& m) {
  if (m.kind != MediaKind::application) return false;
  if (m.proto == Proto::udp_dtls_sctp || m.proto == Proto::tcp_dtls_sctp) {
    return m.has_format(kDataChannel);
  }
  if (m.proto == Proto::dtls_sctp) {
    return std::any_of(m.sctpmaps.begin(), m.sctpmaps.end(),
                       [](const Sctpmap& s) { return s.app == kDataChannel; });
  }
  return false;
}

const Sctpmap* legacy_sctpmap(const MediaSection& m) {
  for (const auto& s : m.sctpmaps) {
    if (s.app == kDataChannel) return &s;
  }
  return nullptr;
}

enum class Verdict : std::uint8_t { audio, data, rejected };

struct Decision {
  Verdict verdict = Verdict::rejected;
  std::string reason;
  std::uint8_t opus = 0;
};

Decision decide(const SessionDescription& offer, const MediaSection& m, Role role, bool have_audio,
                bool have_data) {
  Decision d;
  if (m.port == 0 && !m.bundle_only) {
    d.reason = "disabled by the offerer (port 0)";
    return d;
  }
  if (m.kind == MediaKind::audio) {
    if (have_audio) {
      d.reason = "only one audio section is served";
      return d;
    }
    if (!is_rtp(m.proto)) {
      d.reason = "audio over '" + m.proto_text + "', not UDP/TLS/RTP/SAVPF";
      return d;
    }
    const auto opus = find_opus(m);
    if (!opus) {
      d.reason = "no Opus/48000/2 payload type";
      return d;
    }
    if (!m.rtcp_mux) {
      d.reason = "no a=rtcp-mux (RTP and RTCP must share the transport, RFC 8858)";
      return d;
    }
    const Direction dir = offer.effective_direction(m);
    if (role == Role::presenter && dir != Direction::sendonly && dir != Direction::sendrecv) {
      d.reason = "audio is " + std::string(to_string(dir)) + "; a presenter must send";
      return d;
    }
    if (role == Role::guest && dir != Direction::recvonly && dir != Direction::sendrecv) {
      d.reason = "audio is " + std::string(to_string(dir)) + "; a guest must receive";
      return d;
    }
    d.verdict = Verdict::audio;
    d.opus = *opus;
    return d;
  }
  if (m.kind == MediaKind::video) {
    d.reason = "video is not served";
    return d;
  }
  if (m.kind == MediaKind::application) {
    if (!is_data_channel(m)) {
      d.reason = "application section is not webrtc-datachannel over DTLS/SCTP";
      return d;
    }
    if (have_data) {
      d.reason = "only one data channel section is served";
      return d;
    }
    d.verdict = Verdict::data;
    return d;
  }
  d.reason = "media '" + m.media + "' is not served";
  return d;
}

Result<Ok> check_options(const AnswerOptions& o) {
  if (!valid_ufrag(o.ice_ufrag)) return fail("local ice-ufrag must be 4-256 ice-chars");
  if (!valid_pwd(o.ice_pwd)) return fail("local ice-pwd must be 22-256 ice-chars");
  if (o.setup_for_actpass != Setup::active && o.setup_for_actpass != Setup::passive) {
    return fail("local setup must be active or passive");
  }
  if (o.max_message_size < kMinLocalMaxMessageSize) {
    return fail("local max-message-size must be at least 262144");
  }
  if (o.sctp_port == 0) return fail("local sctp-port must not be 0");
  for (const auto& c : o.candidates) {
    if (!text::is_word(c.address) || !text::is_ice_chars(c.foundation) ||
        c.foundation.size() > 32 || c.component == 0) {
      return fail("bad local candidate");
    }
    for (const auto& [name, value] : c.extensions) {
      if (!text::is_token(name) || !text::is_word(value)) return fail("bad local candidate");
    }
  }
  for (const auto& uri : o.header_extensions) {
    if (!text::is_word(uri)) return fail("bad header extension URI");
  }
  if (o.role == Role::guest) {
    const auto& a = o.audio;
    if (a.ssrc == 0 || !text::is_word(a.cname)) {
      return fail("a guest answer needs the SFU's audio SSRC and cname");
    }
    if (!a.stream_id.empty() && (!text::is_word(a.stream_id) || !text::is_word(a.track_id))) {
      return fail("bad local msid");
    }
  }
  return Ok{};
}

// The offerer's SSRC for the section: the first of an ssrc-group, else the first a=ssrc.
std::optional<std::uint32_t> remote_ssrc(const MediaSection& m) {
  for (const auto& g : m.ssrc_groups) {
    if (!g.ssrcs.empty()) return g.ssrcs.front();
  }
  if (!m.ssrcs.empty()) return m.ssrcs.front().ssrc;
  return std::nullopt;
}

bool offers_feedback(const MediaSection& m, int pt, std::string_view type) {
  return std::any_of(m.rtcp_fbs.begin(), m.rtcp_fbs.end(), [&](const RtcpFb& fb) {
    return (fb.payload_type == pt || fb.payload_type == RtcpFb::kAnyPayload) && fb.type == type &&
           fb.parameters.empty();
  });
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Transport attributes shared by every accepted section of the answer (as Chromium writes them).
void add_transport(MediaSection& m, const AnswerOptions& o, Setup local_setup) {
  if (!o.candidates.empty()) {
    const Candidate& def = o.candidates.front();
    m.port = def.port;
    const bool v6 = def.address.find(':') != std::string::npos;
    m.connection = Connection{"IN", v6 ? "IP6" : "IP4", def.address};
  } else {
    m.port = 9;  // RFC 8840 section 4.1.1: the discard port while no candidate is known
    m.connection = Connection{};
  }
  m.ice_ufrag = o.ice_ufrag;
  m.ice_pwd = o.ice_pwd;
  if (o.trickle) m.ice_options = {"trickle"};
  m.fingerprints = {
      Fingerprint{"sha-256", {o.fingerprint_sha256.begin(), o.fingerprint_sha256.end()}}};
  m.setup = local_setup;
  m.candidates = o.candidates;
  m.end_of_candidates = true;  // ICE-lite: every candidate is known up front
}

MediaSection rejected_section(const MediaSection& offered) {
  MediaSection m;
  m.kind = offered.kind;
  m.media = offered.media;
  m.port = 0;  // RFC 3264 section 6
  m.proto = offered.proto;
  m.proto_text = offered.proto_text;
  m.formats = {offered.formats.empty() ? std::string("0") : offered.formats.front()};
  m.connection = Connection{};
  m.mid = offered.mid;
  m.direction = Direction::inactive;
  return m;
}

}  // namespace

Candidate host_candidate(std::string address, std::uint16_t port, CandidateTransport transport,
                         std::uint16_t local_preference) {
  Candidate c;
  c.foundation = std::to_string(fnv1a(std::string(to_string(transport)) + ' ' + address));
  c.component = 1;
  c.transport = transport;
  c.address = std::move(address);
  c.port = port;
  c.type = CandidateType::host;
  // RFC 8445 section 5.1.2.1: (2^24)*type preference + (2^8)*local preference + (256 - component).
  // Host type preference 126 for UDP; 90 for TCP so that UDP is preferred (RFC 6544 section 4.2),
  // whose local preference puts the direction (passive: 4) in the top 3 bits.
  std::uint32_t type_preference = 126;
  std::uint32_t local = local_preference;
  if (transport == CandidateTransport::tcp) {
    type_preference = 90;
    local = (4u << 13) | (local_preference & 0x1FFFu);
    c.tcptype = TcpType::passive;
  }
  c.priority = (type_preference << 24) | (local << 8) | (256u - c.component);
  return c;
}

Result<Negotiation> negotiate(const SessionDescription& offer, const AnswerOptions& options) {
  if (auto checked = check_options(options); !checked) return fail(checked.error());

  // Mids identify sections in BUNDLE groups and answers: they must be unique (RFC 5888 5).
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    if (!offer.media[i].mid) continue;
    for (std::size_t j = i + 1; j < offer.media.size(); ++j) {
      if (offer.media[j].mid == offer.media[i].mid) {
        return fail("not BUNDLE-able: mid '" + *offer.media[i].mid + "' is used twice");
      }
    }
  }

  Negotiation n;
  std::vector<Decision> decisions;
  std::optional<std::size_t> audio_index;
  std::optional<std::size_t> data_index;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    Decision d = decide(offer, offer.media[i], options.role, audio_index.has_value(),
                        data_index.has_value());
    if (d.verdict == Verdict::audio) audio_index = i;
    if (d.verdict == Verdict::data) data_index = i;
    decisions.push_back(std::move(d));
  }
  if (!audio_index && !data_index) {
    std::string reason = "no acceptable m-section";
    if (offer.media.empty()) reason += ": the offer has none";
    for (std::size_t i = 0; i < offer.media.size(); ++i) {
      reason += (i == 0 ? ": " : "; ") + describe(offer.media[i], i) + ": " + decisions[i].reason;
    }
    return fail(reason);
  }

  // Accepted sections in offer order.
  std::vector<std::size_t> accepted;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    if (decisions[i].verdict != Verdict::rejected) accepted.push_back(i);
  }
  for (std::size_t i : accepted) {
    if (!offer.media[i].mid) {
      return fail("not BUNDLE-able: " + describe(offer.media[i], i) + " has no a=mid");
    }
  }
  // The offered BUNDLE group holding the first accepted mid (RFC 8843 section 7.3).
  const Group* group = nullptr;
  for (const auto& g : offer.groups) {
    if (g.semantics == "BUNDLE" && contains(g.mids, *offer.media[accepted.front()].mid)) {
      group = &g;
      break;
    }
  }
  if (group) {
    for (const auto& mid : group->mids) {
      if (!offer.find_mid(mid)) {
        return fail("not BUNDLE-able: a=group:BUNDLE names mid '" + mid +
                    "', which no m-section has");
      }
    }
    for (const auto& mid : group->mids) {
      for (std::size_t i : accepted) {
        if (*offer.media[i].mid == mid) n.bundle.push_back(mid);
      }
    }
  }
  if (accepted.size() > 1 && n.bundle.size() != accepted.size()) {
    return fail("not BUNDLE-able: the accepted mids " + *offer.media[accepted[0]].mid + " and " +
                *offer.media[accepted[1]].mid + " are not in one a=group:BUNDLE");
  }
  const std::string tag_mid = n.bundle.empty() ? *offer.media[accepted.front()].mid : n.bundle[0];
  const MediaSection& tag = *offer.find_mid(tag_mid);

  // The remote transport: ICE (RFC 8839), DTLS fingerprint (RFC 8122) and role (RFC 4145).
  RemoteTransport& remote = n.remote;
  remote.mid = tag_mid;
  const auto& ufrag = offer.effective_ice_ufrag(tag);
  const auto& pwd = offer.effective_ice_pwd(tag);
  if (!ufrag || !pwd) {
    return fail("no ICE credentials (a=ice-ufrag and a=ice-pwd) for mid " + tag_mid);
  }
  if (!valid_ufrag(*ufrag) || !valid_pwd(*pwd)) {
    return fail("bad ICE credentials for mid " + tag_mid +
                ": a=ice-ufrag needs 4-256 and a=ice-pwd 22-256 of ALPHA DIGIT + /");
  }
  remote.ice_ufrag = *ufrag;
  remote.ice_pwd = *pwd;
  const auto& fingerprints = offer.effective_fingerprints(tag);
  const auto sha256 = std::find_if(fingerprints.begin(), fingerprints.end(), [](const auto& f) {
    return f.algorithm == "sha-256" && f.bytes.size() == 32;
  });
  if (sha256 == fingerprints.end()) {
    std::string reason = "no sha-256 a=fingerprint for mid " + tag_mid;
    if (!fingerprints.empty()) reason += " (offered: " + fingerprints.front().algorithm + ")";
    return fail(reason);
  }
  remote.fingerprint = *sha256;
  remote.setup = offer.effective_setup(tag).value_or(Setup::active);
  switch (remote.setup) {
    case Setup::actpass:
      n.local_setup = options.setup_for_actpass;
      break;
    case Setup::active:
      n.local_setup = Setup::passive;
      break;
    case Setup::passive:
      n.local_setup = Setup::active;
      break;
    case Setup::holdconn:
      return fail("a=setup:holdconn: the offer asks for no DTLS connection");
  }
  remote.ice_lite = offer.ice_lite;
  if (remote.ice_lite && options.ice_lite) {
    return fail("the offerer is ICE-lite like the SFU; one side must run full ICE (RFC 8445)");
  }
  remote.trickle =
      contains(tag.ice_options.empty() ? offer.ice_options : tag.ice_options, "trickle");
  // Component 1 only: with rtcp-mux there is no RTCP component (RFC 5761 section 5.1.3).
  for (const auto& c : tag.candidates) {
    if (c.component == 1) remote.candidates.push_back(c);
  }
  remote.end_of_candidates = tag.end_of_candidates;

  // The answer: one section per offered section, in order (RFC 3264 section 6).
  SessionDescription& a = n.answer;
  const std::uint64_t session_id =
      options.session_id != 0 ? options.session_id : fnv1a(options.ice_ufrag) | 1u;
  a.origin = Origin{"-", std::to_string(session_id), "1", "IN", "IP4", "0.0.0.0"};
  a.session_name = "-";
  a.timing = {"0 0"};
  if (!n.bundle.empty()) a.groups.push_back(Group{"BUNDLE", n.bundle});
  a.ice_lite = options.ice_lite;

  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const MediaSection& offered = offer.media[i];
    const Decision& d = decisions[i];
    if (d.verdict == Verdict::rejected) {
      a.media.push_back(rejected_section(offered));
      n.rejected.push_back({i, offered.mid.value_or(""), d.reason});
      continue;
    }
    MediaSection m;
    m.kind = offered.kind;
    m.media = offered.media;
    m.proto = offered.proto;
    m.proto_text = offered.proto_text;
    m.mid = offered.mid;
    add_transport(m, options, n.local_setup);

    if (d.verdict == Verdict::audio) {
      NegotiatedAudio audio;
      audio.mid = *offered.mid;
      audio.payload_type = d.opus;
      audio.remote_direction = offer.effective_direction(offered);
      audio.local_direction =
          options.role == Role::presenter ? Direction::recvonly : Direction::sendonly;
      audio.rtcp_rsize = offered.rtcp_rsize;
      audio.remote_ssrc = remote_ssrc(offered);
      m.formats = {std::to_string(d.opus)};
      m.direction = audio.local_direction;
      m.rtcp_mux = true;
      m.rtcp_rsize = offered.rtcp_rsize;
      // RFC 8285 section 7: keep the offered id; answer the reverse of an offered direction.
      for (const auto& ext : offered.extmaps) {
        if (!contains(options.header_extensions, ext.uri) || ext.id > 14) continue;
        // One id per URI and one URI per id, even if the offer breaks that (RFC 8285 section 5).
        const bool id_taken = std::any_of(m.extmaps.begin(), m.extmaps.end(),
                                          [&](const Extmap& e) { return e.id == ext.id; });
        if (id_taken || m.extmap(ext.uri)) continue;
        Extmap answered{ext.id, std::nullopt, ext.uri, ""};
        if (ext.direction) answered.direction = reverse(*ext.direction);
        m.extmaps.push_back(answered);
        const auto id = static_cast<std::uint8_t>(ext.id);
        if (ext.uri == kAudioLevelUri) audio.audio_level_id = id;
        if (ext.uri == kTransportCcUri) audio.transport_cc_id = id;
      }
      m.rtpmaps.push_back(*offered.rtpmap(d.opus));
      if (audio.transport_cc_id && offers_feedback(offered, d.opus, "transport-cc")) {
        m.rtcp_fbs.push_back(RtcpFb{d.opus, "transport-cc", ""});
        audio.transport_cc_feedback = true;
      }
      if (const Fmtp* fmtp = offered.fmtp(d.opus)) {
        m.fmtps.push_back(*fmtp);
        audio.fmtp = fmtp->text;
      }
      if (options.role == Role::guest) {
        const LocalAudioStream& s = options.audio;
        m.ssrcs.push_back({s.ssrc, "cname", s.cname});
        if (!s.stream_id.empty()) {
          m.msids.push_back({s.stream_id, s.track_id});
          m.ssrcs.push_back({s.ssrc, "msid", s.stream_id + ' ' + s.track_id});
        }
      }
      n.audio = std::move(audio);
    } else {
      NegotiatedData data;
      data.mid = *offered.mid;
      data.local_sctp_port = options.sctp_port;
      data.local_max_message_size = options.max_message_size;
      data.remote_max_message_size =
          offered.max_message_size.value_or(kDefaultRemoteMaxMessageSize);
      if (offered.proto == Proto::dtls_sctp) {
        // draft-ietf-mmusic-sctp-sdp-05: the SCTP port is the format and the a=sctpmap number.
        const Sctpmap* map = legacy_sctpmap(offered);
        data.legacy_sctpmap = true;
        data.remote_sctp_port = map->port;
        m.formats = {std::to_string(options.sctp_port)};
        m.sctpmaps.push_back(Sctpmap{options.sctp_port, std::string(kDataChannel),
                                     map->streams.value_or(kLegacySctpStreams)});
      } else {
        data.remote_sctp_port = offered.sctp_port.value_or(kDefaultSctpPort);
        m.formats = {std::string(kDataChannel)};
        m.sctp_port = options.sctp_port;
      }
      m.max_message_size = options.max_message_size;
      n.data = std::move(data);
    }
    a.media.push_back(std::move(m));
  }
  return n;
}

Result<SessionDescription> build_answer(const SessionDescription& offer,
                                        const AnswerOptions& options) {
  auto n = negotiate(offer, options);
  if (!n) return fail(n.error());
  return std::move(n->answer);
}

}  // namespace podium::sfu::sdp
