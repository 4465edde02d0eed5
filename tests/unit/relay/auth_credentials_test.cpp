#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "auth/credentials.hpp"

namespace {

using podium::relay::auth::CredentialKind;
using podium::relay::auth::CredentialStore;
using podium::relay::auth::Key;
using podium::relay::auth::long_term_key;
using podium::relay::auth::LookupStatus;
using podium::relay::auth::mint_rest_credential;
using podium::relay::auth::rest_password;

using Clock = std::chrono::system_clock;
Clock::time_point at(std::int64_t unix_seconds) {
  return Clock::time_point(std::chrono::seconds(unix_seconds));
}

std::string hex(const Key& key) {
  std::string out;
  for (auto byte : key) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", byte);
    out += buf;
  }
  return out;
}

TEST(AuthLongTermKey, KnownAnswer) {
  // printf 'user:realm:pass' | md5sum
  EXPECT_EQ(hex(long_term_key("user", "realm", "pass")), "8493fbc53ba582fb4c044c456bdc40eb");
}

TEST(AuthRestPassword, KnownAnswer) {
  // printf '%s' '1700000000:alice' | openssl dgst -sha1 -hmac topsecret -binary | base64
  EXPECT_EQ(rest_password("topsecret", "1700000000:alice"), "ffEWpTeo0FiPymnDORcgko9gQy8=");
  EXPECT_EQ(rest_password("topsecret", "1700000000"), "NIfXP1bMe/nK6uc5Squl6mpgVDA=");
}

TEST(AuthCredentialStore, StaticUser) {
  CredentialStore store("podium", {{"alice", "s3cret"}, {"bob", "hunter2"}}, {});
  const auto result = store.lookup("alice", "podium", at(0));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.credential.kind, CredentialKind::static_user);
  EXPECT_EQ(result.credential.user, "alice");
  EXPECT_EQ(result.credential.expiry, 0);
  // printf 'alice:podium:s3cret' | md5sum
  EXPECT_EQ(hex(result.credential.key), "7275fc667ec5729eeeee3e9e6d478ac9");
  EXPECT_EQ(store.lookup("carol", "podium", at(0)).status, LookupStatus::unknown_user);
  EXPECT_EQ(store.static_user_count(), 2u);
  EXPECT_FALSE(store.rest_enabled());
}

TEST(AuthCredentialStore, StaticUserOtherRealmDerivesKey) {
  CredentialStore store("podium", {{"user", "pass"}}, {});
  const auto result = store.lookup("user", "realm", at(0));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(hex(result.credential.key), "8493fbc53ba582fb4c044c456bdc40eb");
}

TEST(AuthCredentialStore, FromRelayConfig) {
  podium::config::RelayConfig relay;
  relay.realm = "realm";
  relay.users = {{"user", "pass"}};
  relay.auth_secrets = {"topsecret"};
  CredentialStore store(relay);
  EXPECT_EQ(store.realm(), "realm");
  EXPECT_TRUE(store.rest_enabled());
  const auto result = store.lookup("user", "realm", at(0));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(hex(result.credential.key), "8493fbc53ba582fb4c044c456bdc40eb");
}

TEST(AuthCredentialStore, StaticUserKeyCheck) {
  CredentialStore store("podium", {{"alice", "s3cret"}}, {});
  const Key good = long_term_key("alice", "podium", "s3cret");
  EXPECT_TRUE(store.lookup("alice", "podium", at(0), [&](const Key& k) { return k == good; }));
  EXPECT_EQ(store.lookup("alice", "podium", at(0), [](const Key&) { return false; }).status,
            LookupStatus::rejected);
}

TEST(AuthCredentialStore, RestRoundTrip) {
  CredentialStore store("podium", {}, {"topsecret"});
  const auto minted = mint_rest_credential("topsecret", "alice", std::chrono::hours(1), at(1000));
  EXPECT_EQ(minted.username, "4600:alice");
  EXPECT_EQ(minted.ttl, std::chrono::hours(1));
  EXPECT_EQ(minted.password, rest_password("topsecret", "4600:alice"));

  const Key expected = long_term_key(minted.username, "podium", minted.password);
  const auto result = store.lookup(minted.username, "podium", at(2000),
                                   [&](const Key& k) { return k == expected; });
  ASSERT_TRUE(result.ok()) << to_string(result.status);
  EXPECT_EQ(result.credential.kind, CredentialKind::rest);
  EXPECT_EQ(result.credential.user, "alice");
  EXPECT_EQ(result.credential.expiry, 4600);
  EXPECT_EQ(result.credential.key, expected);
}

TEST(AuthCredentialStore, RestKnownAnswerKey) {
  CredentialStore store("podium", {}, {"topsecret"});
  const auto result = store.lookup("1700000000:alice", "podium", at(1700000000));
  ASSERT_TRUE(result.ok());
  // MD5("1700000000:alice:podium:" + base64(HMAC-SHA1("topsecret", "1700000000:alice")))
  EXPECT_EQ(hex(result.credential.key), "adfdcdef78e206c2ab7de37c879bad91");
}

