// Splitting a TCP/TLS byte stream into STUN messages and ChannelData frames
// (RFC 8489 §6.2.2, RFC 8656 §12.5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "podium/common/result.hpp"

namespace podium::stun {

inline constexpr size_t kDefaultMaxStunFrame = 65535 + 20;

// How many bytes the frame at the start of `buffered` occupies: 20 + length for a STUN
// message, 4 + length rounded up to 4 for ChannelData. Returns 0 while fewer than 4 bytes are
// buffered (need more). The result may exceed buffered.size(): keep reading until it doesn't.
// Fails when the first two bits are neither 00 (STUN) nor 01 (ChannelData), on a reserved
// channel number, a STUN length that is not a multiple of 4 or makes the frame larger than
// `max_stun_frame`, or a bad magic cookie (checked once 8 bytes are buffered). A failure means
// the stream cannot be resynchronised: close the connection.
Result<size_t, Reason> next_frame_length(std::span<const uint8_t> buffered,
                                         size_t max_stun_frame = kDefaultMaxStunFrame);

}  // namespace podium::stun
