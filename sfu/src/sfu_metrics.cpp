#include "sfu_metrics.hpp"

#include <algorithm>

namespace podium::sfu {

const char* to_string(Drop drop) {
  switch (drop) {
    case Drop::unknown_source:
      return "unknown_source";
    case Drop::unknown_ufrag:
      return "unknown_ufrag";
    case Drop::malformed:
      return "malformed";
    case Drop::not_ready:
      return "not_ready";
    case Drop::truncated:
      return "truncated";
    case Drop::unexpected:
      return "unexpected";
    case Drop::count:
      break;
  }
  return "unknown";
}

const char* to_string(SrtpError error) {
  switch (error) {
    case SrtpError::rtp_unprotect:
      return "rtp_unprotect";
    case SrtpError::rtcp_unprotect:
      return "rtcp_unprotect";
    case SrtpError::protect:
      return "protect";
    case SrtpError::count:
      break;
  }
  return "unknown";
}

void WorkerCounters::observe_latency(double seconds) {
  const auto& bounds = latency_buckets();
  const auto it = std::lower_bound(bounds.begin(), bounds.end(), seconds);
  latency_counts[static_cast<std::size_t>(it - bounds.begin())] += 1;
  latency_sum += seconds;
  latency_any = true;
}

namespace {

prometheus::Family<prometheus::Counter>& counter_family(prometheus::Registry& registry,
                                                        const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}
prometheus::Family<prometheus::Gauge>& gauge_family(prometheus::Registry& registry,
                                                    const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

void add(prometheus::Counter* counter, std::uint64_t& value) {
  if (value) counter->Increment(static_cast<double>(value));
  value = 0;
}

}  // namespace

SfuMetrics::SfuMetrics(prometheus::Registry& registry)
    : rooms_(
          gauge_family(registry, "podium_sfu_rooms", "Rooms with at least one session.").Add({})),
      presenters_(gauge_family(registry, "podium_sfu_presenters",
                               "Presenter (WHIP) sessions, one per room at most.")
                      .Add({})),
      guests_(gauge_family(registry, "podium_sfu_guests", "Guest (WHEP) sessions.").Add({})),
      speaking_(gauge_family(registry, "podium_sfu_presenters_speaking",
                             "Presenters whose audio level (RFC 6464) says they are speaking.")
                    .Add({})),
      sessions_family_(gauge_family(registry, "podium_sfu_sessions",
                                    "Sessions by ICE state (checking, connected) and DTLS state.")),
      datagrams_family_(counter_family(registry, "podium_sfu_datagrams_received_total",
                                       "Datagrams on the SFU port by RFC 7983 kind.")),
      rtp_packets_(counter_family(registry, "podium_sfu_rtp_packets_total",
                                  "RTP packets received from presenters (in) and sent to guests "
                                  "(out).")),
      rtp_packets_in_(rtp_packets_.Add({{"direction", "in"}})),
      rtp_packets_out_(rtp_packets_.Add({{"direction", "out"}})),
      rtp_bytes_(counter_family(registry, "podium_sfu_rtp_bytes_total",
                                "SRTP bytes received from presenters and sent to guests.")),
      rtp_bytes_in_(rtp_bytes_.Add({{"direction", "in"}})),
      rtp_bytes_out_(rtp_bytes_.Add({{"direction", "out"}})),
      rtcp_packets_(counter_family(registry, "podium_sfu_rtcp_packets_total",
                                   "Compound RTCP packets received and sent.")),
      rtcp_in_(rtcp_packets_.Add({{"direction", "in"}})),
      rtcp_out_(rtcp_packets_.Add({{"direction", "out"}})),
      send_errors_(counter_family(registry, "podium_sfu_send_errors_total",
                                  "Datagrams the kernel refused to send.")
                       .Add({})),
      consent_expiries_(counter_family(registry, "podium_sfu_consent_expiries_total",
                                       "Sessions closed because ICE consent expired (RFC 7675).")
                            .Add({})),
      dtls_handshakes_(counter_family(registry, "podium_sfu_dtls_handshakes_total",
                                      "DTLS-SRTP handshakes completed.")
                           .Add({})),
      ice_checks_family_(counter_family(registry, "podium_sfu_ice_checks_total",
                                        "ICE connectivity checks by result.")),
      drops_family_(counter_family(registry, "podium_sfu_dropped_datagrams_total",
                                   "Datagrams dropped by the SFU, by reason.")),
      srtp_family_(counter_family(registry, "podium_sfu_srtp_errors_total",
                                  "SRTP/SRTCP packets that failed to (un)protect.")),
      dtls_family_(counter_family(registry, "podium_sfu_dtls_handshake_failures_total",
                                  "DTLS handshakes that failed, by reason.")),
      closed_family_(counter_family(registry, "podium_sfu_sessions_closed_total",
                                    "Sessions ended, by reason.")),
      created_family_(counter_family(registry, "podium_sfu_sessions_created_total",
                                     "Sessions created from WHIP (presenter) and WHEP (guest).")),
      latency_(prometheus::BuildHistogram()
                   .Name("podium_sfu_forwarding_latency_seconds")
                   .Help("From receiving a presenter packet to handing its copy for the room's "
                         "last guest to the kernel.")
                   .Register(registry)
                   .Add({}, latency_buckets())),
      tcp_connections_family_(counter_family(
          registry, "podium_sfu_tcp_connections_total",
          "ICE-TCP (RFC 6544) connections to sfu.tcp_port: accepted, or refused over the limits.")),
      tcp_accepted_(tcp_connections_family_.Add({{"result", "accepted"}})),
      tcp_refused_(tcp_connections_family_.Add({{"result", "refused"}})),
      tcp_closed_family_(counter_family(registry, "podium_sfu_tcp_connections_closed_total",
                                        "ICE-TCP connections closed, by reason.")),
      tcp_open_family_(gauge_family(registry, "podium_sfu_tcp_connections",
                                    "Open ICE-TCP connections: pending (no accepted check yet) "
                                    "and bound to a session.")),
      tcp_pending_(tcp_open_family_.Add({{"state", "pending"}})),
      tcp_bound_(tcp_open_family_.Add({{"state", "bound"}})),
      tcp_frames_family_(counter_family(registry, "podium_sfu_tcp_frames_total",
                                        "RFC 4571 frames received on and queued to ICE-TCP "
                                        "connections.")),
      tcp_frames_in_(tcp_frames_family_.Add({{"direction", "in"}})),
      tcp_frames_out_(tcp_frames_family_.Add({{"direction", "out"}})),
      tcp_frames_dropped_(counter_family(registry, "podium_sfu_tcp_frames_dropped_total",
                                         "Packets for an ICE-TCP connection dropped because its "
                                         "write queue was full.")
                              .Add({})),
      data_(registry) {
  for (std::size_t i = 0; i < tcp_closed_.size(); ++i) {
    tcp_closed_[i] = &tcp_closed_family_.Add({{"reason", to_string(static_cast<TcpClose>(i))}});
  }
  static const char* ice_states[] = {"checking", "connected"};
  static const char* dtls_states[] = {"new", "connecting", "connected", "failed", "closed"};
  for (std::size_t i = 0; i < 2; ++i) {
    for (std::size_t d = 0; d < 5; ++d) {
      sessions_[i][d] = &sessions_family_.Add({{"ice", ice_states[i]}, {"dtls", dtls_states[d]}});
    }
  }
  static const char* kinds[] = {"stun", "dtls", "rtp", "rtcp", "other"};
  for (std::size_t i = 0; i < datagrams_.size(); ++i) {
    datagrams_[i] = &datagrams_family_.Add({{"kind", kinds[i]}});
  }
  static const char* results[] = {"accepted", "rejected", "ignored"};
  for (std::size_t i = 0; i < 3; ++i)
    ice_checks_[i] = &ice_checks_family_.Add({{"result", results[i]}});
  for (std::size_t i = 0; i < drops_.size(); ++i) {
    drops_[i] = &drops_family_.Add({{"reason", to_string(static_cast<Drop>(i))}});
  }
  for (std::size_t i = 0; i < srtp_errors_.size(); ++i) {
    srtp_errors_[i] = &srtp_family_.Add({{"kind", to_string(static_cast<SrtpError>(i))}});
  }
  for (std::size_t i = 1; i < dtls_failures_.size(); ++i) {
    const auto reason = static_cast<dtls::FailureReason>(i);
    if (reason == dtls::FailureReason::closed_by_peer) continue;  // not a handshake failure
    dtls_failures_[i] = &dtls_family_.Add({{"reason", dtls::to_string(reason)}});
  }
  for (std::size_t i = 1; i < closed_.size(); ++i) {
    closed_[i] = &closed_family_.Add({{"reason", to_string(static_cast<CloseReason>(i))}});
  }
  created_[0] = &created_family_.Add({{"role", "presenter"}});
  created_[1] = &created_family_.Add({{"role", "guest"}});
}

void SfuMetrics::flush(WorkerCounters& c, const WorkerGauges& g) {
  for (std::size_t i = 0; i < datagrams_.size(); ++i) add(datagrams_[i], c.datagrams_in[i]);
  add(&rtp_packets_in_, c.rtp_packets_in);
  add(&rtp_bytes_in_, c.rtp_bytes_in);
  add(&rtp_packets_out_, c.rtp_packets_out);
  add(&rtp_bytes_out_, c.rtp_bytes_out);
  add(&rtcp_in_, c.rtcp_packets_in);
  add(&rtcp_out_, c.rtcp_packets_out);
  add(&send_errors_, c.send_errors);
  add(&consent_expiries_, c.consent_expiries);
  add(&dtls_handshakes_, c.dtls_handshakes);
  for (std::size_t i = 0; i < 3; ++i) add(ice_checks_[i], c.ice_checks[i]);
  for (std::size_t i = 0; i < drops_.size(); ++i) add(drops_[i], c.drops[i]);
  for (std::size_t i = 0; i < srtp_errors_.size(); ++i) add(srtp_errors_[i], c.srtp_errors[i]);
  for (std::size_t i = 0; i < dtls_failures_.size(); ++i) {
    if (dtls_failures_[i]) add(dtls_failures_[i], c.dtls_failures[i]);
    c.dtls_failures[i] = 0;
  }
  for (std::size_t i = 0; i < closed_.size(); ++i) {
    if (closed_[i]) add(closed_[i], c.sessions_closed[i]);
    c.sessions_closed[i] = 0;
  }
  for (std::size_t i = 0; i < 2; ++i) add(created_[i], c.sessions_created[i]);
  if (c.latency_any) {
    latency_.ObserveMultiple(c.latency_counts, c.latency_sum);
    std::fill(c.latency_counts.begin(), c.latency_counts.end(), 0.0);
    c.latency_sum = 0;
    c.latency_any = false;
  }
  add(&tcp_accepted_, c.tcp.accepted);
  add(&tcp_refused_, c.tcp.refused);
  for (std::size_t i = 0; i < tcp_closed_.size(); ++i) add(tcp_closed_[i], c.tcp.closed[i]);
  add(&tcp_frames_in_, c.tcp.frames_in);
  add(&tcp_frames_out_, c.tcp.frames_out);
  add(&tcp_frames_dropped_, c.tcp.frames_dropped);
  tcp_pending_.Set(static_cast<double>(g.tcp_pending));
  tcp_bound_.Set(static_cast<double>(g.tcp_bound));
  data_.flush(c.data, g.slides_stored, g.slide_bytes);
  rooms_.Set(static_cast<double>(g.rooms));
  presenters_.Set(static_cast<double>(g.presenters));
  guests_.Set(static_cast<double>(g.guests));
  speaking_.Set(static_cast<double>(g.speaking));
  for (std::size_t i = 0; i < 2; ++i) {
    for (std::size_t d = 0; d < 5; ++d) sessions_[i][d]->Set(static_cast<double>(g.sessions[i][d]));
  }
}

}  // namespace podium::sfu
