// A token bucket for per-allocation bandwidth caps (and any other rate): `rate` tokens per
// second accumulate up to `burst`; consume(n) takes n tokens or refuses without taking any.
// Tokens are whatever unit the caller uses (bytes for bandwidth). Rate 0 means unlimited.
//
// Integer arithmetic in nano-tokens, so refills are exact whatever the call pattern. No heap,
// no lock: a bucket belongs to one allocation served by one thread.
#pragma once

#include <cstdint>

#include "podium/config/values.hpp"

namespace podium::relay::policy {

class TokenBucket {
 public:
  TokenBucket() = default;  // unlimited
  // Starts full. A burst below the largest single consume() would refuse that consume forever,
  // so size it at least to the largest packet.
  TokenBucket(std::uint64_t rate_per_second, std::uint64_t burst);

  // A byte bucket for a `relay.allocation_bandwidth` cap (bits/s): rate = bits/8 bytes/s,
  // burst = a quarter second of traffic but at least 64 KiB (a few full-size UDP datagrams).
  static TokenBucket for_bandwidth(config::Rate rate);

  // Takes `tokens` if available at `now_ns` (any monotonic nanosecond clock; a clock that goes
  // backwards is treated as standing still).
  bool consume(std::uint64_t tokens, std::uint64_t now_ns);
  // Whole tokens available at now_ns (unlimited: UINT64_MAX).
  std::uint64_t available(std::uint64_t now_ns);

  // New limits for a reload; the current level is kept, clipped to the new burst.
  void reconfigure(std::uint64_t rate_per_second, std::uint64_t burst);

  bool unlimited() const { return rate_ == 0; }
  std::uint64_t rate() const { return rate_; }
  std::uint64_t burst() const { return burst_; }

 private:
  void refill(std::uint64_t now_ns);

  std::uint64_t rate_ = 0;       // tokens per second
  std::uint64_t burst_ = 0;      // tokens
  unsigned __int128 level_ = 0;  // nano-tokens (tokens * 1e9)
  std::uint64_t last_ns_ = 0;
  bool started_ = false;
};

}  // namespace podium::relay::policy
