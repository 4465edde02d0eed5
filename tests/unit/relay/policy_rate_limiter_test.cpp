#include <gtest/gtest.h>

#include <cstdint>

#include "policy/source_rate_limiter.hpp"

namespace {

using boost::asio::ip::make_address;
using podium::relay::policy::SourceRateLimiter;

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kS = 1'000'000'000;

TEST(PolicyRateLimiter, BurstThenRefuseThenRecover) {
  SourceRateLimiter limiter(10, 5);  // 10 requests/s, burst 5
  const auto source = make_address("198.51.100.1");
  const std::uint64_t t0 = 100 * kS;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(source, t0)) << i;
  EXPECT_FALSE(limiter.allow(source, t0));
  EXPECT_FALSE(limiter.allow(source, t0 + 50 * kMs));  // half a token
  EXPECT_TRUE(limiter.allow(source, t0 + 100 * kMs));  // one token back
  EXPECT_FALSE(limiter.allow(source, t0 + 100 * kMs));
  // After a long pause the whole burst is back, not more.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(source, t0 + 10 * kS)) << i;
  EXPECT_FALSE(limiter.allow(source, t0 + 10 * kS));
}

TEST(PolicyRateLimiter, SourcesAreIndependent) {
  SourceRateLimiter limiter(1, 2);
  const auto a = make_address("198.51.100.1");
  const auto b = make_address("198.51.100.2");
  EXPECT_TRUE(limiter.allow(a, 0));
  EXPECT_TRUE(limiter.allow(a, 0));
  EXPECT_FALSE(limiter.allow(a, 0));
  EXPECT_TRUE(limiter.allow(b, 0));
  EXPECT_TRUE(limiter.allow(b, 0));
  EXPECT_FALSE(limiter.allow(b, 0));
}

TEST(PolicyRateLimiter, MappedAndIpv6PrefixShareBucket) {
  SourceRateLimiter limiter(1, 1);
  EXPECT_TRUE(limiter.allow(make_address("198.51.100.1"), 0));
  EXPECT_FALSE(limiter.allow(make_address("::ffff:198.51.100.1"), 0));
  // Same /64.
  EXPECT_TRUE(limiter.allow(make_address("2001:db8:1:2::1"), 0));
  EXPECT_FALSE(limiter.allow(make_address("2001:db8:1:2:ffff::9"), 0));
  EXPECT_TRUE(limiter.allow(make_address("2001:db8:1:3::1"), 0));
}

TEST(PolicyRateLimiter, Ipv6PrefixConfigurable) {
  SourceRateLimiter limiter(1, 1, 4096, 128);
  EXPECT_TRUE(limiter.allow(make_address("2001:db8::1"), 0));
  EXPECT_TRUE(limiter.allow(make_address("2001:db8::2"), 0));
  EXPECT_FALSE(limiter.allow(make_address("2001:db8::1"), 0));
}

TEST(PolicyRateLimiter, ZeroRateIsUnlimited) {
  SourceRateLimiter limiter(0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.allow_v4(0x01020304, 0));
}

TEST(PolicyRateLimiter, DefaultBurstIsOneSecond) {
  SourceRateLimiter limiter(20);
  EXPECT_EQ(limiter.burst(), 20u);
  EXPECT_EQ(limiter.capacity(), 4096u);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(limiter.allow_v4(0x01020304, 0));
  EXPECT_FALSE(limiter.allow_v4(0x01020304, 0));
}

TEST(PolicyRateLimiter, FullTableEvictsAndStaysUsable) {
  SourceRateLimiter limiter(1, 1, 16);
  EXPECT_EQ(limiter.capacity(), 16u);
  // Far more sources than slots: each new source gets its burst, nothing crashes.
  for (std::uint32_t i = 0; i < 10'000; ++i) {
    EXPECT_TRUE(limiter.allow_v4(0x0a000000 + i, i)) << i;
  }
  // A source seen just now is still tracked (the oldest entries were the ones replaced).
  EXPECT_FALSE(limiter.allow_v4(0x0a000000 + 9'999, 10'000));
}

TEST(PolicyRateLimiter, SetRateKeepsState) {
  SourceRateLimiter limiter(1, 1);
  EXPECT_TRUE(limiter.allow_v4(0x01020304, 0));
  EXPECT_FALSE(limiter.allow_v4(0x01020304, 0));
  limiter.set_rate(0);
  EXPECT_TRUE(limiter.allow_v4(0x01020304, 0));
  limiter.set_rate(10, 3);
  EXPECT_EQ(limiter.rate(), 10u);
  EXPECT_EQ(limiter.burst(), 3u);
}

}  // namespace
