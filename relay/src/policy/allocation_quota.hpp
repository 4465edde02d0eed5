// Allocation quotas (RFC 8656 section 7.2): a cap on allocations in total (relay.max_allocations,
// answered with 508 Insufficient Capacity) and per user (relay.user_quota, answered with 486
// Allocation Quota Reached). 0 means unlimited for either.
//
// Shared by every worker thread. acquire()/release() take a mutex (allocations are created and
// destroyed on the control path, rarely compared with packets); total() is a lock-free atomic
// read for metrics. set_limits() changes the caps at runtime (reload) and keeps the counts:
// lowering a cap below the current count leaves existing allocations alone and refuses new
// ones until enough are released.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace podium::relay::policy {

enum class QuotaResult {
  ok,
  user_quota_exceeded,  // 486 Allocation Quota Reached
  capacity_exceeded,    // 508 Insufficient Capacity
};
std::string_view to_string(QuotaResult result);  // snake_case, for metric labels
int stun_error_code(QuotaResult result);         // 0, 486 or 508

class AllocationQuota {
 public:
  explicit AllocationQuota(unsigned max_allocations = 0, unsigned user_quota = 0);

  // Counts a new allocation for `user` if both caps allow it. The per-user cap is checked first
  // (RFC 8656 section 7.2 checks the quota before reserving a relayed address).
  QuotaResult acquire(std::string_view user);
  // Gives back one allocation of `user`. Releasing more than was acquired is ignored.
  void release(std::string_view user);

  void set_limits(unsigned max_allocations, unsigned user_quota);

  unsigned active_for(std::string_view user) const;
  std::size_t total() const { return total_.load(std::memory_order_relaxed); }
  unsigned max_allocations() const;
  unsigned user_quota() const;

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };

  mutable std::mutex mutex_;
  std::unordered_map<std::string, unsigned, StringHash, std::equal_to<>> per_user_;
  std::atomic<std::size_t> total_{0};
  unsigned max_allocations_;
  unsigned user_quota_;
};

}  // namespace podium::relay::policy
