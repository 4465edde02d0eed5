// Batched UDP I/O: sendmmsg batches deliver every datagram, a refused datagram is skipped and
// reported with its owner while the rest of the batch still goes out, recvmmsg reads them back.
#include "podium/common/udp_batch.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include <gtest/gtest.h>

namespace podium::net {
namespace {

struct Socket {
  Socket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local));
    socklen_t length = sizeof(local);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    address = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&local), length);
  }
  ~Socket() { ::close(fd); }
  int fd = -1;
  SocketAddress address;
};

int receive_all(RecvBatch& batch, int fd, std::vector<std::uint8_t>& first_bytes) {
  int total = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    int n = batch.receive(fd);
    for (int i = 0; i < n; ++i)
      first_bytes.push_back(batch.at(static_cast<std::size_t>(i)).data[0]);
    total += n > 0 ? n : 0;
    if (n <= 0 && total > 0) break;
    if (n <= 0) ::usleep(1000);
  }
  return total;
}

TEST(UdpBatch, DeliversMoreThanOneBatchInOrder) {
  Socket sender, receiver;
  auto batch = std::make_unique<BasicSendBatch<64>>();
  for (int i = 0; i < 100; ++i) {  // more than kSendBatch: next() flushes on the way
    auto& entry = batch->next();
    entry.fd = sender.fd;
    entry.destination = receiver.address;
    entry.head[0] = static_cast<std::uint8_t>(i);
    entry.head_length = 1;
    batch->commit();
  }
  EXPECT_EQ(batch->flush(), 0u);
  auto recv = std::make_unique<RecvBatch>();
  std::vector<std::uint8_t> got;
  while (got.size() < 100 && receive_all(*recv, receiver.fd, got) > 0) {
  }
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
}

struct Failures {
  std::vector<SendFailure> seen;
  static void hook(void* self, const SendFailure& failure) {
    static_cast<Failures*>(self)->seen.push_back(failure);
  }
};

TEST(UdpBatch, RefusedDatagramIsReportedWithItsOwnerAndTheOthersStillGo) {
  Socket sender, receiver;
  // Port 0 is not a valid destination: sendmmsg refuses that one message (EINVAL).
  SocketAddress invalid = receiver.address;
  reinterpret_cast<sockaddr_in*>(&invalid.storage)->sin_port = 0;
  Failures failures;
  auto batch = std::make_unique<BasicSendBatch<64>>();
  batch->on_failure(&Failures::hook, &failures);
  int owners[3] = {0, 1, 2};
  for (int i = 0; i < 3; ++i) {
    auto& entry = batch->next();
    entry.fd = sender.fd;
    entry.owner = &owners[i];
    entry.destination = i == 1 ? invalid : receiver.address;
    entry.head[0] = static_cast<std::uint8_t>(i);
    entry.head_length = 1;
    batch->commit();
  }
  EXPECT_EQ(batch->flush(), 1u);
  ASSERT_EQ(failures.seen.size(), 1u);
  EXPECT_EQ(failures.seen[0].owner, &owners[1]);
  EXPECT_NE(failures.seen[0].error, 0);
  auto recv = std::make_unique<RecvBatch>();
  std::vector<std::uint8_t> got;
  receive_all(*recv, receiver.fd, got);
  EXPECT_EQ(got, (std::vector<std::uint8_t>{0, 2}));
}

}  // namespace
}  // namespace podium::net
