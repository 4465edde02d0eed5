#include "podium/common/datagram_bio.hpp"

#include <algorithm>
#include <cstring>

namespace podium {

namespace {

DatagramBioEndpoint* endpoint_of(BIO* bio) {
  return static_cast<DatagramBioEndpoint*>(BIO_get_data(bio));
}

int write_datagram(BIO* bio, const char* data, int length) {
  BIO_clear_retry_flags(bio);
  auto* endpoint = endpoint_of(bio);
  if (endpoint == nullptr || length <= 0) return 0;
  endpoint->send_datagram(
      std::span(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(length)));
  return length;
}

int read_datagram(BIO* bio, char* out, int capacity) {
  BIO_clear_retry_flags(bio);
  auto* endpoint = endpoint_of(bio);
  if (endpoint == nullptr || endpoint->pending_input.empty() || capacity <= 0) {
    BIO_set_retry_read(bio);
    return -1;
  }
  // A datagram larger than the buffer is truncated, as recvmsg would; DTLS then drops it.
  const std::size_t n =
      std::min(endpoint->pending_input.size(), static_cast<std::size_t>(capacity));
  std::memcpy(out, endpoint->pending_input.data(), n);
  endpoint->pending_input = {};
  return static_cast<int>(n);
}

long control(BIO* bio, int command, long /*num*/, void* /*ptr*/) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_PENDING:
    case BIO_CTRL_WPENDING:
      return 0;
    case BIO_CTRL_DGRAM_QUERY_MTU: {
      auto* endpoint = endpoint_of(bio);
      return endpoint != nullptr ? endpoint->datagram_mtu() : 0;
    }
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
      return 0;  // the MTU given already is the UDP payload size
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
      return 1;  // the owner drives retransmission timers
    default:
      return 0;  // no peer address, no peek mode
  }
}

int create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int destroy(BIO* bio) {
  if (bio == nullptr) return 0;
  BIO_set_data(bio, nullptr);
  return 1;
}

// One method table for the process, never freed.
const BIO_METHOD* method() {
  static const BIO_METHOD* table = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "podium-datagram");
    if (m == nullptr) return static_cast<BIO_METHOD*>(nullptr);
    BIO_meth_set_write(m, write_datagram);
    BIO_meth_set_read(m, read_datagram);
    BIO_meth_set_ctrl(m, control);
    BIO_meth_set_create(m, create);
    BIO_meth_set_destroy(m, destroy);
    return m;
  }();
  return table;
}

}  // namespace

BIO* new_datagram_bio(DatagramBioEndpoint& endpoint) {
  const BIO_METHOD* table = method();
  if (table == nullptr) return nullptr;
  BIO* bio = BIO_new(table);
  if (bio != nullptr) set_datagram_bio_endpoint(bio, endpoint);
  return bio;
}

void set_datagram_bio_endpoint(BIO* bio, DatagramBioEndpoint& endpoint) {
  BIO_set_data(bio, &endpoint);  // as DatagramBioEndpoint*, what endpoint_of() reads back
}

}  // namespace podium
