#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "policy/token_bucket.hpp"

namespace {

using podium::relay::policy::TokenBucket;

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kS = 1'000'000'000;

TEST(PolicyTokenBucket, StartsFullAndDrains) {
  TokenBucket bucket(1000, 500);  // 1000 tokens/s, burst 500
  const std::uint64_t t0 = 5 * kS;
  EXPECT_TRUE(bucket.consume(300, t0));
  EXPECT_TRUE(bucket.consume(200, t0));
  EXPECT_FALSE(bucket.consume(1, t0));
  EXPECT_EQ(bucket.available(t0), 0u);
}

TEST(PolicyTokenBucket, RefillsAtRate) {
  TokenBucket bucket(1000, 500);
  const std::uint64_t t0 = 5 * kS;
  ASSERT_TRUE(bucket.consume(500, t0));
  EXPECT_EQ(bucket.available(t0 + 100 * kMs), 100u);  // 0.1 s * 1000/s
  EXPECT_FALSE(bucket.consume(101, t0 + 100 * kMs));
  EXPECT_TRUE(bucket.consume(100, t0 + 100 * kMs));
  EXPECT_EQ(bucket.available(t0 + 100 * kMs), 0u);
  // Sub-token refills add up exactly: 1000 steps of 1 microsecond = 1 token.
  for (std::uint64_t i = 1; i <= 1000; ++i) bucket.available(t0 + 100 * kMs + i * 1000);
  EXPECT_EQ(bucket.available(t0 + 101 * kMs), 1u);
  // Never more than the burst.
  EXPECT_EQ(bucket.available(t0 + 3600 * kS), 500u);
}

TEST(PolicyTokenBucket, FailedConsumeTakesNothing) {
  TokenBucket bucket(10, 10);
  EXPECT_FALSE(bucket.consume(11, 0));
  EXPECT_EQ(bucket.available(0), 10u);
  EXPECT_TRUE(bucket.consume(10, 0));
}

TEST(PolicyTokenBucket, ClockGoingBackwardsStandsStill) {
  TokenBucket bucket(1000, 1000);
  ASSERT_TRUE(bucket.consume(1000, 10 * kS));
  EXPECT_EQ(bucket.available(9 * kS), 0u);
  EXPECT_EQ(bucket.available(10 * kS + 10 * kMs), 10u);
}

TEST(PolicyTokenBucket, ZeroRateIsUnlimited) {
  TokenBucket bucket;
  EXPECT_TRUE(bucket.unlimited());
  EXPECT_TRUE(bucket.consume(std::numeric_limits<std::uint64_t>::max(), 0));
  TokenBucket zero(0, 100);
  EXPECT_TRUE(zero.consume(1'000'000, 0));
}

TEST(PolicyTokenBucket, HugeValuesDoNotOverflow) {
  TokenBucket bucket(std::numeric_limits<std::uint64_t>::max(), 1'000'000'000);
  EXPECT_TRUE(bucket.consume(1'000'000'000, 1));
  EXPECT_EQ(bucket.available(std::numeric_limits<std::uint64_t>::max()), 1'000'000'000u);
}

TEST(PolicyTokenBucket, ForBandwidth) {
  // 2 Mbit/s = 250000 bytes/s; burst = max(62500, 65536).
  auto bucket = TokenBucket::for_bandwidth(podium::config::Rate{2'000'000});
  EXPECT_EQ(bucket.rate(), 250'000u);
  EXPECT_EQ(bucket.burst(), 65'536u);
  auto fast = TokenBucket::for_bandwidth(podium::config::Rate{80'000'000});
  EXPECT_EQ(fast.rate(), 10'000'000u);
  EXPECT_EQ(fast.burst(), 2'500'000u);
  EXPECT_TRUE(TokenBucket::for_bandwidth(podium::config::Rate{0}).unlimited());
}

TEST(PolicyTokenBucket, Reconfigure) {
  TokenBucket bucket(100, 100);
  ASSERT_TRUE(bucket.consume(50, 0));
  bucket.reconfigure(100, 20);  // level clipped to the new burst
  EXPECT_EQ(bucket.available(0), 20u);
  bucket.reconfigure(0, 0);
  EXPECT_TRUE(bucket.consume(1000, 0));
  bucket.reconfigure(10, 10);  // from unlimited: starts full
  EXPECT_EQ(bucket.available(0), 10u);
}

}  // namespace
