// RFC 8016 mobility tickets (turn/mobility.hpp) and the dual-stack allocation's choice of
// relayed socket (turn/allocation.hpp).
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "turn/allocation.hpp"
#include "turn/mobility.hpp"

namespace podium::relay {
namespace {

FiveTuple tuple(std::uint16_t port) {
  return FiveTuple{SocketAddress::from(boost::asio::ip::make_address("192.0.2.1"), port),
                   SocketAddress::from(boost::asio::ip::make_address("198.51.100.1"), 3478),
                   ClientTransport::udp};
}

TEST(MobilityTickets, IssuedTicketsAreDistinctPrintableAndFound) {
  prometheus::Registry registry;
  MobilityTickets tickets(registry);
  std::set<std::string> seen;
  for (std::uint16_t i = 0; i < 200; ++i) {
    const auto ticket = tickets.issue(i % 3, tuple(static_cast<std::uint16_t>(1000 + i)));
    EXPECT_EQ(ticket.size(), 24u);
    // coturn's clients keep the ticket as a C string: no zero (or other control) byte.
    for (char c : ticket) EXPECT_TRUE(c >= 0x21 && c <= 0x7e) << ticket;
    EXPECT_TRUE(seen.insert(ticket).second);
    const auto holder = tickets.find(ticket);
    ASSERT_TRUE(holder);
    EXPECT_EQ(holder->worker, i % 3u);
    EXPECT_EQ(holder->tuple, tuple(static_cast<std::uint16_t>(1000 + i)));
  }
  EXPECT_FALSE(tickets.find(""));
  EXPECT_FALSE(tickets.find(std::string(24, 'A')));
}

TEST(MobilityTickets, ReissueRetiresTheOldTicket) {
  prometheus::Registry registry;
  MobilityTickets tickets(registry);
  const auto first = tickets.issue(0, tuple(1000));
  const auto second = tickets.reissue(first, 1, tuple(2000));
  EXPECT_NE(first, second);
  EXPECT_FALSE(tickets.find(first));
  ASSERT_TRUE(tickets.find(second));
  EXPECT_EQ(tickets.find(second)->worker, 1u);
  EXPECT_EQ(tickets.find(second)->tuple, tuple(2000));
  tickets.erase(second);
  EXPECT_FALSE(tickets.find(second));
}

TEST(DualStackAllocation, EachFamilyHasItsSocket) {
  boost::asio::io_context io;
  Allocation allocation(io);
  allocation.relay_socket.open(boost::asio::ip::udp::v4());
  allocation.relay_socket.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
  allocation.relayed_address = SocketAddress::from(boost::asio::ip::make_address("127.0.0.1"),
                                                   allocation.relay_socket.local_endpoint().port());
  EXPECT_TRUE(allocation.serves(false));
  EXPECT_FALSE(allocation.serves(true));

  boost::system::error_code ec;
  allocation.additional_socket.open(boost::asio::ip::udp::v6(), ec);
  allocation.additional_socket.bind({boost::asio::ip::make_address("::1"), 0}, ec);
  if (ec) GTEST_SKIP() << "no IPv6 on loopback: " << ec.message();
  allocation.additional_address = SocketAddress::from(
      boost::asio::ip::make_address("::1"), allocation.additional_socket.local_endpoint().port());
  EXPECT_TRUE(allocation.serves(false));
  EXPECT_TRUE(allocation.serves(true));
  EXPECT_EQ(&allocation.socket_for(false), &allocation.relay_socket);
  EXPECT_EQ(&allocation.socket_for(true), &allocation.additional_socket);

  // A Refresh deleting the IPv4 half (RFC 8656 section 7.3) leaves IPv6 peers only.
  allocation.relay_socket.close();
  EXPECT_FALSE(allocation.serves(false));
  EXPECT_TRUE(allocation.serves(true));
  EXPECT_EQ(&allocation.socket_for(true), &allocation.additional_socket);
}

}  // namespace
}  // namespace podium::relay
