#include "turn/shared_state.hpp"

#include <unistd.h>

#include "podium/common/random.hpp"

namespace podium::relay {

PortAllocator::PortAllocator(config::PortRange range) : range_(range) {
  std::uint32_t start = 0;
  random_bytes(std::span(reinterpret_cast<std::uint8_t*>(&start), sizeof(start)));
  cursor_ = start;
}

std::uint16_t PortAllocator::next() {
  auto n = cursor_.fetch_add(1, std::memory_order_relaxed);
  return static_cast<std::uint16_t>(range_.first + n % size());
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
  if (relay.relay_ip) return *relay.relay_ip;
  // The first listener's address, if specific; else IPv4 loopback... a wildcard listener
  // without relay_ip would advertise 0.0.0.0, which config validation should have refused.
  for (const auto& listen : relay.listen) {
    if (!listen.endpoint.address.is_unspecified()) return listen.endpoint.address;
  }
  return boost::asio::ip::address_v4::loopback();
}

}  // namespace

RelayPolicy::RelayPolicy(const config::RelayConfig& relay)
    : config(relay), credentials(relay), peer_policy(policy::PeerPolicy::options_from(relay)) {}

SharedState::SharedState(const config::RelayConfig& relay, monitoring::Metrics& registry)
    : config(relay),
      realm(relay.realm),
      quota(relay.max_allocations, relay.user_quota),
      ports(relay.relay_ports),
      metrics(registry.registry()),
      relay_ip(default_relay_ip(relay)),
      advertised_ip(relay.external_ip ? *relay.external_ip : default_relay_ip(relay)) {
  nonces = std::make_unique<auth::NonceIssuer>(relay.nonce_lifetime);
  policy_ = std::make_shared<const RelayPolicy>(relay);
}

}  // namespace podium::relay
