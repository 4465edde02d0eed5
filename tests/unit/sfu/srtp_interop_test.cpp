// Property tests: the EVP transforms against libsrtp (the reference), both profiles, both
// directions, random headers (CSRCs, extensions) and payload sizes, sequence numbers crossing
// 65535 -> 0 several times.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <vector>

#include "srtp/libsrtp_session.hpp"
#include "srtp/profile.hpp"
#include "srtp/srtp.hpp"

namespace podium::sfu::srtp {

// gtest prints parameters with this (found by ADL) instead of their bytes.
inline void PrintTo(Profile profile, std::ostream* os) {
  *os << profile_name(profile);
}

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kSlack = 256;  // libsrtp may write up to SRTP_MAX_TRAILER_LEN past the end

MasterKey random_master(Profile profile, std::mt19937_64& rng) {
  MasterKey m;
  m.profile = profile;
  for (auto& b : m.key) b = static_cast<std::uint8_t>(rng());
  for (auto& b : m.salt) b = static_cast<std::uint8_t>(rng());
  for (std::size_t i = master_salt_length(profile); i < m.salt.size(); ++i) m.salt[i] = 0;
  return m;
}

Bytes random_rtp(std::mt19937_64& rng, std::uint32_t ssrc, std::uint16_t seq) {
  Bytes p;
  const unsigned csrcs = rng() % 2 ? 0 : rng() % 16;
  const bool extension = rng() % 2;
  const bool padding_bit = rng() % 8 == 0;
  p.push_back(
      static_cast<std::uint8_t>(0x80 | (padding_bit ? 0x20 : 0) | (extension ? 0x10 : 0) | csrcs));
  p.push_back(static_cast<std::uint8_t>(rng() % 256));  // marker + payload type
  p.push_back(static_cast<std::uint8_t>(seq >> 8));
  p.push_back(static_cast<std::uint8_t>(seq));
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<std::uint8_t>(rng()));  // timestamp
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<std::uint8_t>(ssrc >> (24 - 8 * i)));
  for (unsigned i = 0; i < 4 * csrcs; ++i) p.push_back(static_cast<std::uint8_t>(rng()));
  if (extension) {
    static constexpr std::uint16_t kProfiles[] = {0xbede, 0x1000, 0x1234};
    const std::uint16_t profile = kProfiles[rng() % 3];
    const std::uint16_t words = static_cast<std::uint16_t>(rng() % 8);
    p.push_back(static_cast<std::uint8_t>(profile >> 8));
    p.push_back(static_cast<std::uint8_t>(profile));
    p.push_back(0);
    p.push_back(static_cast<std::uint8_t>(words));
    for (unsigned i = 0; i < 4u * words; ++i) p.push_back(static_cast<std::uint8_t>(rng()));
  }
  const std::size_t payload = 1 + rng() % 1200;
  for (std::size_t i = 0; i < payload; ++i) p.push_back(static_cast<std::uint8_t>(rng()));
  return p;
}

Bytes random_rtcp(std::mt19937_64& rng, std::uint32_t ssrc) {
  const std::size_t words = 2 + rng() % 300;  // total length 4 * (words + 1)
  Bytes p;
  p.push_back(static_cast<std::uint8_t>(0x80 | rng() % 32));
  p.push_back(static_cast<std::uint8_t>(200 + rng() % 7));
  p.push_back(static_cast<std::uint8_t>(words >> 8));
  p.push_back(static_cast<std::uint8_t>(words));
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<std::uint8_t>(ssrc >> (24 - 8 * i)));
  while (p.size() < 4 * (words + 1)) p.push_back(static_cast<std::uint8_t>(rng()));
  return p;
}

// buffer = packet followed by room for the trailer.
Bytes with_room(const Bytes& packet) {
  Bytes b = packet;
  b.resize(packet.size() + kSlack);
  return b;
}

Bytes prefix(const Bytes& b, std::size_t n) {
  return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
}

class SrtpInterop : public ::testing::TestWithParam<Profile> {};

