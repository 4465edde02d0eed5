// Known-answer tests for the SRTP key derivation and transforms, and the profile helpers.
#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "srtp/evp_crypto.hpp"
#include "srtp/key_derivation.hpp"
#include "srtp/profile.hpp"
#include "srtp/srtp.hpp"

namespace podium::sfu::srtp {
namespace {

std::vector<std::uint8_t> hex(std::string_view text) {
  std::vector<std::uint8_t> out;
  int high = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;  // spaces
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

template <typename Range>
std::vector<std::uint8_t> bytes(const Range& r, std::size_t n) {
  return std::vector<std::uint8_t>(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(n));
}

// RFC 3711 Appendix B.3.
const auto kB3MasterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const auto kB3MasterSalt = hex("0EC675AD498AFEEBB6960B3AABE6");

TEST(SrtpKeyDerivation, Rfc3711AppendixB3) {
  auto keys =
      derive_session_keys(Profile::aes128_cm_sha1_80, kB3MasterKey, kB3MasterSalt, KeyUse::srtp);
  ASSERT_TRUE(keys.ok()) << keys.error().text;
  EXPECT_EQ(bytes(keys->encryption_key, 16), hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(bytes(keys->salt, 14), hex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_EQ(bytes(keys->auth_key, 20), hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
}

TEST(SrtpKeyDerivation, Rfc3711AppendixB3PrfOutputBeyondTheKey) {
  // B.3 lists 32 bytes of PRF output for the auth key label (the key uses the first 20).
  std::vector<std::uint8_t> out(32);
  ASSERT_TRUE(derive_key(kB3MasterKey, kB3MasterSalt, KeyLabel::srtp_authentication, out).ok());
  EXPECT_EQ(out, hex("CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE"));
}

TEST(SrtpKeyDerivation, SrtcpLabelsWithTheB3MasterKey) {
  auto keys =
      derive_session_keys(Profile::aes128_cm_sha1_80, kB3MasterKey, kB3MasterSalt, KeyUse::srtcp);
  ASSERT_TRUE(keys.ok()) << keys.error().text;
  EXPECT_EQ(bytes(keys->encryption_key, 16), hex("4c1aa45a81f73d61c800bbb00fbb1eaa"));
  EXPECT_EQ(bytes(keys->auth_key, 20), hex("8d54534feb49ae8e7993a6bd0b844fc323a93dfd"));
  EXPECT_EQ(bytes(keys->salt, 14), hex("9581c7ad87b3e530bf3e4454a8b3"));
}

TEST(SrtpKeyDerivation, GcmUsesTheSameKdfWithA96BitSalt) {
  // RFC 7714 section 11: the 12-byte salt enters the PRF zero-padded, so the derived key equals
  // the AES-CM derivation from the same salt followed by two zero bytes.
  const auto salt12 = hex("0EC675AD498AFEEBB6960B3A");
  auto salt14 = salt12;
  salt14.push_back(0);
  salt14.push_back(0);
  auto gcm = derive_session_keys(Profile::aead_aes_128_gcm, kB3MasterKey, salt12, KeyUse::srtp);
  auto cm = derive_session_keys(Profile::aes128_cm_sha1_80, kB3MasterKey, salt14, KeyUse::srtp);
  ASSERT_TRUE(gcm.ok());
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ(gcm->encryption_key, cm->encryption_key);
  EXPECT_EQ(bytes(gcm->salt, 12), bytes(cm->salt, 12));
  EXPECT_EQ(gcm->salt_length(), 12u);
}

TEST(SrtpKeyDerivation, RejectsWrongLengths) {
  EXPECT_FALSE(
      derive_session_keys(Profile::aead_aes_128_gcm, kB3MasterKey, kB3MasterSalt, KeyUse::srtp)
          .ok());
  EXPECT_FALSE(
      derive_session_keys(Profile::aes128_cm_sha1_80, hex("00"), kB3MasterSalt, KeyUse::srtp).ok());
}

TEST(SrtpVectors, Rfc3711AppendixB2AesCmKeystream) {
  const auto key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
  detail::CtrCipher ctr;
  ASSERT_TRUE(ctr.init(std::span<const std::uint8_t, 16>(key.data(), 16)));
  std::array<std::uint8_t, 16> iv;
  const auto iv_bytes = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
  std::copy(iv_bytes.begin(), iv_bytes.end(), iv.begin());
  std::vector<std::uint8_t> stream(48, 0);
  ASSERT_TRUE(ctr.apply(iv, stream));
  EXPECT_EQ(stream, hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB"
                        "41E95B3BB0A2E8DD477901E4FCA894C0"));
}

// RFC 7714 section 16.1: AEAD_AES_128_GCM over an RTP packet, given the session key and salt.
const auto kGcmPlain =
    hex("8040f17b8041f8d35501a0b2"
        "47616c6c696120657374206f6d6e697320646976697361"  // "Gallia est omnis divisa"
        "20696e207061727465732074726573");                // " in partes tres"

TEST(SrtpVectors, Rfc7714Section16_1) {
  const auto& plain = kGcmPlain;
  ASSERT_EQ(plain.size(), 50u);
  SessionKeys keys;
  keys.profile = Profile::aead_aes_128_gcm;
  const auto key = hex("000102030405060708090a0b0c0d0e0f");
  const auto salt = hex("517569642070726f2071756f");
  std::copy(key.begin(), key.end(), keys.encryption_key.begin());
  std::copy(salt.begin(), salt.end(), keys.salt.begin());
  auto sender = SrtpSender::from_session_keys(keys);
  ASSERT_TRUE(sender.ok());

  std::vector<std::uint8_t> buffer = plain;
  buffer.resize(plain.size() + kGcmTagLength);
  auto n = sender->protect(buffer, plain.size());
  ASSERT_TRUE(n.ok()) << n.error().text;
  EXPECT_EQ(*n, 66u);
  EXPECT_EQ(buffer, hex("8040f17b8041f8d35501a0b2"
                        "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b"
                        "36de3adf8833899d7f27beb16a9152cf765ee4390cce"));

  auto receiver = SrtpReceiver::from_session_keys(keys);
  ASSERT_TRUE(receiver.ok());
  auto m = receiver->unprotect(buffer);
  ASSERT_TRUE(m.ok()) << m.error().text;
  EXPECT_EQ(std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + *m), plain);
}

TEST(SrtpProfile, IdsAndLengths) {
  EXPECT_EQ(protection_profile_id(Profile::aes128_cm_sha1_80), 0x0001);
  EXPECT_EQ(protection_profile_id(Profile::aead_aes_128_gcm), 0x0007);
  EXPECT_EQ(profile_from_id(0x0001), Profile::aes128_cm_sha1_80);
  EXPECT_EQ(profile_from_id(0x0007), Profile::aead_aes_128_gcm);
  EXPECT_FALSE(profile_from_id(0x0002).has_value());
  EXPECT_EQ(master_salt_length(Profile::aes128_cm_sha1_80), 14u);
  EXPECT_EQ(master_salt_length(Profile::aead_aes_128_gcm), 12u);
  EXPECT_EQ(keying_material_length(Profile::aes128_cm_sha1_80), 60u);
  EXPECT_EQ(keying_material_length(Profile::aead_aes_128_gcm), 56u);
  EXPECT_EQ(srtp_overhead(Profile::aead_aes_128_gcm), 16u);
  EXPECT_EQ(srtcp_overhead(Profile::aes128_cm_sha1_80), 14u);
}

TEST(SrtpProfile, SplitsKeyingMaterialByDtlsRole) {
  for (Profile profile : {Profile::aes128_cm_sha1_80, Profile::aead_aes_128_gcm}) {
    std::vector<std::uint8_t> material(keying_material_length(profile));
    for (std::size_t i = 0; i < material.size(); ++i) material[i] = static_cast<std::uint8_t>(i);
    const std::size_t salt_len = master_salt_length(profile);
    const std::vector<std::uint8_t> client_key(material.begin(), material.begin() + 16);
    const std::vector<std::uint8_t> server_key(material.begin() + 16, material.begin() + 32);
    const std::vector<std::uint8_t> client_salt(material.begin() + 32,
                                                material.begin() + 32 + salt_len);
    const std::vector<std::uint8_t> server_salt(material.begin() + 32 + salt_len, material.end());

    auto as_client = split_keying_material(profile, DtlsRole::client, material);
    ASSERT_TRUE(as_client.ok());
    auto vec = [](std::span<const std::uint8_t> s) {
      return std::vector<std::uint8_t>(s.begin(), s.end());
    };
    EXPECT_EQ(vec(as_client->local.key_bytes()), client_key);
    EXPECT_EQ(vec(as_client->local.salt_bytes()), client_salt);
    EXPECT_EQ(vec(as_client->remote.key_bytes()), server_key);
    EXPECT_EQ(vec(as_client->remote.salt_bytes()), server_salt);
    EXPECT_EQ(as_client->local.profile, profile);

    auto as_server = split_keying_material(profile, DtlsRole::server, material);
    ASSERT_TRUE(as_server.ok());
    EXPECT_EQ(vec(as_server->local.key_bytes()), server_key);
    EXPECT_EQ(vec(as_server->local.salt_bytes()), server_salt);
    EXPECT_EQ(vec(as_server->remote.key_bytes()), client_key);
    EXPECT_EQ(vec(as_server->remote.salt_bytes()), client_salt);

    material.pop_back();
    EXPECT_FALSE(split_keying_material(profile, DtlsRole::client, material).ok());
  }
}

TEST(SrtpIndex, EstimatesRolloverPerRfc3711) {
  // Forward across the wrap: ROC + 1.
  EXPECT_EQ(estimate_packet_index(0x0ffff, 0), 0x10000u);
  EXPECT_EQ(estimate_packet_index(0x1fff0, 0x0005), 0x20005u);
  // Late packet from before the wrap: ROC - 1.
  EXPECT_EQ(estimate_packet_index(0x10002, 0xfffe), 0x0fffeu);
  // Ordinary steps.
  EXPECT_EQ(estimate_packet_index(0x30100, 0x0105), 0x30105u);
  EXPECT_EQ(estimate_packet_index(0x30100, 0x00f0), 0x300f0u);
  // No cycle before ROC 0: a jump ahead instead.
  EXPECT_EQ(estimate_packet_index(5, 65000), 65000u);
  // Index space exhausted.
  EXPECT_FALSE(estimate_packet_index((std::uint64_t{0xffffffff} << 16) | 0xffff, 0).has_value());
}

}  // namespace
}  // namespace podium::sfu::srtp
