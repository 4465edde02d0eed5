// TURN REST credentials and the ICE server URIs signaling hands to browsers.
#include "podium/relay/rest_credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

namespace podium::relay {
namespace {

config::RelayConfig relay(const std::string& yaml) {
  return *config::load_string(yaml, "test.yaml").relay;
}

TEST(IceServerUris, ConcreteListenersAreAdvertisedAsTheyAre) {
  auto uris = ice_server_uris(
      relay("relay:\n  listen: [udp://192.0.2.7:3478, tcp://192.0.2.7:3478]\n  users: {a: b}\n"));
  EXPECT_EQ(uris,
            (std::vector<std::string>{"stun:192.0.2.7:3478", "turn:192.0.2.7:3478?transport=udp",
                                      "turn:192.0.2.7:3478?transport=tcp"}));
}

TEST(IceServerUris, WildcardListenersUseRelayIpNeverTheWildcard) {
  auto uris = ice_server_uris(
      relay("relay:\n  listen: [udp://0.0.0.0:3478]\n  relay_ip: 198.51.100.4\n  users: {a: b}\n"));
  EXPECT_EQ(uris, (std::vector<std::string>{"stun:198.51.100.4:3478",
                                            "turn:198.51.100.4:3478?transport=udp"}));
}

TEST(IceServerUris, ExternalIpWinsAndIpv6IsBracketed) {
  auto uris = ice_server_uris(
      relay("relay:\n  listen:\n    - udp://0.0.0.0:3478\n    - 'tcp://[::]:3478'\n"
            "  relay_ip: 10.0.0.5\n  external_ip: '2001:db8::1'\n  users: {a: b}\n"));
  EXPECT_EQ(uris, (std::vector<std::string>{"stun:[2001:db8::1]:3478",
                                            "turn:[2001:db8::1]:3478?transport=udp",
                                            "turn:[2001:db8::1]:3478?transport=tcp"}));
}

TEST(MintIceCredential, IsTheRestApiHmacOverExpiryColonUser) {
  auto credential = mint_ice_credential("s3cret", "alice", std::chrono::seconds(3600));
  auto colon = credential.username.find(':');
  ASSERT_NE(colon, std::string::npos);
  EXPECT_EQ(credential.username.substr(colon + 1), "alice");
  const auto expiry = std::stoll(credential.username.substr(0, colon));
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_NEAR(static_cast<double>(expiry), static_cast<double>(now + 3600), 5);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha1(), "s3cret", 6, reinterpret_cast<const unsigned char*>(credential.username.data()),
       credential.username.size(), mac, &length);
  unsigned char encoded[64];
  const int n = EVP_EncodeBlock(encoded, mac, static_cast<int>(length));
  EXPECT_EQ(credential.credential, std::string(reinterpret_cast<char*>(encoded), n));
}

}  // namespace
}  // namespace podium::relay
