#include "policy/allocation_quota.hpp"

namespace podium::relay::policy {

std::string_view to_string(QuotaResult result) {
  switch (result) {
    case QuotaResult::ok:
      return "ok";
    case QuotaResult::user_quota_exceeded:
      return "user_quota_exceeded";
    case QuotaResult::capacity_exceeded:
      return "capacity_exceeded";
  }
  return "unknown";
}

int stun_error_code(QuotaResult result) {
  switch (result) {
    case QuotaResult::ok:
      return 0;
    case QuotaResult::user_quota_exceeded:
      return 486;
    case QuotaResult::capacity_exceeded:
      return 508;
  }
  return 500;
}

AllocationQuota::AllocationQuota(unsigned max_allocations, unsigned user_quota)
    : max_allocations_(max_allocations), user_quota_(user_quota) {}

QuotaResult AllocationQuota::acquire(std::string_view user) {
  std::lock_guard lock(mutex_);
  auto it = per_user_.find(user);
  const unsigned current = it == per_user_.end() ? 0 : it->second;
  if (user_quota_ != 0 && current >= user_quota_) return QuotaResult::user_quota_exceeded;
  if (max_allocations_ != 0 && total_.load(std::memory_order_relaxed) >= max_allocations_) {
    return QuotaResult::capacity_exceeded;
  }
  if (it == per_user_.end()) {
    per_user_.emplace(std::string(user), 1u);
  } else {
    ++it->second;
  }
  total_.fetch_add(1, std::memory_order_relaxed);
  return QuotaResult::ok;
}

void AllocationQuota::release(std::string_view user) {
  std::lock_guard lock(mutex_);
  auto it = per_user_.find(user);
  if (it == per_user_.end()) return;
  if (--it->second == 0) per_user_.erase(it);
  total_.fetch_sub(1, std::memory_order_relaxed);
}

void AllocationQuota::set_limits(unsigned max_allocations, unsigned user_quota) {
  std::lock_guard lock(mutex_);
  max_allocations_ = max_allocations;
  user_quota_ = user_quota;
}

unsigned AllocationQuota::active_for(std::string_view user) const {
  std::lock_guard lock(mutex_);
  const auto it = per_user_.find(user);
  return it == per_user_.end() ? 0 : it->second;
}

unsigned AllocationQuota::max_allocations() const {
  std::lock_guard lock(mutex_);
  return max_allocations_;
}

unsigned AllocationQuota::user_quota() const {
  std::lock_guard lock(mutex_);
  return user_quota_;
}

}  // namespace podium::relay::policy
