// Cached OpenSSL EVP contexts for the SRTP packet transforms: each is keyed once when a session
// is set up, so the per-packet work is only an IV reset plus the bulk crypto.
//
// Allocation: the AES-GCM and AES-CTR paths allocate nothing per packet, not even inside
// OpenSSL. HmacSha1 starts each packet from precomputed ipad/opad states with
// EVP_MD_CTX_copy_ex; OpenSSL 3.0 implements that copy by duplicating the provider's SHA-1
// state with OPENSSL_malloc (one small malloc/free pair per copy, two per packet) and offers no
// way to copy into an existing state. It is still the fastest EVP route measured
// (bench/srtp_bench.cpp, 1,000 keys): ~250 ns against ~300-480 ns for EVP_MAC_init on a keyed
// EVP_MAC_CTX and ~650-1,200 ns for EVP_MAC_CTX_dup, both of which allocate too;
// re-initialising a digest without precomputation allocates as well in 3.0 and hashes two more
// blocks.
//
// Cost: in OpenSSL 3.0 about a quarter of a GCM protect is the provider's parameter lookup
// (EVP_CipherInit_ex2 asks for the IV length; fetching the tag is a get_params call), which no
// public API avoids.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace podium::sfu::srtp::detail {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

inline constexpr std::size_t kGcmIvLength = 12;
inline constexpr std::size_t kCtrIvLength = 16;
inline constexpr std::size_t kSha1Length = 20;

// AES-128-GCM for one direction. The key schedule and GHASH tables are computed once in
// init(); seal()/open() only set the 96-bit IV (RFC 7714 section 8.1).
class GcmCipher {
 public:
  bool init(std::span<const std::uint8_t, 16> key, bool encrypt);
  // Encrypts data in place with AAD = aad1 || aad2 and writes the 16-byte tag.
  bool seal(const std::array<std::uint8_t, kGcmIvLength>& iv, std::span<const std::uint8_t> aad1,
            std::span<const std::uint8_t> aad2, std::span<std::uint8_t> data, std::uint8_t* tag);
  // Decrypts data in place and checks the tag; on failure data holds garbage.
  bool open(const std::array<std::uint8_t, kGcmIvLength>& iv, std::span<const std::uint8_t> aad1,
            std::span<const std::uint8_t> aad2, std::span<std::uint8_t> data,
            const std::uint8_t* tag);

 private:
  CipherCtx ctx_;
};

// AES-128 in counter mode (RFC 3711 section 4.1.1): the IV is the initial 128-bit counter block.
class CtrCipher {
 public:
  bool init(std::span<const std::uint8_t, 16> key);
  bool apply(const std::array<std::uint8_t, kCtrIvLength>& iv, std::span<std::uint8_t> data);

 private:
  CipherCtx ctx_;
};

// HMAC-SHA1 (RFC 2104) with the keyed inner and outer states absorbed once.
class HmacSha1 {
 public:
  bool init(std::span<const std::uint8_t> key);
  // HMAC over a || b.
  bool compute(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
               std::array<std::uint8_t, kSha1Length>& mac);

 private:
  MdCtx inner_;  // SHA-1 state after (K XOR ipad)
  MdCtx outer_;  // SHA-1 state after (K XOR opad)
  MdCtx work_;
};

}  // namespace podium::sfu::srtp::detail
