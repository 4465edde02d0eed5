#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "policy/allocation_quota.hpp"

namespace {

using podium::relay::policy::AllocationQuota;
using podium::relay::policy::QuotaResult;

TEST(PolicyQuota, UserQuota) {
  AllocationQuota quota(0, 2);
  EXPECT_EQ(quota.acquire("alice"), QuotaResult::ok);
  EXPECT_EQ(quota.acquire("alice"), QuotaResult::ok);
  EXPECT_EQ(quota.acquire("alice"), QuotaResult::user_quota_exceeded);
  EXPECT_EQ(quota.acquire("bob"), QuotaResult::ok);
  EXPECT_EQ(quota.active_for("alice"), 2u);
  EXPECT_EQ(quota.active_for("bob"), 1u);
  EXPECT_EQ(quota.total(), 3u);
  quota.release("alice");
  EXPECT_EQ(quota.active_for("alice"), 1u);
  EXPECT_EQ(quota.acquire("alice"), QuotaResult::ok);
}

TEST(PolicyQuota, TotalCapacity) {
  AllocationQuota quota(3, 0);
  EXPECT_EQ(quota.acquire("a"), QuotaResult::ok);
  EXPECT_EQ(quota.acquire("b"), QuotaResult::ok);
  EXPECT_EQ(quota.acquire("c"), QuotaResult::ok);
  EXPECT_EQ(quota.acquire("d"), QuotaResult::capacity_exceeded);
  EXPECT_EQ(quota.active_for("d"), 0u);
  quota.release("b");
  EXPECT_EQ(quota.total(), 2u);
  EXPECT_EQ(quota.acquire("d"), QuotaResult::ok);
}

TEST(PolicyQuota, UserQuotaReportedBeforeCapacity) {
  AllocationQuota quota(1, 1);
  EXPECT_EQ(quota.acquire("a"), QuotaResult::ok);
  EXPECT_EQ(quota.acquire("a"), QuotaResult::user_quota_exceeded);
  EXPECT_EQ(quota.acquire("b"), QuotaResult::capacity_exceeded);
}

TEST(PolicyQuota, UnlimitedAndStrayRelease) {
  AllocationQuota quota;
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(quota.acquire("alice"), QuotaResult::ok);
  EXPECT_EQ(quota.total(), 1000u);
  quota.release("nobody");
  EXPECT_EQ(quota.total(), 1000u);
  for (int i = 0; i < 1001; ++i) quota.release("alice");
  EXPECT_EQ(quota.total(), 0u);
  EXPECT_EQ(quota.active_for("alice"), 0u);
}

TEST(PolicyQuota, SetLimitsKeepsCounts) {
  AllocationQuota quota(10, 10);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(quota.acquire("alice"), QuotaResult::ok);
  quota.set_limits(10, 3);
  EXPECT_EQ(quota.user_quota(), 3u);
  EXPECT_EQ(quota.active_for("alice"), 5u);
  EXPECT_EQ(quota.acquire("alice"), QuotaResult::user_quota_exceeded);
  quota.release("alice");
  quota.release("alice");
  EXPECT_EQ(quota.acquire("alice"), QuotaResult::user_quota_exceeded);
  quota.release("alice");
  EXPECT_EQ(quota.acquire("alice"), QuotaResult::ok);
  quota.set_limits(3, 0);
  EXPECT_EQ(quota.max_allocations(), 3u);
  EXPECT_EQ(quota.acquire("bob"), QuotaResult::capacity_exceeded);
}

TEST(PolicyQuota, ConcurrentAcquireRespectsCap) {
  AllocationQuota quota(1000, 0);
  std::vector<std::thread> threads;
  std::atomic<int> granted{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string user = "user" + std::to_string(t);
      for (int i = 0; i < 500; ++i) {
        if (quota.acquire(user) == QuotaResult::ok) ++granted;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(granted.load(), 1000);
  EXPECT_EQ(quota.total(), 1000u);
}

TEST(PolicyQuota, Names) {
  using podium::relay::policy::stun_error_code;
  EXPECT_EQ(to_string(QuotaResult::ok), "ok");
  EXPECT_EQ(to_string(QuotaResult::user_quota_exceeded), "user_quota_exceeded");
  EXPECT_EQ(to_string(QuotaResult::capacity_exceeded), "capacity_exceeded");
  EXPECT_EQ(stun_error_code(QuotaResult::ok), 0);
  EXPECT_EQ(stun_error_code(QuotaResult::user_quota_exceeded), 486);
  EXPECT_EQ(stun_error_code(QuotaResult::capacity_exceeded), 508);
}

}  // namespace
