// The room's output stream (room.hpp): one sequence-number space and one timestamp line across
// presenters and SSRCs, and the RFC 6464 "speaking" detector. Explicit steady_clock time points,
// no sleeping.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "room/room.hpp"

namespace podium::sfu {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kFrame = 960;  // 20 ms at 48 kHz
constexpr std::uint32_t kA = 0xAAAA0001;
constexpr std::uint32_t kB = 0xBBBB0002;
constexpr std::uint32_t kC = 0xCCCC0003;

const Clock::time_point t0 = Clock::time_point{} + 1000s;

// Sends `count` packets of one source, paced 20 ms apart from `start`; returns the last mapping.
OutputTimeline::Mapped run(OutputTimeline& timeline, std::uint32_t ssrc, std::uint16_t seq,
                           std::uint32_t ts, Clock::time_point start, int count) {
  OutputTimeline::Mapped last{};
  for (int i = 0; i < count; ++i) {
    last = timeline.map(ssrc, static_cast<std::uint16_t>(seq + i),
                        ts + static_cast<std::uint32_t>(i) * kFrame, start + i * 20ms);
  }
  return last;
}

TEST(OutputTimeline, FirstSourcePassesThrough) {
  OutputTimeline timeline;
  for (int i = 0; i < 5; ++i) {
    auto out = timeline.map(kA, static_cast<std::uint16_t>(1000 + i),
                            50000 + static_cast<std::uint32_t>(i) * kFrame, t0 + i * 20ms);
    EXPECT_EQ(out.sequence, 1000 + i);
    EXPECT_EQ(out.timestamp, 50000 + static_cast<std::uint32_t>(i) * kFrame);
  }
}

TEST(OutputTimeline, NewSsrcContinuesWithoutAGap) {
  OutputTimeline timeline;
  auto last = run(timeline, kA, 1000, 50000, t0, 5);  // last: seq 1004 at t0 + 80 ms
  ASSERT_EQ(last.sequence, 1004);
  ASSERT_EQ(last.timestamp, 50000 + 4 * kFrame);
  // B starts 100 ms after A's last packet, with its own unrelated numbering.
  const auto switch_time = t0 + 80ms + 100ms;
  auto first_b = timeline.map(kB, 7, 123456, switch_time);
  EXPECT_EQ(first_b.sequence, 1005) << "last + 1: no gap, no repeat";
  EXPECT_EQ(first_b.timestamp, last.timestamp + 4800) << "100 ms of wall clock at 48 kHz";
  // B's following packets keep B's own spacing.
  auto second_b = timeline.map(kB, 8, 123456 + kFrame, switch_time + 20ms);
  EXPECT_EQ(second_b.sequence, 1006);
  EXPECT_EQ(second_b.timestamp, first_b.timestamp + kFrame);
  auto fourth_b = timeline.map(kB, 10, 123456 + 3 * kFrame, switch_time + 60ms);
  EXPECT_EQ(fourth_b.sequence, 1008) << "B's own loss shows as a gap in the output";
  EXPECT_EQ(fourth_b.timestamp, first_b.timestamp + 3 * kFrame);
}

TEST(OutputTimeline, SwitchAdvancesAtLeastOneFrame) {
  // Whatever the clock says (no time, a few ms, or even backwards), the new source's first
  // packet is at least one 20 ms frame after the last output packet.
  for (auto gap : {0ms, 1ms, 19ms, -50ms}) {
    OutputTimeline timeline;
    auto last = run(timeline, kA, 10, 0, t0, 3);
    auto out = timeline.map(kB, 60000, 999, t0 + 40ms + gap);
    EXPECT_EQ(out.sequence, last.sequence + 1) << gap.count();
    EXPECT_EQ(out.timestamp, last.timestamp + kFrame) << gap.count();
  }
}

TEST(OutputTimeline, SwitchUsesTheElapsedWallClock) {
  struct Case {
    std::chrono::microseconds elapsed;
    std::uint32_t ticks;
  };
  for (Case c : {Case{20ms, 960}, Case{21ms, 1008}, Case{30500us, 1464}, Case{1s, 48000},
                 Case{10s, 480000}, Case{3600s, 172800000}}) {
    OutputTimeline timeline;
    auto last = run(timeline, kA, 10, 0xFFFFF000u, t0, 2);  // the output timestamp wraps
    auto out = timeline.map(kB, 1, 1, t0 + 20ms + c.elapsed);
    EXPECT_EQ(out.timestamp, static_cast<std::uint32_t>(last.timestamp + c.ticks))
        << c.elapsed.count() << " us";
  }
}

TEST(OutputTimeline, ReorderedPacketsMapConsistentlyAndDoNotMoveTheLast) {
  OutputTimeline timeline;
  auto p1000 = timeline.map(kA, 1000, 90000, t0);
  auto p1001 = timeline.map(kA, 1001, 90000 + kFrame, t0 + 20ms);
  auto p1003 = timeline.map(kA, 1003, 90000 + 3 * kFrame, t0 + 60ms);
  // 1002 arrives late, long after 1003.
  auto p1002 = timeline.map(kA, 1002, 90000 + 2 * kFrame, t0 + 200ms);
  EXPECT_EQ(p1000.sequence, 1000);
  EXPECT_EQ(p1001.sequence, 1001);
  EXPECT_EQ(p1002.sequence, 1002);
  EXPECT_EQ(p1003.sequence, 1003);
  EXPECT_EQ(p1002.timestamp, 90000 + 2 * kFrame);
  // A duplicate maps to the same output.
  auto again = timeline.map(kA, 1003, 90000 + 3 * kFrame, t0 + 210ms);
  EXPECT_EQ(again.sequence, p1003.sequence);
  EXPECT_EQ(again.timestamp, p1003.timestamp);
  // The newest output packet is still 1003, received at t0 + 60 ms: a switch at t0 + 260 ms
  // continues from it, 200 ms later.
  auto b = timeline.map(kB, 5, 5, t0 + 260ms);
  EXPECT_EQ(b.sequence, 1004);
  EXPECT_EQ(b.timestamp, p1003.timestamp + 9600);
}

TEST(OutputTimeline, SequenceWrapsWithinASource) {
  OutputTimeline timeline;
  auto last = run(timeline, kA, 65533, 0, t0, 5);  // 65533, 65534, 65535, 0, 1
  EXPECT_EQ(last.sequence, 1);
  // A late 65535 after the wrap is older, not newer.
  auto late = timeline.map(kA, 65535, 2 * kFrame, t0 + 100ms);
  EXPECT_EQ(late.sequence, 65535);
  auto b = timeline.map(kB, 300, 0, t0 + 100ms);
  EXPECT_EQ(b.sequence, 2) << "continues after 1, not after the late 65535";
  EXPECT_EQ(b.timestamp, last.timestamp + static_cast<std::uint32_t>(48 * 20)) << "20 ms after 1";
}

TEST(OutputTimeline, SwitchAcrossTheSequenceWrap) {
  OutputTimeline timeline;
  auto last = run(timeline, kA, 65530, 1000, t0, 6);  // ends at 65535
  ASSERT_EQ(last.sequence, 65535);
  auto b0 = timeline.map(kB, 40000, 7, t0 + 120ms);
  auto b1 = timeline.map(kB, 40001, 7 + kFrame, t0 + 140ms);
  EXPECT_EQ(b0.sequence, 0);
  EXPECT_EQ(b1.sequence, 1);
  // B's input wraps too while its output does not.
  OutputTimeline other;
  run(other, kA, 100, 0, t0, 3);  // ends at 102
  auto c0 = other.map(kC, 65535, 0, t0 + 60ms);
  auto c1 = other.map(kC, 0, kFrame, t0 + 80ms);
  auto c2 = other.map(kC, 1, 2 * kFrame, t0 + 100ms);
  EXPECT_EQ(c0.sequence, 103);
  EXPECT_EQ(c1.sequence, 104);
  EXPECT_EQ(c2.sequence, 105);
  EXPECT_EQ(c2.timestamp, c0.timestamp + 2 * kFrame);
}

TEST(OutputTimeline, SeveralSwitchesStayContinuous) {
  OutputTimeline timeline;
  auto a = run(timeline, kA, 1, 0, t0, 50);
  auto b = run(timeline, kB, 30000, 777, t0 + 1000ms + 40ms, 50);
  EXPECT_EQ(b.sequence, a.sequence + 50);
  auto c = run(timeline, kC, 12, 4, t0 + 2000ms + 80ms, 50);
  EXPECT_EQ(c.sequence, b.sequence + 50);
  // Going back to A is a new source again: it follows C.
  // C's last packet was at t0 + 2080 ms + 49 * 20 ms = t0 + 3060 ms.
  auto a2 = timeline.map(kA, 51, 50 * kFrame, t0 + 3060ms + 1s);
  EXPECT_EQ(a2.sequence, static_cast<std::uint16_t>(c.sequence + 1));
  EXPECT_EQ(a2.timestamp, c.timestamp + 48000) << "1 s after C's last packet";
}

TEST(OutputTimeline, MapTimestampOnlyForTheCurrentSource) {
  OutputTimeline timeline;
  EXPECT_FALSE(timeline.map_timestamp(kA, 5).has_value()) << "nothing mapped yet";
  run(timeline, kA, 1, 70000, t0, 3);
  ASSERT_TRUE(timeline.map_timestamp(kA, 70000).has_value());
  EXPECT_EQ(*timeline.map_timestamp(kA, 70000), 70000u) << "the first source passes through";
  EXPECT_FALSE(timeline.map_timestamp(kB, 70000).has_value());

  auto b = timeline.map(kB, 9, 5000, t0 + 100ms);
  // An SR timestamp of B maps with B's offset, including times between packets and wrapping.
  ASSERT_TRUE(timeline.map_timestamp(kB, 5000).has_value());
  EXPECT_EQ(*timeline.map_timestamp(kB, 5000), b.timestamp);
  EXPECT_EQ(*timeline.map_timestamp(kB, 5000 + 123), b.timestamp + 123);
  EXPECT_EQ(*timeline.map_timestamp(kB, 4000), b.timestamp - 1000);
  EXPECT_FALSE(timeline.map_timestamp(kA, 70000).has_value()) << "A is no longer the source";
}

TEST(SpeakingDetector, LoudLevelsHoldForHalfASecond) {
  SpeakingDetector detector;
  EXPECT_FALSE(detector.speaking(t0));
  detector.on_level(SpeakingDetector::kThreshold + 1, t0);  // quieter than -50 dBov
  detector.on_level(127, t0);
  EXPECT_FALSE(detector.speaking(t0));
  detector.on_level(SpeakingDetector::kThreshold, t0);
  EXPECT_TRUE(detector.speaking(t0));
  EXPECT_TRUE(detector.speaking(t0 + 500ms));
  EXPECT_FALSE(detector.speaking(t0 + 501ms));
  detector.on_level(0, t0 + 400ms);
  detector.on_level(90, t0 + 800ms);  // quiet packets do not extend the hold
  EXPECT_TRUE(detector.speaking(t0 + 900ms));
  EXPECT_FALSE(detector.speaking(t0 + 901ms));
}

}  // namespace
}  // namespace podium::sfu

