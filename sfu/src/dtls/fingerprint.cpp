#include "dtls/fingerprint.hpp"

#include <algorithm>

namespace podium::sfu::dtls {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

const char* to_string(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::sha256:
      return "sha-256";
    case HashAlgorithm::sha384:
      return "sha-384";
    case HashAlgorithm::sha512:
      return "sha-512";
  }
  return "sha-256";
}

std::size_t digest_size(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::sha256:
      return 32;
    case HashAlgorithm::sha384:
      return 48;
    case HashAlgorithm::sha512:
      return 64;
  }
  return 32;
}

Fingerprint::Fingerprint(HashAlgorithm algorithm, std::span<const std::uint8_t> digest)
    : algorithm_(algorithm) {
  if (digest.size() != digest_size(algorithm)) return;
  std::copy(digest.begin(), digest.end(), bytes_.begin());
  size_ = digest.size();
}

Result<Fingerprint> Fingerprint::parse(std::string_view hash_function, std::string_view value) {
  HashAlgorithm algorithm;
  if (equals_ignore_case(hash_function, "sha-256")) {
    algorithm = HashAlgorithm::sha256;
  } else if (equals_ignore_case(hash_function, "sha-384")) {
    algorithm = HashAlgorithm::sha384;
  } else if (equals_ignore_case(hash_function, "sha-512")) {
    algorithm = HashAlgorithm::sha512;
  } else {
    return fail("unsupported fingerprint hash function '" + std::string(hash_function) + "'");
  }
  // RFC 8122 section 5: fingerprint = 2UHEX *(":" 2UHEX). Lowercase is tolerated on input.
  const std::size_t size = digest_size(algorithm);
  if (value.size() != size * 3 - 1) {
    return fail("fingerprint has the wrong length for " + std::string(to_string(algorithm)));
  }
  std::array<std::uint8_t, kMaxSize> bytes{};
  for (std::size_t i = 0; i < size; ++i) {
    const std::size_t at = i * 3;
    const int high = hex_value(value[at]);
    const int low = hex_value(value[at + 1]);
    if (high < 0 || low < 0) return fail("fingerprint has a non-hex digit");
    if (i + 1 < size && value[at + 2] != ':')
      return fail("fingerprint bytes must be colon separated");
    bytes[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return Fingerprint(algorithm, std::span<const std::uint8_t>(bytes.data(), size));
}

std::string Fingerprint::to_sdp() const {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  if (size_ == 0) return out;
  out.reserve(size_ * 3 - 1);
  for (std::size_t i = 0; i < size_; ++i) {
    if (i != 0) out.push_back(':');
    out.push_back(kHex[bytes_[i] >> 4]);
    out.push_back(kHex[bytes_[i] & 0x0f]);
  }
  return out;
}

bool operator==(const Fingerprint& a, const Fingerprint& b) {
  return a.algorithm_ == b.algorithm_ && a.size_ == b.size_ &&
         std::equal(a.bytes_.begin(), a.bytes_.begin() + static_cast<std::ptrdiff_t>(a.size_),
                    b.bytes_.begin());
}

}  // namespace podium::sfu::dtls
