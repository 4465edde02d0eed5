#include "turn/shared_state.hpp"

#include <unistd.h>

#include <algorithm>

#include "podium/common/random.hpp"

namespace podium::relay {

RelayAddressPool::RelayAddressPool(const std::vector<boost::asio::ip::address>& addresses,
                                   config::PortRange range)
    : range_(range) {
  for (const auto& address : addresses) {
    (address.is_v6() ? v6_ : v4_).addresses.push_back(address);
  }
  for (Family* f : {&v4_, &v6_}) {
    std::uint32_t start = 0;
    random_bytes(std::span(reinterpret_cast<std::uint8_t*>(&start), sizeof(start)));
    f->cursor = start;
  }
}

boost::asio::ip::udp::endpoint RelayAddressPool::next(bool v6) {
  Family& f = v6 ? v6_ : v4_;
  // Candidate n is address n % A, port n / A: every pair once per cycle of A x ports.
  const std::uint64_t count = f.addresses.size();
  const std::uint64_t n = f.cursor.fetch_add(1, std::memory_order_relaxed) % (count * ports());
  const auto port = static_cast<std::uint16_t>(range_.first + n / count);
  return {f.addresses[static_cast<std::size_t>(n % count)], port};
}

PortReservations::~PortReservations() {
  for (auto& [token, entry] : entries_) ::close(entry.fd);
}

std::uint64_t PortReservations::put(int fd, std::chrono::steady_clock::time_point now) {
  std::uint64_t token = 0;
  random_bytes(std::span(reinterpret_cast<std::uint8_t*>(&token), sizeof(token)));
  std::lock_guard lock(mutex_);
  entries_[token] = {fd, now + std::chrono::seconds(30)};
  return token;
}

int PortReservations::take(std::uint64_t token) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return -1;
  int fd = it->second.fd;
  entries_.erase(it);
  return fd;
}

void PortReservations::expire(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  std::erase_if(entries_, [now](const auto& item) {
    if (item.second.expires > now) return false;
    ::close(item.second.fd);
    return true;
  });
}

namespace {

boost::asio::ip::address default_relay_ip(const config::RelayConfig& relay) {
  // The first listener's address, if specific; else IPv4 loopback... a wildcard listener
  // without relay_ip would advertise 0.0.0.0, which config validation should have refused.
  for (const auto& listen : relay.listen) {
    if (!listen.endpoint.address.is_unspecified()) return listen.endpoint.address;
  }
  return boost::asio::ip::address_v4::loopback();
}

}  // namespace

std::vector<boost::asio::ip::address> relay_bind_addresses(const config::RelayConfig& relay) {
  auto addresses = config::relay_addresses(relay);
  if (addresses.empty()) addresses.push_back(default_relay_ip(relay));
  return addresses;
}

std::size_t allocation_capacity(const config::RelayConfig& relay) {
  const std::size_t pairs =
      relay_bind_addresses(relay).size() *
      (static_cast<std::size_t>(relay.relay_ports.last) - relay.relay_ports.first + 1);
  if (relay.max_allocations == 0) return pairs;
  return std::min<std::size_t>(pairs, relay.max_allocations);
}

RelayPolicy::RelayPolicy(const config::RelayConfig& relay)
    : config(relay), credentials(relay), peer_policy(policy::PeerPolicy::options_from(relay)) {}

SharedState::SharedState(const config::RelayConfig& relay, monitoring::Metrics& registry)
    : config(relay),
      realm(relay.realm),
      quota(relay.max_allocations, relay.user_quota),
      relay_addresses(relay_bind_addresses(relay), relay.relay_ports),
      metrics(registry.registry()),
      tcp_metrics(registry.registry()),
      mobility(registry.registry()),
      external_ip(relay.external_ip) {
  nonces = std::make_unique<auth::NonceIssuer>(relay.nonce_lifetime);
  policy_ = std::make_shared<const RelayPolicy>(relay);
}

}  // namespace podium::relay
