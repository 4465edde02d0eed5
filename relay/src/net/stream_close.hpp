// Why a TCP/TLS client connection of the relay ended (a label of
// podium_relay_connections_closed_total).
#pragma once

#include <cstdint>

namespace podium::relay {

// Why the relay closed a TCP/TLS client connection (podium_relay_connections_closed_total).
enum class StreamClose : std::uint8_t {
  peer_closed,           // the client closed it (or reset it)
  framing_error,         // neither STUN nor ChannelData: the stream cannot be resynchronised
  frame_too_large,       // a frame longer than the read buffer
  tls_handshake_failed,  // tls://: not TLS, or the handshake failed
  idle_timeout,          // no complete frame and no allocation for the idle timeout
  write_error,
  proxy_protocol_error,    // relay.proxy_protocol: no valid PROXY v2 header first, or its 5-tuple
                           // is already in use on this worker
  terminated,              // the admin API ended the allocation it carried
  peer_connection_closed,  // RFC 6062 client data connection: its peer connection ended
  shutdown,                // the relay stopped
  count
};
const char* to_string(StreamClose reason);

}  // namespace podium::relay
