#include "podium/signaling/whip_http.hpp"

#include <gtest/gtest.h>

#include "podium/signaling/room_token.hpp"

namespace podium::signaling::whip {
namespace {

TEST(WhipHttp, ParsesEndpointAndSessionUrls) {
  auto target = parse_target("/whip/demo");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->endpoint, Endpoint::whip);
  EXPECT_EQ(target->room, "demo");
  EXPECT_EQ(target->session, "");

  target = parse_target("/whep/room-1/AbC_123");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->endpoint, Endpoint::whep);
  EXPECT_EQ(target->room, "room-1");
  EXPECT_EQ(target->session, "AbC_123");
  EXPECT_EQ(to_string(Endpoint::whip), "whip");
  EXPECT_EQ(to_string(Endpoint::whep), "whep");
}

TEST(WhipHttp, RefusesOtherPaths) {
  for (const char* path :
       {"/whip", "/whip/", "/whip//s", "/whip/demo/", "/whip/demo/s/", "/whip/demo/s/x",
        "/whipdemo", "/whips/demo", "/api/rooms", "/", "/WHIP/demo", ""}) {
    EXPECT_FALSE(parse_target(path)) << path;
  }
}

TEST(WhipHttp, KnowsWhichPathsAreItsOwn) {
  for (const char* path : {"/whip", "/whep", "/whip/", "/whip/demo", "/whep/demo/s/x"}) {
    EXPECT_TRUE(is_whip_path(path)) << path;
  }
  for (const char* path : {"/whipdemo", "/whe", "/", "/index.html", "/api/rooms", "/watch/x"}) {
    EXPECT_FALSE(is_whip_path(path)) << path;
  }
}

TEST(WhipHttp, SessionIdsAreUrlSafe) {
  EXPECT_TRUE(valid_session_id("a"));
  EXPECT_TRUE(valid_session_id("Zz09-_.~"));
  EXPECT_TRUE(valid_session_id(std::string(128, 'x')));
  EXPECT_FALSE(valid_session_id(std::string(129, 'x')));
  for (const char* id : {"", "a b", "a%20b", "a/b", "a?b", "a#b", "ä"}) {
    EXPECT_FALSE(valid_session_id(id)) << id;
  }
}

TEST(WhipHttp, MatchesMediaTypesWithParameters) {
  EXPECT_TRUE(has_media_type("application/sdp", "application/sdp"));
  EXPECT_TRUE(has_media_type("Application/SDP", "application/sdp"));
  EXPECT_TRUE(has_media_type("application/sdp; charset=utf-8", "application/sdp"));
  EXPECT_TRUE(has_media_type(" application/sdp ;x=y", "application/sdp"));
  EXPECT_TRUE(has_media_type("application/trickle-ice-sdpfrag", "application/trickle-ice-sdpfrag"));
  EXPECT_FALSE(has_media_type("", "application/sdp"));
  EXPECT_FALSE(has_media_type("application/sdpx", "application/sdp"));
  EXPECT_FALSE(has_media_type("application / sdp", "application/sdp"));
  EXPECT_FALSE(has_media_type("text/plain", "application/sdp"));
  EXPECT_FALSE(has_media_type("application/sdp", "application/trickle-ice-sdpfrag"));
}

TEST(WhipHttp, QuotesStringsAndEntityTags) {
  EXPECT_EQ(quoted_string("plain"), "\"plain\"");
  EXPECT_EQ(quoted_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted_string("no\r\nbreak\there"), "\"nobreak\there\"");
  EXPECT_EQ(etag_field("abc123"), "\"abc123\"");
}

TEST(WhipHttp, ReadsIfMatch) {
  EXPECT_EQ(if_match_tag(""), "");
  EXPECT_EQ(if_match_tag("  "), "");
  EXPECT_EQ(if_match_tag("*"), "*");
  EXPECT_EQ(if_match_tag(" * "), "*");
  EXPECT_EQ(if_match_tag("\"abc\""), "abc");
  EXPECT_EQ(if_match_tag("\"\""), "");
  EXPECT_EQ(if_match_tag("\"abc\", \"def\""), "abc");
  // If-Match compares strongly (RFC 9110 section 13.1.1): a weak tag is skipped, and alone is
  // passed on as sent, so that it matches nothing.
  EXPECT_EQ(if_match_tag("W/\"weak\", \"strong\""), "strong");
  EXPECT_EQ(if_match_tag("W/\"weak\""), "W/\"weak\"");
  // Clients that drop the quotes still get their tag through; broken lists go as sent.
  EXPECT_EQ(if_match_tag("abc"), "abc");
  EXPECT_EQ(if_match_tag("\"abc"), "\"abc");
  EXPECT_EQ(if_match_tag("\"abc\" \"def\""), "\"abc\" \"def\"");
}

TEST(WhipHttp, FormatsIceServerLinks) {
  std::vector<std::string> uris{
      "stun:127.0.0.1:3478",
      "turn:127.0.0.1:3478?transport=udp",
      "turn:[::1]:3478?transport=tcp",
      "turns:relay.example.com:5349?transport=tcp",
  };
  auto links = ice_server_links(uris, "1800000000:whep-s1", "c2VjcmV0+/=");
  ASSERT_EQ(links.size(), 4u);
  EXPECT_EQ(links[0], "<stun:127.0.0.1:3478>; rel=\"ice-server\"");
  EXPECT_EQ(links[1],
            "<turn:127.0.0.1:3478?transport=udp>; rel=\"ice-server\"; "
            "username=\"1800000000:whep-s1\"; credential=\"c2VjcmV0+/=\"; "
            "credential-type=\"password\"");
  EXPECT_EQ(links[2],
            "<turn:[::1]:3478?transport=tcp>; rel=\"ice-server\"; "
            "username=\"1800000000:whep-s1\"; credential=\"c2VjcmV0+/=\"; "
            "credential-type=\"password\"");
  EXPECT_TRUE(
      links[3].starts_with("<turns:relay.example.com:5349?transport=tcp>; "
                           "rel=\"ice-server\"; username="));
}

TEST(WhipHttp, SkipsUrisThatCannotBeLinks) {
  auto links =
      ice_server_links({"http://example.com/", "turn:a>b:3478", "stun:a\r\nX: y", ""}, "u", "c");
  EXPECT_TRUE(links.empty());
}

TEST(RoomTokenExpiry, ReadsTheExpiryField) {
  const auto expiry = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  auto token = mint_room_token("secret", "room-1", Role::presenter, expiry);
  EXPECT_EQ(room_token_expiry(token), expiry);
  EXPECT_FALSE(room_token_expiry(""));
  EXPECT_FALSE(room_token_expiry("v1.room.guest.12a.mac"));
  EXPECT_FALSE(room_token_expiry("v2.room.guest.12.mac"));
}

}  // namespace
}  // namespace podium::signaling::whip
