// Socket options every worker's listening sockets share.
#pragma once

#include <boost/asio/ip/udp.hpp>

#include "podium/config/config.hpp"

namespace podium::relay {

// SO_REUSEPORT: every worker binds the same address and the kernel spreads clients over them by
// 5-tuple hash. (Also lets an RFC 6062 Connect bind its relayed address next to the listener.)
void set_reuseport(int fd);

// Opens `socket` for a UDP listener (udp://, dtls://): SO_REUSEPORT, IPV6_V6ONLY on an IPv6
// address, `buffer_bytes` of receive and send buffer, bound and non-blocking. Returns the bound
// endpoint. Throws boost::system::system_error (start-up).
boost::asio::ip::udp::endpoint bind_udp_listener(boost::asio::ip::udp::socket& socket,
                                                 const config::Endpoint& endpoint,
                                                 int buffer_bytes);

}  // namespace podium::relay
