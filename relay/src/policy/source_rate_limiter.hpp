// Per-source-address limit on unauthenticated requests (those answered without checking
// credentials: the first Allocate that gets 401, Binding requests): `rate` requests per second
// with a small burst, per source address.
//
// A fixed-capacity open-addressing table of per-source token buckets, allocated once at
// construction and never again. A lookup probes a short window of slots; when the source is new
// and the window is full, the least recently used slot in the window is overwritten (that source
// simply starts again with a full bucket, which only ever errs on the side of allowing). The
// slot is chosen by a hash keyed with a random seed, so remote parties cannot aim collisions.
//
// IPv6 sources are keyed by their /64 by default (ipv6_prefix), since one host usually holds a
// whole /64; IPv4-mapped IPv6 sources count as their IPv4 address.
//
// NOT thread-safe: one instance per worker thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace podium::relay::policy {

class SourceRateLimiter {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;

  // requests_per_second 0 = unlimited. burst 0 = requests_per_second (one second's worth).
  // capacity is rounded up to a power of two (at least 16). ipv6_prefix is clamped to 1..128.
  explicit SourceRateLimiter(unsigned requests_per_second, unsigned burst = 0,
                             std::size_t capacity = kDefaultCapacity, unsigned ipv6_prefix = 64);

  // Counts one request from `source` at now_ns (monotonic nanoseconds) and says whether it is
  // within the limit.
  bool allow(const boost::asio::ip::address& source, std::uint64_t now_ns);
  bool allow_v4(std::uint32_t source_host_order, std::uint64_t now_ns);
  bool allow_v6(const std::array<std::uint8_t, 16>& source, std::uint64_t now_ns);

  // New limits for a reload; tracked sources keep their state.
  void set_rate(unsigned requests_per_second, unsigned burst = 0);

  std::size_t capacity() const { return slots_.size(); }
  unsigned rate() const { return rate_; }
  unsigned burst() const { return burst_; }

 private:
  struct Slot {
    std::uint64_t key_high = 0;
    std::uint64_t key_low = 0;
    std::uint64_t last_ns = 0;
    std::uint64_t level = 0;  // nano-requests (requests * 1e9)
    bool used = false;
  };

  bool allow_key(std::uint64_t high, std::uint64_t low, std::uint64_t now_ns);
  std::size_t slot_index(std::uint64_t high, std::uint64_t low) const;

  unsigned rate_;
  unsigned burst_;
  std::uint64_t ipv6_mask_high_;
  std::uint64_t ipv6_mask_low_;
  std::uint64_t seed_[2];
  std::vector<Slot> slots_;
};

}  // namespace podium::relay::policy
