// PROXY protocol version 2 (HAProxy, "The PROXY protocol, Versions 1 & 2", section 2.2): the
// binary header a load balancer puts in front of a TCP connection to pass on the client's
// address. relay.proxy_protocol makes tcp:// and tls:// listeners require it. Pure functions:
// no allocation, no exceptions, bounded work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "podium/common/result.hpp"
#include "podium/common/socket_address.hpp"

namespace podium::relay::proxy_protocol {

// The 12-byte signature, the version/command byte, the family/transport byte, and the 2-byte
// length of what follows (addresses and TLVs).
inline constexpr std::size_t kFixedSize = 16;
// Longest address block plus TLVs accepted. The spec allows up to 65535; the largest address
// block (AF_UNIX) is 216 bytes, and a load balancer adds a few TLVs at most (ALPN, authority,
// CRC32C, unique id). A longer header is refused rather than buffered.
inline constexpr std::size_t kMaxPayload = 512;
inline constexpr std::size_t kMaxHeader = kFixedSize + kMaxPayload;

// The reason parse() gives while the bytes seen so far are a valid beginning of a header. Its
// text is one object defined in proxy_protocol.cpp: Reason compares pointers, and a string
// literal named in a header may be a different object in each translation unit.
extern const char kNeedMoreText[];
inline constexpr Reason kNeedMore{kNeedMoreText};

struct Header {
  std::size_t length = 0;  // bytes the header occupies at the start of the stream
  // PROXY command with TCP over IPv4 or IPv6: the client's (source) and the address it
  // connected to (destination). Otherwise (LOCAL command, e.g. a health check, or the UNSPEC
  // family) the connection's own addresses stand.
  bool has_addresses = false;
  SocketAddress source;
  SocketAddress destination;
};

// Parses the header at the start of `bytes`. Fails with kNeedMore while `bytes` is a valid
// prefix of a header, with another reason (a string literal) when it cannot become one.
Result<Header, Reason> parse(std::span<const std::uint8_t> bytes);

inline bool need_more(const Result<Header, Reason>& result) {
  return !result.ok() && result.error() == kNeedMore;
}

// How many bytes the header starting with `bytes` occupies as far as they tell: kFixedSize
// until the length field has arrived, then kFixedSize + that length (may exceed kMaxHeader,
// which parse() refuses). A reader that reads at most this many never consumes what follows.
std::size_t wanted(std::span<const std::uint8_t> bytes);

}  // namespace podium::relay::proxy_protocol
