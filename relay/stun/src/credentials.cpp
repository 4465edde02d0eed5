#include "podium/stun/credentials.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stringprep.h>

namespace podium::stun {

namespace {

bool is_printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

// SASLprep (RFC 4013) through libidn. Printable ASCII maps to itself, so it skips libidn
// (and its allocation); anything SASLprep rejects, or that holds a NUL, is used unchanged.
std::string prepare(std::string_view text) {
  if (is_printable_ascii(text) || text.find('\0') != std::string_view::npos) {
    return std::string(text);
  }
  const std::string input(text);
  char* output = nullptr;
  if (stringprep_profile(input.c_str(), &output, "SASLprep",
                         static_cast<Stringprep_profile_flags>(0)) != STRINGPREP_OK ||
      output == nullptr) {
    std::free(output);
    return input;
  }
  std::string prepared(output);
  std::free(output);
  return prepared;
}

// Calls `use` with the prepared text, without copying when no preparation is needed.
template <typename F>
void with_prepared(std::string_view text, F&& use) {
  if (is_printable_ascii(text)) {
    use(text);
  } else {
    const std::string prepared = prepare(text);
    use(std::string_view(prepared));
  }
}

struct DigestContextDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// digest(part0 ":" part1 [":" part2]) into `out`.
template <size_t N>
std::array<uint8_t, N> digest_joined(const EVP_MD* md, std::string_view a, std::string_view b,
                                     const std::string_view* c) {
  std::array<uint8_t, N> out{};
  std::unique_ptr<EVP_MD_CTX, DigestContextDeleter> ctx(EVP_MD_CTX_new());
  unsigned int written = 0;
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1 &&
            EVP_DigestUpdate(ctx.get(), a.data(), a.size()) == 1 &&
            EVP_DigestUpdate(ctx.get(), ":", 1) == 1 &&
            EVP_DigestUpdate(ctx.get(), b.data(), b.size()) == 1;
  if (ok && c != nullptr) {
    ok = EVP_DigestUpdate(ctx.get(), ":", 1) == 1 &&
         EVP_DigestUpdate(ctx.get(), c->data(), c->size()) == 1;
  }
  ok = ok && EVP_DigestFinal_ex(ctx.get(), out.data(), &written) == 1 && written == N;
  // Should the digest be unavailable (an MD5-less FIPS provider), a predictable key would let
  // anyone forge MESSAGE-INTEGRITY; a random one makes every check fail instead.
  if (!ok && RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
  return out;
}

template <size_t N>
std::array<uint8_t, N> long_term_key(const EVP_MD* md, std::string_view username,
                                     std::string_view realm, std::string_view password) {
  std::array<uint8_t, N> key{};
  with_prepared(realm, [&](std::string_view prepared_realm) {
    with_prepared(password, [&](std::string_view prepared_password) {
      key = digest_joined<N>(md, username, prepared_realm, &prepared_password);
    });
  });
  return key;
}

}  // namespace

std::string sasl_prep(std::string_view text) {
  return prepare(text);
}

// RFC 8489 §9.2.2: key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)).
Md5Key long_term_key_md5(std::string_view username, std::string_view realm,
                         std::string_view password) {
  return long_term_key<16>(EVP_md5(), username, realm, password);
}

// RFC 8489 §18.5.1.2: the same with SHA-256.
Sha256Key long_term_key_sha256(std::string_view username, std::string_view realm,
                               std::string_view password) {
  return long_term_key<32>(EVP_sha256(), username, realm, password);
}

// RFC 8489 §14.4: userhash = SHA-256(OpaqueString(username) ":" OpaqueString(realm)).
Userhash userhash(std::string_view username, std::string_view realm) {
  Userhash hash{};
  with_prepared(username, [&](std::string_view prepared_username) {
    with_prepared(realm, [&](std::string_view prepared_realm) {
      hash = digest_joined<32>(EVP_sha256(), prepared_username, prepared_realm, nullptr);
    });
  });
  return hash;
}

// RFC 8489 §9.1.1: key = OpaqueString(password).
ShortTermKey short_term_key(std::string_view password) {
  ShortTermKey key;
  with_prepared(password, [&](std::string_view prepared) {
    key.size = std::min(prepared.size(), key.bytes.size());
    std::memcpy(key.bytes.data(), prepared.data(), key.size);
  });
  return key;
}

}  // namespace podium::stun
