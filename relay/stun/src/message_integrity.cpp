#include "podium/stun/message_integrity.hpp"

#include <array>
#include <cstring>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "byte_io.hpp"

namespace podium::stun {

namespace {

// One HMAC context per digest and thread, keyed afresh for every message: avoids fetching
// the algorithm and allocating a context per packet.
class HmacContexts {
 public:
  HmacContexts() {
    mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac_ != nullptr) {
      sha1_ = make_context("SHA1");
      sha256_ = make_context("SHA256");
    }
  }
  ~HmacContexts() {
    EVP_MAC_CTX_free(sha1_);
    EVP_MAC_CTX_free(sha256_);
    EVP_MAC_free(mac_);
  }
  HmacContexts(const HmacContexts&) = delete;
  HmacContexts& operator=(const HmacContexts&) = delete;

  EVP_MAC_CTX* sha1() const { return sha1_; }
  EVP_MAC_CTX* sha256() const { return sha256_; }

 private:
  EVP_MAC_CTX* make_context(const char* digest) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac_);
    if (ctx == nullptr) return nullptr;
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
        OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
      EVP_MAC_CTX_free(ctx);
      return nullptr;
    }
    return ctx;
  }

  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* sha1_ = nullptr;
  EVP_MAC_CTX* sha256_ = nullptr;
};

HmacContexts& contexts() {
  thread_local HmacContexts instance;
  return instance;
}

bool compute_hmac(EVP_MAC_CTX* ctx, std::span<const uint8_t> prefix, uint16_t length_field,
                  std::span<const uint8_t> key, uint8_t* out, size_t out_size) {
  if (ctx == nullptr || prefix.size() < kHeaderSize) return false;
  // A null key would make OpenSSL reuse the previous message's key: always pass a pointer.
  static constexpr uint8_t kEmpty = 0;
  const uint8_t* key_data = key.empty() ? &kEmpty : key.data();
  if (EVP_MAC_init(ctx, key_data, key.size(), nullptr) != 1) return false;
  std::array<uint8_t, kHeaderSize> header;
  std::memcpy(header.data(), prefix.data(), kHeaderSize);
  detail::store_u16(&header[2], length_field);
  if (EVP_MAC_update(ctx, header.data(), header.size()) != 1) return false;
  if (prefix.size() > kHeaderSize &&
      EVP_MAC_update(ctx, prefix.data() + kHeaderSize, prefix.size() - kHeaderSize) != 1) {
    return false;
  }
  size_t written = 0;
  return EVP_MAC_final(ctx, out, &written, out_size) == 1 && written == out_size;
}

// The header length that "ends at" the attribute at `offset` whose value is `value_size`
// bytes: §14.5 and §14.6 hash the message as if that attribute were the last one.
uint16_t length_ending_at(const AttributeView& attribute) {
  return static_cast<uint16_t>(attribute.offset + kAttributeHeaderSize +
                               padded_length(attribute.value.size()) - kHeaderSize);
}

}  // namespace

bool compute_hmac_sha1(std::span<const uint8_t> prefix, uint16_t length_field,
                       std::span<const uint8_t> key, std::span<uint8_t, 20> out) {
  return compute_hmac(contexts().sha1(), prefix, length_field, key, out.data(), out.size());
}

bool compute_hmac_sha256(std::span<const uint8_t> prefix, uint16_t length_field,
                         std::span<const uint8_t> key, std::span<uint8_t, 32> out) {
  return compute_hmac(contexts().sha256(), prefix, length_field, key, out.data(), out.size());
}

// RFC 8489 §14.5: HMAC-SHA1 over the message up to MESSAGE-INTEGRITY, length adjusted.
Result<Ok, Reason> verify_message_integrity(const MessageView& message,
                                            std::span<const uint8_t> key) {
  const auto attribute = message.find(AttributeType::kMessageIntegrity);
  if (!attribute) return fail_reason("no MESSAGE-INTEGRITY");
  if (attribute->value.size() != kMessageIntegritySize) {
    return fail_reason("bad MESSAGE-INTEGRITY length");
  }
  std::array<uint8_t, 20> expected;
  if (!compute_hmac_sha1(message.raw().first(attribute->offset), length_ending_at(*attribute), key,
                         expected)) {
    return fail_reason("HMAC failed");
  }
  if (CRYPTO_memcmp(expected.data(), attribute->value.data(), expected.size()) != 0) {
    return fail_reason("MESSAGE-INTEGRITY mismatch");
  }
  return Ok{};
}

// RFC 8489 §14.6: HMAC-SHA256, possibly truncated to 16..32 bytes in multiples of 4.
Result<Ok, Reason> verify_message_integrity_sha256(const MessageView& message,
                                                   std::span<const uint8_t> key) {
  const auto attribute = message.find(AttributeType::kMessageIntegritySha256);
  if (!attribute) return fail_reason("no MESSAGE-INTEGRITY-SHA256");
  const size_t size = attribute->value.size();
  if (size < kMinMessageIntegritySha256Size || size > kMessageIntegritySha256Size ||
      size % 4 != 0) {
    return fail_reason("bad MESSAGE-INTEGRITY-SHA256 length");
  }
  std::array<uint8_t, 32> expected;
  if (!compute_hmac_sha256(message.raw().first(attribute->offset), length_ending_at(*attribute),
                           key, expected)) {
    return fail_reason("HMAC failed");
  }
  if (CRYPTO_memcmp(expected.data(), attribute->value.data(), size) != 0) {
    return fail_reason("MESSAGE-INTEGRITY-SHA256 mismatch");
  }
  return Ok{};
}

}  // namespace podium::stun
