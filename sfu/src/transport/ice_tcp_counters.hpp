// Counters of the SFU's ICE-TCP listener (RFC 6544), kept as plain integers on the media thread
// and flushed with the other worker counters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace podium::sfu {

// Why an ICE-TCP connection ended; metric-safe labels.
enum class TcpClose : std::uint8_t {
  peer_closed,     // FIN or RST from the peer
  error,           // a socket error reading or writing
  framing,         // an RFC 4571 frame of length 0 or above the SFU's largest packet
  not_a_check,     // the first frame was not a Binding request the SFU accepted for a session
  first_timeout,   // no first frame within kFirstFrameTimeout of the accept
  idle_timeout,    // bound, but no frame for sfu.consent_timeout
  session_closed,  // the session it was bound to ended
  session_limit,   // its first check named a session with max_per_session connections already
  shutdown,
  count
};
const char* to_string(TcpClose reason);

struct TcpCounters {
  std::uint64_t accepted = 0;
  // Over the connection limits (all connections, unbound ones, unbound ones from the source
  // address): closed right after the accept.
  std::uint64_t refused = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(TcpClose::count)> closed{};
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  // The connection's write queue was full, or no open connection has the packet's descriptor
  // (a stale path), or bytes still queued when a connection closed.
  std::uint64_t frames_dropped = 0;
};

}  // namespace podium::sfu
