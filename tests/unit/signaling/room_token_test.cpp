#include "podium/signaling/room_token.hpp"

#include <gtest/gtest.h>

namespace podium::signaling {
namespace {

using namespace std::chrono_literals;
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

TEST(RoomToken, MintedTokenVerifies) {
  auto token = mint_room_token("secret", "room-1", Role::presenter, kNow + 2h);
  EXPECT_TRUE(token.starts_with("v1.room-1.presenter.1800007200."));
  EXPECT_EQ(verify_room_token("secret", token, "room-1", Role::presenter, kNow), TokenCheck::ok);
  // A presenter may also watch; a guest may not present.
  EXPECT_EQ(verify_room_token("secret", token, "room-1", Role::guest, kNow), TokenCheck::ok);
  auto guest = mint_room_token("secret", "room-1", Role::guest, kNow + 2h);
  EXPECT_EQ(verify_room_token("secret", guest, "room-1", Role::presenter, kNow),
            TokenCheck::wrong_role);
}

TEST(RoomToken, RefusesWhatIsWrong) {
  auto token = mint_room_token("secret", "room-1", Role::guest, kNow + 1h);
  EXPECT_EQ(verify_room_token("other", token, "room-1", Role::guest, kNow),
            TokenCheck::bad_signature);
  EXPECT_EQ(verify_room_token("secret", token, "room-2", Role::guest, kNow),
            TokenCheck::wrong_room);
  EXPECT_EQ(verify_room_token("secret", token, "room-1", Role::guest, kNow + 2h),
            TokenCheck::expired);
  std::string tampered = token;
  tampered.replace(tampered.find("guest"), 5, "presenter");
  EXPECT_EQ(verify_room_token("secret", tampered, "room-1", Role::presenter, kNow),
            TokenCheck::bad_signature);
  for (const char* bad : {"", "v1", "v1.room.guest.123", "v2.room-1.guest.1.x",
                          "v1.room 1.guest.1.x", "v1.room-1.admin.1.x", "v1.room-1.guest.12a.x"}) {
    EXPECT_EQ(verify_room_token("secret", bad, "room-1", Role::guest, kNow), TokenCheck::malformed)
        << bad;
  }
  EXPECT_EQ(verify_room_token("secret", std::string(600, 'a'), "room-1", Role::guest, kNow),
            TokenCheck::malformed);
}

// Found by http_signaling_fuzzer: an expiry past what system_clock holds (year 2262) overflowed
// converting to nanoseconds. Such a field, or a negative one, is malformed, signed or not.
TEST(RoomToken, ExpiryOutsideTheClocksRangeIsMalformed) {
  for (const char* expiry : {"9999999999", "9223372036854775807", "-1"}) {
    std::string token = std::string("v1.room-1.guest.") + expiry + ".x";
    EXPECT_EQ(verify_room_token("secret", token, "room-1", Role::guest, kNow),
              TokenCheck::malformed)
        << expiry;
    EXPECT_FALSE(room_token_expiry(token).has_value()) << expiry;
  }
  auto latest =
      mint_room_token("secret", "room-1", Role::guest,
                      std::chrono::system_clock::time_point(std::chrono::seconds(9'000'000'000)));
  EXPECT_EQ(verify_room_token("secret", latest, "room-1", Role::guest, kNow), TokenCheck::ok);
  EXPECT_TRUE(room_token_expiry(latest).has_value());
}

TEST(RoomToken, RoomNames) {
  EXPECT_TRUE(valid_room_name("Abc_09-x"));
  EXPECT_TRUE(valid_room_name(std::string(64, 'a')));
  EXPECT_FALSE(valid_room_name(""));
  EXPECT_FALSE(valid_room_name(std::string(65, 'a')));
  EXPECT_FALSE(valid_room_name("a.b"));
  EXPECT_FALSE(valid_room_name("a/b"));
}

}  // namespace
}  // namespace podium::signaling