TEST_P(SrtpInterop, RtpBothDirectionsAcrossRollover) {
  const Profile profile = GetParam();
  std::mt19937_64 rng(0x5eed + static_cast<int>(profile));
  const MasterKey master = random_master(profile, rng);
  const std::size_t tag = srtp_overhead(profile);

  auto ours_tx = SrtpSender::create(master);
  auto ours_rx = SrtpReceiver::create(master);
  auto lib_tx = LibsrtpSession::create(master, LibsrtpSession::Direction::outbound);
  auto lib_rx = LibsrtpSession::create(master, LibsrtpSession::Direction::inbound);
  ASSERT_TRUE(ours_tx.ok() && ours_rx.ok() && lib_tx.ok() && lib_rx.ok());

  // Three SSRCs interleaved; steps of 1..64 over 6000 packets carry each stream through one or
  // two sequence number wraps, starting just below the first.
  struct Stream {
    std::uint32_t ssrc;
    std::uint64_t index;
    bool started;
  };
  std::vector<Stream> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back({static_cast<std::uint32_t>(rng()), 65536 - 1 - rng() % 2000, false});
  }
  int tampered = 0;
  for (int n = 0; n < 6000; ++n) {
    Stream& s = streams[rng() % streams.size()];
    if (s.started) s.index += 1 + rng() % 64;
    s.started = true;
    const auto seq = static_cast<std::uint16_t>(s.index);
    const Bytes rtp = random_rtp(rng, s.ssrc, seq);

    // Ours protects into a buffer with exactly the room for the tag.
    Bytes ours(rtp.size() + tag);
    std::copy(rtp.begin(), rtp.end(), ours.begin());
    auto ours_len = ours_tx->protect(ours, rtp.size());
    ASSERT_TRUE(ours_len.ok()) << ours_len.error().text;
    ASSERT_EQ(*ours_len, rtp.size() + tag);
    ASSERT_EQ(ours_tx->rollover_counter(s.ssrc), static_cast<std::uint32_t>(s.index >> 16));

    // libsrtp's protect of the same packet is byte for byte the same.
    Bytes lib = with_room(rtp);
    auto lib_len = lib_tx->protect(lib, rtp.size());
    ASSERT_TRUE(lib_len.ok()) << lib_len.error().text;
    ASSERT_EQ(prefix(lib, *lib_len), ours) << "packet " << n;

    // Tampering anywhere in the authenticated data or the tag fails both receivers; a failed
    // packet leaves the replay state alone, so the genuine one still passes afterwards.
    if (n % 25 == 0) {
      Bytes bad = ours;
      const std::size_t at =
          rng() % 2 ? bad.size() - 1 - rng() % tag : 12 + rng() % (bad.size() - 12);
      bad[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      Bytes bad2 = with_room(bad);
      EXPECT_FALSE(ours_rx->unprotect(bad).ok()) << "tampered byte " << at;
      EXPECT_FALSE(lib_rx->unprotect(std::span(bad2).first(bad.size())).ok());
      ++tampered;
    }

    // ours -> libsrtp
    Bytes to_lib = with_room(ours);
    auto plain = lib_rx->unprotect(std::span(to_lib).first(ours.size()));
    ASSERT_TRUE(plain.ok()) << plain.error().text << " packet " << n;
    ASSERT_EQ(prefix(to_lib, *plain), rtp);

    // libsrtp -> ours
    Bytes from_lib = prefix(lib, *lib_len);
    auto ours_plain = ours_rx->unprotect(from_lib);
    ASSERT_TRUE(ours_plain.ok()) << ours_plain.error().text << " packet " << n;
    ASSERT_EQ(prefix(from_lib, *ours_plain), rtp);
    ASSERT_EQ(ours_rx->rollover_counter(s.ssrc), static_cast<std::uint32_t>(s.index >> 16));
  }
  EXPECT_GT(tampered, 0);
  for (const Stream& s : streams) EXPECT_GE(s.index >> 16, 1u) << "every stream wrapped";
}

