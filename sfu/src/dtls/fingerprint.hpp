// Certificate fingerprints as carried by SDP a=fingerprint (RFC 8122 section 5): a hash over
// the DER encoding of the certificate, written as uppercase hex pairs joined by colons.
// JSEP (RFC 8829 section 5.2.1) and RFC 8827 section 6.5 require sha-256 support; sha-384 and
// sha-512 are accepted from peers too. Weaker hashes (md5, sha-1) are refused.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "podium/common/result.hpp"

namespace podium::sfu::dtls {

enum class HashAlgorithm : std::uint8_t { sha256, sha384, sha512 };

// The SDP token: "sha-256", "sha-384", "sha-512".
const char* to_string(HashAlgorithm algorithm);
std::size_t digest_size(HashAlgorithm algorithm);

class Fingerprint {
 public:
  static constexpr std::size_t kMaxSize = 64;

  Fingerprint() = default;
  // `digest` must have exactly digest_size(algorithm) bytes; otherwise the result is empty().
  Fingerprint(HashAlgorithm algorithm, std::span<const std::uint8_t> digest);

  // Parses the two parts of "a=fingerprint:<hash-func> <fingerprint>". The hash function token
  // is case-insensitive (RFC 8122 section 5); hex digits may be either case.
  static Result<Fingerprint> parse(std::string_view hash_function, std::string_view value);

  HashAlgorithm algorithm() const { return algorithm_; }
  std::span<const std::uint8_t> digest() const { return {bytes_.data(), size_}; }
  bool empty() const { return size_ == 0; }

  // "AB:CD:..." (uppercase, colon separated), the value part of the SDP attribute.
  std::string to_sdp() const;

  friend bool operator==(const Fingerprint& a, const Fingerprint& b);

 private:
  HashAlgorithm algorithm_ = HashAlgorithm::sha256;
  std::array<std::uint8_t, kMaxSize> bytes_{};
  std::size_t size_ = 0;
};

}  // namespace podium::sfu::dtls
