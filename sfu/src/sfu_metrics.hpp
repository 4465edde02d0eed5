// The SFU's Prometheus metrics. Packet-path counters live in the media worker as plain integers
// (WorkerCounters) and are added to the registry's families once a second, together with the
// gauges recomputed from the session table: live without a lock or atomic per packet. No label
// carries a room or session name (bounded cardinality).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "dtls/dtls_transport.hpp"
#include "session/session.hpp"
#include "slides/data_counters.hpp"
#include "slides/data_metrics.hpp"
#include "transport/ice_tcp_counters.hpp"

namespace podium::sfu {

enum class Drop : std::uint8_t {
  unknown_source,  // DTLS/RTP/RTCP from an address no valid ICE check came from
  unknown_ufrag,   // a Binding request for no session
  malformed,       // not STUN/DTLS/RTP by RFC 7983, or an unparseable packet
  not_ready,       // media before DTLS-SRTP keys
  truncated,       // larger than the receive buffer
  unexpected,      // media the session's role does not receive (e.g. RTP from a guest)
  count
};
const char* to_string(Drop drop);

enum class SrtpError : std::uint8_t { rtp_unprotect, rtcp_unprotect, protect, count };
const char* to_string(SrtpError error);

// RFC 7983 kinds of datagrams received.
enum class Demux : std::uint8_t { stun, dtls, rtp, rtcp, other, count };

// Forwarding latency buckets (seconds): received by recvmmsg → handed to the kernel for the last
// guest of the room.
inline const std::vector<double>& latency_buckets() {
  static const std::vector<double> buckets = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                              0.0005,  0.001,    0.0025,  0.005,  0.01,
                                              0.025,   0.05,     0.1};
  return buckets;
}

struct WorkerCounters {
  std::array<std::uint64_t, static_cast<std::size_t>(Demux::count)> datagrams_in{};
  std::uint64_t rtp_packets_in = 0, rtp_bytes_in = 0;
  std::uint64_t rtp_packets_out = 0, rtp_bytes_out = 0;
  std::uint64_t rtcp_packets_in = 0, rtcp_packets_out = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t consent_expiries = 0;
  std::array<std::uint64_t, 3> ice_checks{};  // accepted, rejected (400/401), ignored
  std::array<std::uint64_t, static_cast<std::size_t>(Drop::count)> drops{};
  std::array<std::uint64_t, static_cast<std::size_t>(SrtpError::count)> srtp_errors{};
  std::array<std::uint64_t, static_cast<std::size_t>(dtls::FailureReason::count)> dtls_failures{};
  std::array<std::uint64_t, static_cast<std::size_t>(CloseReason::count)> sessions_closed{};
  std::array<std::uint64_t, 2> sessions_created{};  // presenter, guest
  std::uint64_t dtls_handshakes = 0;
  // Latency histogram: counts per bucket (plus +Inf) and the sum, flushed with ObserveMultiple.
  std::vector<double> latency_counts = std::vector<double>(latency_buckets().size() + 1, 0.0);
  double latency_sum = 0;
  bool latency_any = false;
  slides::DataCounters data;
  TcpCounters tcp;  // ICE-TCP (RFC 6544), with sfu.tcp_port

  void observe_latency(double seconds);
};

// Gauges recomputed each flush from the worker's tables.
struct WorkerGauges {
  std::size_t rooms = 0;
  std::size_t presenters = 0;
  std::size_t guests = 0;
  std::size_t speaking = 0;
  std::size_t slides_stored = 0;
  std::uint64_t slide_bytes = 0;
  // [ice connected?][dtls state]
  std::array<std::array<std::size_t, 5>, 2> sessions{};
  std::size_t tcp_pending = 0;  // ICE-TCP connections waiting for their first check
  std::size_t tcp_bound = 0;    // ICE-TCP connections bound to a session
};

class SfuMetrics {
 public:
  explicit SfuMetrics(prometheus::Registry& registry);
  // Adds `counters` to the families and zeroes them; sets the gauges.
  void flush(WorkerCounters& counters, const WorkerGauges& gauges);

 private:
  prometheus::Gauge& rooms_;
  prometheus::Gauge& presenters_;
  prometheus::Gauge& guests_;
  prometheus::Gauge& speaking_;
  prometheus::Family<prometheus::Gauge>& sessions_family_;
  std::array<std::array<prometheus::Gauge*, 5>, 2> sessions_{};
  prometheus::Family<prometheus::Counter>& datagrams_family_;
  std::array<prometheus::Counter*, static_cast<std::size_t>(Demux::count)> datagrams_{};
  prometheus::Family<prometheus::Counter>& rtp_packets_;
  prometheus::Counter& rtp_packets_in_;
  prometheus::Counter& rtp_packets_out_;
  prometheus::Family<prometheus::Counter>& rtp_bytes_;
  prometheus::Counter& rtp_bytes_in_;
  prometheus::Counter& rtp_bytes_out_;
  prometheus::Family<prometheus::Counter>& rtcp_packets_;
  prometheus::Counter& rtcp_in_;
  prometheus::Counter& rtcp_out_;
  prometheus::Counter& send_errors_;
  prometheus::Counter& consent_expiries_;
  prometheus::Counter& dtls_handshakes_;
  prometheus::Family<prometheus::Counter>& ice_checks_family_;
  std::array<prometheus::Counter*, 3> ice_checks_{};
  prometheus::Family<prometheus::Counter>& drops_family_;
  std::array<prometheus::Counter*, static_cast<std::size_t>(Drop::count)> drops_{};
  prometheus::Family<prometheus::Counter>& srtp_family_;
  std::array<prometheus::Counter*, static_cast<std::size_t>(SrtpError::count)> srtp_errors_{};
  prometheus::Family<prometheus::Counter>& dtls_family_;
  std::array<prometheus::Counter*, static_cast<std::size_t>(dtls::FailureReason::count)>
      dtls_failures_{};
  prometheus::Family<prometheus::Counter>& closed_family_;
  std::array<prometheus::Counter*, static_cast<std::size_t>(CloseReason::count)> closed_{};
  prometheus::Family<prometheus::Counter>& created_family_;
  std::array<prometheus::Counter*, 2> created_{};
  prometheus::Histogram& latency_;
  prometheus::Family<prometheus::Counter>& tcp_connections_family_;
  prometheus::Counter& tcp_accepted_;
  prometheus::Counter& tcp_refused_;
  prometheus::Family<prometheus::Counter>& tcp_closed_family_;
  std::array<prometheus::Counter*, static_cast<std::size_t>(TcpClose::count)> tcp_closed_{};
  prometheus::Family<prometheus::Gauge>& tcp_open_family_;
  prometheus::Gauge& tcp_pending_;
  prometheus::Gauge& tcp_bound_;
  prometheus::Family<prometheus::Counter>& tcp_frames_family_;
  prometheus::Counter& tcp_frames_in_;
  prometheus::Counter& tcp_frames_out_;
  prometheus::Counter& tcp_frames_dropped_;
  slides::DataMetrics data_;
};

}  // namespace podium::sfu