TEST_P(SrtpInterop, RtcpBothDirections) {
  const Profile profile = GetParam();
  std::mt19937_64 rng(0xc0ffee + static_cast<int>(profile));
  const MasterKey master = random_master(profile, rng);
  const std::size_t overhead = srtcp_overhead(profile);

  auto ours_tx = SrtcpSender::create(master);
  auto ours_rx = SrtcpReceiver::create(master);
  auto lib_tx = LibsrtpSession::create(master, LibsrtpSession::Direction::outbound);
  auto lib_rx = LibsrtpSession::create(master, LibsrtpSession::Direction::inbound);
  ASSERT_TRUE(ours_tx.ok() && ours_rx.ok() && lib_tx.ok() && lib_rx.ok());

  const std::uint32_t ssrcs[] = {static_cast<std::uint32_t>(rng()),
                                 static_cast<std::uint32_t>(rng())};
  for (int n = 0; n < 600; ++n) {
    const Bytes rtcp = random_rtcp(rng, ssrcs[rng() % 2]);

    Bytes ours(rtcp.size() + overhead);
    std::copy(rtcp.begin(), rtcp.end(), ours.begin());
    auto ours_len = ours_tx->protect(ours, rtcp.size());
    ASSERT_TRUE(ours_len.ok()) << ours_len.error().text;
    ASSERT_EQ(*ours_len, ours.size());
    ASSERT_NE(prefix(ours, rtcp.size()), rtcp) << "body encrypted";

    if (n % 20 == 0) {
      Bytes bad = ours;
      bad[rng() % bad.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      Bytes bad2 = with_room(bad);
      EXPECT_FALSE(lib_rx->unprotect_rtcp(std::span(bad2).first(bad.size())).ok());
    }

    Bytes to_lib = with_room(ours);
    auto plain = lib_rx->unprotect_rtcp(std::span(to_lib).first(ours.size()));
    ASSERT_TRUE(plain.ok()) << plain.error().text << " packet " << n;
    ASSERT_EQ(prefix(to_lib, *plain), rtcp);

    Bytes lib = with_room(rtcp);
    auto lib_len = lib_tx->protect_rtcp(lib, rtcp.size());
    ASSERT_TRUE(lib_len.ok());
    Bytes from_lib = prefix(lib, *lib_len);
    if (n % 20 == 0) {
      Bytes bad = from_lib;
      bad[rng() % bad.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      EXPECT_FALSE(ours_rx->unprotect(bad).ok());
    }
    const Bytes copy = from_lib;
    auto ours_plain = ours_rx->unprotect(from_lib);
    ASSERT_TRUE(ours_plain.ok()) << ours_plain.error().text << " packet " << n;
    ASSERT_EQ(prefix(from_lib, *ours_plain), rtcp);

    Bytes again = copy;  // the same SRTCP packet twice is a replay
    EXPECT_FALSE(ours_rx->unprotect(again).ok());
  }
}

// libsrtp with an authentication-only SRTCP policy sends E = 0 packets (RFC 3711 section 3.4;
// RFC 7714 section 9.3): ours authenticates them and leaves the body as it is.
TEST_P(SrtpInterop, RtcpUnencryptedFromLibsrtp) {
  const Profile profile = GetParam();
  std::mt19937_64 rng(0xe0 + static_cast<int>(profile));
  const MasterKey master = random_master(profile, rng);
  ASSERT_TRUE(LibsrtpSession::create(master, LibsrtpSession::Direction::outbound).ok());  // init

  std::vector<unsigned char> key(master.key.begin(), master.key.end());
  key.insert(key.end(), master.salt.begin(), master.salt.begin() + master_salt_length(profile));
  srtp_policy_t policy{};
  if (profile == Profile::aead_aes_128_gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_rtp_default(&policy.rtp);
    srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
  }
  policy.rtcp.sec_serv = sec_serv_auth;
  policy.ssrc.type = ssrc_any_outbound;
  policy.key = key.data();
  srtp_t session = nullptr;
  ASSERT_EQ(srtp_create(&session, &policy), srtp_err_status_ok);

  auto ours_rx = SrtcpReceiver::create(master);
  ASSERT_TRUE(ours_rx.ok());
  for (int n = 0; n < 50; ++n) {
    const Bytes rtcp = random_rtcp(rng, 0xabcdef01);
    Bytes buffer = with_room(rtcp);
    int len = static_cast<int>(rtcp.size());
    ASSERT_EQ(srtp_protect_rtcp(session, buffer.data(), &len), srtp_err_status_ok);
    buffer.resize(static_cast<std::size_t>(len));
    ASSERT_EQ(prefix(buffer, rtcp.size()), rtcp) << "E = 0: body in clear text";
    const std::size_t index_at =
        profile == Profile::aead_aes_128_gcm ? buffer.size() - 4 : rtcp.size();
    ASSERT_EQ(buffer[index_at] & 0x80, 0) << "E flag clear";

    Bytes bad = buffer;
    bad[rng() % rtcp.size()] ^= 0x04;
    EXPECT_FALSE(ours_rx->unprotect(bad).ok());
    auto plain = ours_rx->unprotect(buffer);
    ASSERT_TRUE(plain.ok()) << plain.error().text;
    ASSERT_EQ(prefix(buffer, *plain), rtcp);
  }
  srtp_dealloc(session);
}

INSTANTIATE_TEST_SUITE_P(Srtp, SrtpInterop,
                         ::testing::Values(Profile::aes128_cm_sha1_80, Profile::aead_aes_128_gcm),
                         [](const auto& info) {
                           return info.param == Profile::aead_aes_128_gcm ? "AeadAes128Gcm"
                                                                          : "Aes128CmSha1_80";
                         });

class SrtpReceiverReplay : public ::testing::TestWithParam<Profile> {};

TEST_P(SrtpReceiverReplay, ReorderingAcrossTheWrapAndReplays) {
  const Profile profile = GetParam();
  std::mt19937_64 rng(7);
  const MasterKey master = random_master(profile, rng);
  auto tx = SrtpSender::create(master);
  auto rx = SrtpReceiver::create(master);
  auto lib_rx = LibsrtpSession::create(master, LibsrtpSession::Direction::inbound);
  ASSERT_TRUE(tx.ok() && rx.ok() && lib_rx.ok());

  // 100 packets from seq 65500 on, delivered in shuffled blocks of 16.
  std::vector<Bytes> plain;
  std::vector<Bytes> sent;
  for (int i = 0; i < 100; ++i) {
    plain.push_back(random_rtp(rng, 0x11223344, static_cast<std::uint16_t>(65500 + i)));
    Bytes b = with_room(plain.back());
    auto n = tx->protect(b, plain.back().size());
    ASSERT_TRUE(n.ok());
    b.resize(*n);
    sent.push_back(b);
  }
  std::vector<std::size_t> order(100);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (std::size_t i = 0; i < order.size(); i += 16) {
    std::shuffle(order.begin() + static_cast<std::ptrdiff_t>(i),
                 order.begin() + static_cast<std::ptrdiff_t>(std::min(i + 16, order.size())), rng);
  }
  // The first packet in delivery order must be the stream's first (ROC 0 at 65500).
  std::iter_swap(order.begin(), std::find(order.begin(), order.end(), std::size_t{0}));
  for (std::size_t i : order) {
    Bytes b = sent[i];
    auto n = rx->unprotect(b);
    ASSERT_TRUE(n.ok()) << n.error().text << " packet " << i;
    EXPECT_EQ(prefix(b, *n), plain[i]);
    Bytes l = with_room(sent[i]);
    EXPECT_TRUE(lib_rx->unprotect(std::span(l).first(sent[i].size())).ok()) << i;
  }
  EXPECT_EQ(rx->rollover_counter(0x11223344), 1u);

  Bytes replay = sent[99];
  auto r = rx->unprotect(replay);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().text, "SRTP packet replayed");
  Bytes old = sent[10];  // 89 behind the highest: outside the 64-packet window
  r = rx->unprotect(old);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().text, "SRTP packet too old for the replay window");
}

