// libFuzzer entry for the PROXY protocol v2 header parser of the relay's TCP/TLS listeners
// (relay.proxy_protocol): any input, whole and fed in growing prefixes as a reader would. A
// parsed header never claims more bytes than it was given nor more than kMaxHeader; a prefix
// of a header that parses is never refused as invalid; `wanted` never asks for fewer bytes than
// a header that parses occupies.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "net/proxy_protocol.hpp"

namespace {

namespace proxy = podium::relay::proxy_protocol;

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  auto whole = proxy::parse(input);
  if (whole) {
    check(whole->length >= proxy::kFixedSize);
    check(whole->length <= size);
    check(whole->length <= proxy::kMaxHeader);
    check(whole->length == proxy::wanted(input));
    if (whole->has_addresses) {
      check(whole->source.is_v4() || whole->source.is_v6());
      check(whole->source.is_v4() == whole->destination.is_v4());
    }
    // Every shorter prefix is "need more", and the header alone parses the same.
    for (std::size_t n = 0; n < whole->length; ++n) {
      check(proxy::need_more(proxy::parse(input.first(n))));
    }
    auto exact = proxy::parse(input.first(whole->length));
    check(exact && exact->length == whole->length);
  } else if (proxy::need_more(whole)) {
    check(proxy::wanted(input) > size || size < proxy::kFixedSize);
  } else {
    // Invalid stays invalid whatever follows (a reader may have read more than this).
    static std::uint8_t longer[proxy::kMaxHeader + 64];
    if (size + 64 <= sizeof(longer)) {
      std::copy(data, data + size, longer);
      std::fill(longer + size, longer + size + 64, 0xA5);
      auto more = proxy::parse(std::span<const std::uint8_t>(longer, size + 64));
      check(!more && !proxy::need_more(more));
    }
  }
  return 0;
}