namespace podium::sfu {
namespace {

// A reordered early packet of a new source would map onto a sequence number the previous source
// already used (the same SRTP index, so the same GCM IV): it is flagged, later ones are not.
TEST(OutputTimelineGuard, EarlyPacketOfANewSourceIsFlaggedNotReusedAndTheGuardEnds) {
  using namespace std::chrono_literals;
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  OutputTimeline timeline;
  for (std::uint16_t i = 0; i < 5; ++i) {
    EXPECT_FALSE(
        timeline.map(1, static_cast<std::uint16_t>(100 + i), i * 960u, t0 + i * 20ms).reuses_index);
  }
  auto first = timeline.map(2, 21, 50000, t0 + 120ms);  // anchors at 105
  EXPECT_FALSE(first.reuses_index);
  EXPECT_EQ(first.sequence, 105);
  auto late = timeline.map(2, 20, 49040, t0 + 121ms);  // would be 104: A's last packet
  EXPECT_TRUE(late.reuses_index);
  auto older = timeline.map(2, 10, 40000, t0 + 122ms);  // would be 95
  EXPECT_TRUE(older.reuses_index);
  EXPECT_FALSE(timeline.map(2, 22, 50960, t0 + 140ms).reuses_index);
  // Far past the guard span the check ends (a long stream wraps around the old numbers).
  std::uint16_t seq = 22;
  for (int i = 0; i < 0x4001 + 10; ++i) {
    ++seq;
    EXPECT_FALSE(timeline.map(2, seq, 50960u + i * 960u, t0 + 160ms).reuses_index);
  }
}

}  // namespace
}  // namespace podium::sfu
