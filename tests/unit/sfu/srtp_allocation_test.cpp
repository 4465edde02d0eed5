// The packet paths allocate nothing: no operator new (podium_allocation_counter), and for
// AES-GCM nothing inside OpenSSL either (counted through CRYPTO_set_mem_functions).
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <ostream>
#include <random>
#include <vector>

#include "allocation_counter.hpp"
#include "srtp/profile.hpp"
#include "srtp/srtp.hpp"

namespace podium::sfu::srtp {

// gtest prints parameters with this (found by ADL) instead of their bytes.
inline void PrintTo(Profile profile, std::ostream* os) {
  *os << profile_name(profile);
}

namespace {

// OpenSSL's allocator can only be replaced before its first allocation, so this runs during
// static initialisation; if something allocated through OpenSSL earlier, the OpenSSL-level
// checks are skipped.
std::atomic<std::uint64_t> g_openssl_allocations{0};
void* counting_malloc(std::size_t n, const char*, int) {
  g_openssl_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
void* counting_realloc(void* p, std::size_t n, const char*, int) {
  g_openssl_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
void counting_free(void* p, const char*, int) {
  std::free(p);
}
const bool g_openssl_counting =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;

constexpr int kPackets = 2000;

MasterKey master_for(Profile profile) {
  MasterKey m;
  m.profile = profile;
  for (std::size_t i = 0; i < m.key.size(); ++i) m.key[i] = static_cast<std::uint8_t>(i * 7);
  for (std::size_t i = 0; i < master_salt_length(profile); ++i) {
    m.salt[i] = static_cast<std::uint8_t>(i * 13);
  }
  return m;
}

// A 112-byte Opus-like RTP packet: 12-byte header, one-word extension, 92-byte payload.
std::vector<std::uint8_t> opus_packet(std::uint16_t seq) {
  std::vector<std::uint8_t> p(112, 0x5a);
  const std::uint8_t header[] = {0x90,
                                 0x6f,
                                 static_cast<std::uint8_t>(seq >> 8),
                                 static_cast<std::uint8_t>(seq),
                                 0,
                                 0,
                                 0x03,
                                 0xc0,
                                 0xca,
                                 0xfe,
                                 0xba,
                                 0xbe,
                                 0xbe,
                                 0xde,
                                 0x00,
                                 0x01,
                                 0x10,
                                 0xff,
                                 0x00,
                                 0x00};
  std::copy(std::begin(header), std::end(header), p.begin());
  return p;
}

class SrtpAllocation : public ::testing::TestWithParam<Profile> {};

TEST_P(SrtpAllocation, ProtectAndUnprotectAllocateNothing) {
  const Profile profile = GetParam();
  const MasterKey master = master_for(profile);
  auto tx = SrtpSender::create(master);
  auto rx = SrtpReceiver::create(master);
  auto rtcp_tx = SrtcpSender::create(master);
  auto rtcp_rx = SrtcpReceiver::create(master);
  ASSERT_TRUE(tx.ok() && rx.ok() && rtcp_tx.ok() && rtcp_rx.ok());

  // Prepared outside the counted region; the sequence numbers cross 65535 -> 0.
  std::vector<std::vector<std::uint8_t>> packets;
  std::vector<std::vector<std::uint8_t>> reports;
  for (int i = 0; i < kPackets; ++i) {
    auto p = opus_packet(static_cast<std::uint16_t>(65000 + i));
    p.resize(p.size() + srtp_overhead(profile));
    packets.push_back(std::move(p));
    std::vector<std::uint8_t> rr(32 + srtcp_overhead(profile), 0x11);
    const std::uint8_t header[] = {0x81, 201, 0, 7, 0xca, 0xfe, 0xba, 0xbe};
    std::copy(std::begin(header), std::end(header), rr.begin());
    reports.push_back(std::move(rr));
  }

  const std::uint64_t openssl_before = g_openssl_allocations.load();
  std::uint64_t operator_new = 0;
  bool all_ok = true;
  {
    podium::testing::CountAllocations count;
    for (auto& p : packets) {
      auto n = tx->protect(p, 112);
      auto m = n.ok() ? rx->unprotect(std::span(p).first(*n)) : n;
      all_ok = all_ok && m.ok() && *m == 112;
    }
    for (auto& r : reports) {
      auto n = rtcp_tx->protect(r, 32);
      auto m = n.ok() ? rtcp_rx->unprotect(std::span(r).first(*n)) : n;
      all_ok = all_ok && m.ok() && *m == 32;
    }
    operator_new = count.count();
  }
  const std::uint64_t openssl = g_openssl_allocations.load() - openssl_before;
  EXPECT_TRUE(all_ok);
  EXPECT_EQ(operator_new, 0u);
  if (!g_openssl_counting) GTEST_SKIP() << "OpenSSL allocated before the counter was installed";
  if (profile == Profile::aead_aes_128_gcm) {
    EXPECT_EQ(openssl, 0u);
  } else {
    // OpenSSL 3.0 duplicates the SHA-1 state on EVP_MD_CTX_copy_ex (see evp_crypto.hpp): two
    // copies per HMAC, one HMAC per protect or unprotect. Newer OpenSSL may do fewer.
    EXPECT_LE(openssl, 2u * 2u * 2u * kPackets);
    RecordProperty("openssl_allocations_per_packet_op",
                   std::to_string(static_cast<double>(openssl) / (4.0 * kPackets)));
  }
}

INSTANTIATE_TEST_SUITE_P(Srtp, SrtpAllocation,
                         ::testing::Values(Profile::aes128_cm_sha1_80, Profile::aead_aes_128_gcm),
                         [](const auto& info) {
                           return info.param == Profile::aead_aes_128_gcm ? "AeadAes128Gcm"
                                                                          : "Aes128CmSha1_80";
                         });

}  // namespace
}  // namespace podium::sfu::srtp
