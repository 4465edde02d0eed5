#include "policy/source_rate_limiter.hpp"

#include <algorithm>
#include <bit>
#include <random>

namespace podium::relay::policy {
namespace {

constexpr std::uint64_t kNano = 1'000'000'000;
constexpr std::size_t kProbeWindow = 8;
// IPv4 sources are stored as their IPv4-mapped IPv6 form.
constexpr std::uint64_t kMappedPrefix = 0x0000ffff00000000ULL;

std::uint64_t mix(std::uint64_t x) {
  // A 64-bit finalizer (multiply/xor-shift): spreads every input bit over the result.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint64_t load_be64(const std::uint8_t* bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace

SourceRateLimiter::SourceRateLimiter(unsigned requests_per_second, unsigned burst,
                                     std::size_t capacity, unsigned ipv6_prefix)
    : rate_(0), burst_(0) {
  set_rate(requests_per_second, burst);
  ipv6_prefix = std::clamp(ipv6_prefix, 1u, 128u);
  const unsigned high_bits = std::min(ipv6_prefix, 64u);
  const unsigned low_bits = ipv6_prefix > 64 ? ipv6_prefix - 64 : 0;
  ipv6_mask_high_ = ~std::uint64_t{0} << (64 - high_bits);
  ipv6_mask_low_ = low_bits == 0 ? 0 : ~std::uint64_t{0} << (64 - low_bits);
  std::random_device random;
  for (auto& word : seed_) {
    word = (std::uint64_t{random()} << 32) ^ random();
  }
  slots_.resize(std::bit_ceil(std::max<std::size_t>(capacity, 16)));
}

void SourceRateLimiter::set_rate(unsigned requests_per_second, unsigned burst) {
  rate_ = requests_per_second;
  burst_ = burst != 0 ? burst : std::max(requests_per_second, 1u);
}

bool SourceRateLimiter::allow(const boost::asio::ip::address& source, std::uint64_t now_ns) {
  if (source.is_v4()) return allow_v4(source.to_v4().to_uint(), now_ns);
  return allow_v6(source.to_v6().to_bytes(), now_ns);
}

bool SourceRateLimiter::allow_v4(std::uint32_t source_host_order, std::uint64_t now_ns) {
  return allow_key(0, kMappedPrefix | source_host_order, now_ns);
}

bool SourceRateLimiter::allow_v6(const std::array<std::uint8_t, 16>& source, std::uint64_t now_ns) {
  const std::uint64_t high = load_be64(source.data());
  const std::uint64_t low = load_be64(source.data() + 8);
  if (high == 0 && (low >> 32) == 0xffff) return allow_key(0, low, now_ns);  // IPv4-mapped
  return allow_key(high & ipv6_mask_high_, low & ipv6_mask_low_, now_ns);
}

std::size_t SourceRateLimiter::slot_index(std::uint64_t high, std::uint64_t low) const {
  const std::uint64_t hash = mix(mix(high ^ seed_[0]) ^ low ^ seed_[1]);
  return static_cast<std::size_t>(hash) & (slots_.size() - 1);
}

bool SourceRateLimiter::allow_key(std::uint64_t high, std::uint64_t low, std::uint64_t now_ns) {
  if (rate_ == 0) return true;
  const std::uint64_t full = std::uint64_t{burst_} * kNano;
  const std::size_t mask = slots_.size() - 1;
  const std::size_t start = slot_index(high, low);

  // Find the source in the probe window; nothing is ever removed, so an empty slot ends it.
  Slot* victim = nullptr;
  for (std::size_t i = 0; i < kProbeWindow; ++i) {
    Slot& slot = slots_[(start + i) & mask];
    if (!slot.used) {
      victim = &slot;
      break;
    }
    if (slot.key_high == high && slot.key_low == low) {
      // Refill: rate [requests/s] * elapsed [ns] = nano-requests.
      if (now_ns > slot.last_ns) {
        const std::uint64_t elapsed = now_ns - slot.last_ns;
        const std::uint64_t room = full - std::min(slot.level, full);
        // elapsed * rate may overflow 64 bits only when it would fill the bucket anyway.
        slot.level = elapsed >= room / rate_ + 1 ? full : slot.level + elapsed * rate_;
        slot.level = std::min(slot.level, full);
        slot.last_ns = now_ns;
      }
      if (slot.level < kNano) return false;
      slot.level -= kNano;
      return true;
    }
    if (victim == nullptr || slot.last_ns < victim->last_ns) victim = &slot;
  }

  // A new source: it starts with a full bucket and this request takes one token.
  victim->used = true;
  victim->key_high = high;
  victim->key_low = low;
  victim->last_ns = now_ns;
  victim->level = full - kNano;
  return true;
}

}  // namespace podium::relay::policy