TEST(AuthCredentialStore, RestBareExpiry) {
  CredentialStore store("podium", {}, {"topsecret"});
  const auto minted = mint_rest_credential("topsecret", "", std::chrono::seconds(60), at(100));
  EXPECT_EQ(minted.username, "160");
  const Key expected = long_term_key("160", "podium", minted.password);
  const auto result =
      store.lookup("160", "podium", at(100), [&](const Key& k) { return k == expected; });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.credential.user, "160");
}

TEST(AuthCredentialStore, RestRotationSecondSecretVerifies) {
  // The credential was minted with the old secret, which is now listed second.
  CredentialStore store("podium", {}, {"new-secret", "old-secret"});
  const auto minted = mint_rest_credential("old-secret", "bob", std::chrono::hours(1), at(0));
  const Key expected = long_term_key(minted.username, "podium", minted.password);
  int tried = 0;
  const auto result = store.lookup(minted.username, "podium", at(10), [&](const Key& k) {
    ++tried;
    return k == expected;
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(tried, 2);
  EXPECT_EQ(result.credential.key, expected);
  EXPECT_EQ(result.credential.user, "bob");

  // A secret that is not configured any more verifies nothing.
  const auto foreign = mint_rest_credential("gone", "bob", std::chrono::hours(1), at(0));
  const Key foreign_key = long_term_key(foreign.username, "podium", foreign.password);
  EXPECT_EQ(store
                .lookup(foreign.username, "podium", at(10),
                        [&](const Key& k) { return k == foreign_key; })
                .status,
            LookupStatus::rejected);
}

TEST(AuthCredentialStore, RestExpiry) {
  CredentialStore store("podium", {}, {"topsecret"});
  EXPECT_TRUE(store.lookup("1000:alice", "podium", at(999)).ok());
  EXPECT_TRUE(store.lookup("1000:alice", "podium", at(1000)).ok());
  EXPECT_EQ(store.lookup("1000:alice", "podium", at(1001)).status, LookupStatus::expired);
  EXPECT_EQ(store.lookup("1000", "podium", at(1001)).status, LookupStatus::expired);
}

TEST(AuthCredentialStore, MalformedUsernames) {
  CredentialStore store("podium", {}, {"topsecret"});
  EXPECT_EQ(store.lookup("", "podium", at(0)).status, LookupStatus::malformed);
  EXPECT_EQ(store.lookup("1000:", "podium", at(0)).status, LookupStatus::malformed);
  EXPECT_EQ(store.lookup("99999999999999999999:alice", "podium", at(0)).status,
            LookupStatus::malformed);
  EXPECT_EQ(store.lookup(std::string(600, '1'), "podium", at(0)).status, LookupStatus::malformed);
  // Not in the EXPIRY[:USER] form at all: simply an unknown user.
  EXPECT_EQ(store.lookup("alice", "podium", at(0)).status, LookupStatus::unknown_user);
  EXPECT_EQ(store.lookup("12x:alice", "podium", at(0)).status, LookupStatus::unknown_user);
  EXPECT_EQ(store.lookup(":alice", "podium", at(0)).status, LookupStatus::unknown_user);
}

TEST(AuthCredentialStore, RestWithoutSecretsIsUnknown) {
  CredentialStore store("podium", {{"alice", "x"}}, {});
  EXPECT_EQ(store.lookup("1000:alice", "podium", at(0)).status, LookupStatus::unknown_user);
}

TEST(AuthCredentialStore, StaticUserWinsOverRestForm) {
  CredentialStore store("podium", {{"1000:alice", "static-pass"}}, {"topsecret"});
  const auto result = store.lookup("1000:alice", "podium", at(5000));  // REST form would be expired
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.credential.kind, CredentialKind::static_user);
  EXPECT_EQ(result.credential.key, long_term_key("1000:alice", "podium", "static-pass"));
}

TEST(AuthCredentialStore, EmptySecretRefused) {
  EXPECT_THROW(CredentialStore("podium", {}, {"ok", ""}), std::invalid_argument);
  EXPECT_THROW(mint_rest_credential("", "alice", std::chrono::seconds(1), at(0)),
               std::invalid_argument);
}

TEST(AuthCredentialStore, StatusNames) {
  EXPECT_EQ(to_string(LookupStatus::ok), "ok");
  EXPECT_EQ(to_string(LookupStatus::unknown_user), "unknown_user");
  EXPECT_EQ(to_string(LookupStatus::expired), "expired");
  EXPECT_EQ(to_string(LookupStatus::malformed), "malformed");
  EXPECT_EQ(to_string(LookupStatus::rejected), "rejected");
}

}  // namespace
