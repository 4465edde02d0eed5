#include "net/five_tuple.hpp"

namespace podium::relay {

const char* to_string(ClientTransport transport) {
  switch (transport) {
    case ClientTransport::udp:
      return "udp";
    case ClientTransport::tcp:
      return "tcp";
    case ClientTransport::tls:
      return "tls";
    case ClientTransport::dtls:
      return "dtls";
  }
  return "udp";
}

}  // namespace podium::relay
