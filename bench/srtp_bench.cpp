// Per-guest SRTP protect cost on the fan-out path: one 112-byte Opus RTP packet (12-byte header,
// one-word header extension, 92-byte payload) protected for each of 1,000 sessions in turn, so
// every packet meets a different session's keys, as in the SFU. Compares the EVP transforms
// (SrtpSender) with libsrtp (LibsrtpSession), both profiles, and the HMAC-SHA1 strategies
// available through EVP. Prints ns per packet of this thread's CPU time (so other load on a
// shared machine inflates it less than wall time would); the fastest of several runs counts.
//
// Usage: srtp_bench [sessions] [rounds]
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <vector>

#include "srtp/libsrtp_session.hpp"
#include "srtp/srtp.hpp"

using namespace podium::sfu::srtp;

namespace {

constexpr std::size_t kPacketLength = 112;
constexpr int kRuns = 7;

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

std::array<std::uint8_t, kPacketLength> opus_packet() {
  std::array<std::uint8_t, kPacketLength> p;
  p.fill(0x5a);
  const std::uint8_t header[] = {0x90, 0x6f, 0x12, 0x34, 0, 0, 0x03, 0xc0, 0xca, 0xfe,
                                 0xba, 0xbe, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0,    0};
  std::memcpy(p.data(), header, sizeof header);
  return p;
}

MasterKey master_for(Profile profile, int session) {
  MasterKey m;
  m.profile = profile;
  for (std::size_t i = 0; i < m.key.size(); ++i) m.key[i] = static_cast<std::uint8_t>(session + i);
  for (std::size_t i = 0; i < master_salt_length(profile); ++i) {
    m.salt[i] = static_cast<std::uint8_t>(session * 3 + i);
  }
  return m;
}

// Best-of-kRuns ns per call of step(session, round) over sessions x rounds.
double measure(int sessions, int rounds, const std::function<bool(int, int)>& step) {
  for (int s = 0; s < sessions; ++s) {
    if (!step(s, 0)) return -1;  // warm-up: first packet of each stream
  }
  double best = 1e300;
  int round = 1;
  for (int run = 0; run < kRuns; ++run) {
    const double t0 = thread_cpu_ns();
    for (int r = 0; r < rounds; ++r, ++round) {
      for (int s = 0; s < sessions; ++s) {
        if (!step(s, round)) return -1;
      }
    }
    const double t1 = thread_cpu_ns();
    best = std::min(best, (t1 - t0) / (static_cast<double>(sessions) * rounds));
  }
  return best;
}

template <typename Session>
double measure_protect(std::vector<Session>& sessions, int rounds) {
  const auto packet = opus_packet();
  std::array<std::uint8_t, kPacketLength + 256> buffer;
  return measure(static_cast<int>(sessions.size()), rounds, [&](int s, int round) {
    std::memcpy(buffer.data(), packet.data(), kPacketLength);
    buffer[2] = static_cast<std::uint8_t>(round >> 8);
    buffer[3] = static_cast<std::uint8_t>(round);
    return sessions[s].protect(buffer, kPacketLength).ok();
  });
}

void protect_table(int count, int rounds) {
  std::printf("SRTP protect, %zu-byte RTP packet, cycling over %d sessions (ns/packet)\n",
              kPacketLength, count);
  std::printf("  %-28s %10s %10s\n", "profile", "EVP", "libsrtp");
  for (Profile profile : {Profile::aead_aes_128_gcm, Profile::aes128_cm_sha1_80}) {
    std::vector<SrtpSender> ours;
    std::vector<LibsrtpSession> lib;
    for (int s = 0; s < count; ++s) {
      auto sender = SrtpSender::create(master_for(profile, s));
      auto session =
          LibsrtpSession::create(master_for(profile, s), LibsrtpSession::Direction::outbound);
      if (!sender || !session) {
        std::fprintf(stderr, "session setup failed\n");
        std::exit(1);
      }
      ours.push_back(std::move(*sender));
      lib.push_back(std::move(*session));
    }
    const double evp_ns = measure_protect(ours, rounds);
    const double lib_ns = measure_protect(lib, rounds);
    std::printf("  %-28s %10.0f %10.0f\n", profile_name(profile), evp_ns, lib_ns);
  }
}

// HMAC-SHA1-80 over the packet and ROC, by way of each EVP route, one key per session.
void hmac_table(int count, int rounds) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  char digest_name[] = "SHA1";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                         OSSL_PARAM_construct_end()};
  std::vector<EVP_MAC_CTX*> keyed(count);
  std::vector<EVP_MD_CTX*> inner(count), outer(count), work(count);
  for (int s = 0; s < count; ++s) {
    std::uint8_t key[20];
    for (int i = 0; i < 20; ++i) key[i] = static_cast<std::uint8_t>(s + i);
    keyed[s] = EVP_MAC_CTX_new(mac);
    EVP_MAC_init(keyed[s], key, sizeof key, params);
    std::uint8_t ipad[64], opad[64];
    for (int i = 0; i < 64; ++i) {
      ipad[i] = static_cast<std::uint8_t>((i < 20 ? key[i] : 0) ^ 0x36);
      opad[i] = static_cast<std::uint8_t>((i < 20 ? key[i] : 0) ^ 0x5c);
    }
    inner[s] = EVP_MD_CTX_new();
    outer[s] = EVP_MD_CTX_new();
    work[s] = EVP_MD_CTX_new();
    EVP_DigestInit_ex2(inner[s], sha1, nullptr);
    EVP_DigestUpdate(inner[s], ipad, sizeof ipad);
    EVP_DigestInit_ex2(outer[s], sha1, nullptr);
    EVP_DigestUpdate(outer[s], opad, sizeof opad);
    EVP_DigestInit_ex2(work[s], sha1, nullptr);
  }
  // The authenticated portion: packet || ROC.
  std::array<std::uint8_t, kPacketLength + 4> authenticated{};
  const auto packet = opus_packet();
  std::memcpy(authenticated.data(), packet.data(), kPacketLength);
  std::uint8_t out[64];
  std::printf("HMAC-SHA1 of a %zu-byte packet + ROC through EVP (ns/packet)\n", kPacketLength + 4);
  const double dup = measure(count, rounds, [&](int s, int) {
    EVP_MAC_CTX* c = EVP_MAC_CTX_dup(keyed[s]);
    std::size_t n = 0;
    const bool ok = c && EVP_MAC_update(c, authenticated.data(), authenticated.size()) &&
                    EVP_MAC_final(c, out, &n, sizeof out);
    EVP_MAC_CTX_free(c);
    return ok;
  });
  const double reinit = measure(count, rounds, [&](int s, int) {
    std::size_t n = 0;
    return EVP_MAC_init(keyed[s], nullptr, 0, nullptr) &&
           EVP_MAC_update(keyed[s], authenticated.data(), authenticated.size()) &&
           EVP_MAC_final(keyed[s], out, &n, sizeof out);
  });
  const double copy = measure(count, rounds, [&](int s, int) {
    unsigned n = 0;
    return EVP_MD_CTX_copy_ex(work[s], inner[s]) &&
           EVP_DigestUpdate(work[s], authenticated.data(), authenticated.size()) &&
           EVP_DigestFinal_ex(work[s], out, &n) && EVP_MD_CTX_copy_ex(work[s], outer[s]) &&
           EVP_DigestUpdate(work[s], out, 20) && EVP_DigestFinal_ex(work[s], out, &n);
  });
  std::printf("  %-44s %6.0f\n", "EVP_MAC_CTX_dup of a keyed template", dup);
  std::printf("  %-44s %6.0f\n", "EVP_MAC_init(NULL key) on a keyed context", reinit);
  std::printf("  %-44s %6.0f  (used)\n", "EVP_MD_CTX_copy_ex of ipad/opad states", copy);
  for (int s = 0; s < count; ++s) {
    EVP_MAC_CTX_free(keyed[s]);
    EVP_MD_CTX_free(inner[s]);
    EVP_MD_CTX_free(outer[s]);
    EVP_MD_CTX_free(work[s]);
  }
  EVP_MAC_free(mac);
  EVP_MD_free(sha1);
}

}  // namespace

int main(int argc, char** argv) {
  const int sessions = argc > 1 ? std::max(1, std::atoi(argv[1])) : 1000;
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 100;
  protect_table(sessions, rounds);
  hmac_table(sessions, rounds);
  return 0;
}
