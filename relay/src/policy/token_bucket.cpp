#include "policy/token_bucket.hpp"

#include <algorithm>
#include <limits>

namespace podium::relay::policy {
namespace {

constexpr std::uint64_t kNano = 1'000'000'000;

}  // namespace

TokenBucket::TokenBucket(std::uint64_t rate_per_second, std::uint64_t burst)
    : rate_(rate_per_second),
      burst_(burst),
      level_(static_cast<unsigned __int128>(burst) * kNano) {}

TokenBucket TokenBucket::for_bandwidth(config::Rate rate) {
  const std::uint64_t bytes_per_second = rate.bits_per_second / 8;
  if (bytes_per_second == 0) return TokenBucket();
  return TokenBucket(bytes_per_second, std::max<std::uint64_t>(bytes_per_second / 4, 64 * 1024));
}

void TokenBucket::refill(std::uint64_t now_ns) {
  if (!started_) {
    started_ = true;
    last_ns_ = now_ns;
    return;
  }
  if (now_ns <= last_ns_) return;
  const std::uint64_t elapsed = now_ns - last_ns_;
  last_ns_ = now_ns;
  // elapsed [ns] * rate [tokens/s] = nano-tokens; a 64x64-bit product always fits 128 bits.
  const unsigned __int128 full = static_cast<unsigned __int128>(burst_) * kNano;
  const unsigned __int128 added = static_cast<unsigned __int128>(elapsed) * rate_;
  level_ = added >= full - std::min(level_, full) ? full : level_ + added;
}

bool TokenBucket::consume(std::uint64_t tokens, std::uint64_t now_ns) {
  if (rate_ == 0) return true;
  refill(now_ns);
  const unsigned __int128 need = static_cast<unsigned __int128>(tokens) * kNano;
  if (need > level_) return false;
  level_ -= need;
  return true;
}

std::uint64_t TokenBucket::available(std::uint64_t now_ns) {
  if (rate_ == 0) return std::numeric_limits<std::uint64_t>::max();
  refill(now_ns);
  return static_cast<std::uint64_t>(level_ / kNano);
}

void TokenBucket::reconfigure(std::uint64_t rate_per_second, std::uint64_t burst) {
  const bool was_unlimited = rate_ == 0;
  rate_ = rate_per_second;
  burst_ = burst;
  const unsigned __int128 full = static_cast<unsigned __int128>(burst_) * kNano;
  level_ = was_unlimited ? full : std::min(level_, full);
}

}  // namespace podium::relay::policy