TEST_P(SrtpReceiverReplay, TamperedTagFailsAuthentication) {
  const Profile profile = GetParam();
  std::mt19937_64 rng(9);
  const MasterKey master = random_master(profile, rng);
  auto tx = SrtpSender::create(master);
  auto rx = SrtpReceiver::create(master);
  ASSERT_TRUE(tx.ok() && rx.ok());
  const Bytes rtp = random_rtp(rng, 42, 1000);
  Bytes b = with_room(rtp);
  auto n = tx->protect(b, rtp.size());
  ASSERT_TRUE(n.ok());
  b.resize(*n);
  for (std::size_t i = rtp.size(); i < b.size(); ++i) {
    Bytes bad = b;
    bad[i] ^= 0x01;
    auto r = rx->unprotect(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_STREQ(r.error().text, "SRTP authentication failed");
  }
  EXPECT_FALSE(rx->rollover_counter(42).has_value()) << "no state from forged packets";
  auto r = rx->unprotect(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(prefix(b, *r), rtp);
}

TEST_P(SrtpReceiverReplay, RejectsMalformedPackets) {
  const Profile profile = GetParam();
  std::mt19937_64 rng(11);
  const MasterKey master = random_master(profile, rng);
  auto tx = SrtpSender::create(master);
  ASSERT_TRUE(tx.ok());
  Bytes rtp = random_rtp(rng, 42, 1000);
  Bytes b = rtp;  // no room for the tag
  EXPECT_FALSE(tx->protect(b, rtp.size()).ok());
  b = with_room(rtp);
  EXPECT_FALSE(tx->protect(b, 11).ok());
  b[0] = 0x40;  // version 1
  EXPECT_FALSE(tx->protect(b, rtp.size()).ok());
  // An extension header claiming more words than the packet holds.
  Bytes ext = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42, 0xbe, 0xde, 0x00, 0x10, 1, 2, 3, 4};
  ext.resize(ext.size() + kSlack);
  auto r = tx->protect(ext, 20);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().text, "RTP header longer than the packet");
}

TEST_P(SrtpReceiverReplay, AtMostKMaxStreamsSsrcs) {
  const Profile profile = GetParam();
  std::mt19937_64 rng(13);
  auto tx = SrtpSender::create(random_master(profile, rng));
  ASSERT_TRUE(tx.ok());
  for (std::uint32_t ssrc = 1; ssrc <= kMaxStreams + 1; ++ssrc) {
    const Bytes rtp = random_rtp(rng, ssrc, 1);
    Bytes b = with_room(rtp);
    EXPECT_EQ(tx->protect(b, rtp.size()).ok(), ssrc <= kMaxStreams) << ssrc;
  }
}

INSTANTIATE_TEST_SUITE_P(Srtp, SrtpReceiverReplay,
                         ::testing::Values(Profile::aes128_cm_sha1_80, Profile::aead_aes_128_gcm),
                         [](const auto& info) {
                           return info.param == Profile::aead_aes_128_gcm ? "AeadAes128Gcm"
                                                                          : "Aes128CmSha1_80";
                         });

}  // namespace
}  // namespace podium::sfu::srtp
