#include "net/listen_socket.hpp"

#include <sys/socket.h>

#include <boost/asio/ip/v6_only.hpp>

namespace podium::relay {

namespace asio = boost::asio;
using udp = asio::ip::udp;

void set_reuseport(int fd) {
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
}

udp::endpoint bind_udp_listener(udp::socket& socket, const config::Endpoint& endpoint,
                                int buffer_bytes) {
  udp::endpoint ep(endpoint.address, endpoint.port);
  socket.open(ep.protocol());
  set_reuseport(socket.native_handle());
  if (ep.address().is_v6()) socket.set_option(asio::ip::v6_only(true));
  socket.set_option(asio::socket_base::receive_buffer_size(buffer_bytes));
  socket.set_option(asio::socket_base::send_buffer_size(buffer_bytes));
  socket.bind(ep);
  socket.non_blocking(true);
  return socket.local_endpoint();
}

}  // namespace podium::relay
