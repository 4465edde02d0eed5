// libsrtp 2 behind the same Profile/MasterKey types: for the presenter's inbound stream (one
// stream, where libsrtp's cost does not matter) and as the reference implementation that the
// EVP transforms are tested and benchmarked against. Do not use it on the per-guest fan-out
// path: Debian's libsrtp2 is built on NSS and costs several times the EVP transforms there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "podium/common/result.hpp"
#include "srtp/profile.hpp"

namespace podium::sfu::srtp {

// One srtp_t session for every SSRC of one direction (ssrc_any_inbound / ssrc_any_outbound),
// SRTP and SRTCP sharing the master key. Inbound sessions check replays (libsrtp's default
// 128-packet window). Not thread-safe per object.
class LibsrtpSession {
 public:
  enum class Direction { inbound, outbound };

  static Result<LibsrtpSession, Reason> create(const MasterKey& master, Direction direction);
  static Result<LibsrtpSession, Reason> create(Profile profile,
                                               std::span<const std::uint8_t> master_key,
                                               std::span<const std::uint8_t> master_salt,
                                               Direction direction);

  LibsrtpSession(LibsrtpSession&& other) noexcept;
  LibsrtpSession& operator=(LibsrtpSession&& other) noexcept;
  LibsrtpSession(const LibsrtpSession&) = delete;
  LibsrtpSession& operator=(const LibsrtpSession&) = delete;
  ~LibsrtpSession();

  Profile profile() const { return profile_; }

  // Same contracts as SrtpSender::protect / SrtpReceiver::unprotect and the SRTCP versions.
  Result<std::size_t, Reason> protect(std::span<std::uint8_t> buffer, std::size_t rtp_length);
  Result<std::size_t, Reason> unprotect(std::span<std::uint8_t> packet);
  Result<std::size_t, Reason> protect_rtcp(std::span<std::uint8_t> buffer, std::size_t rtcp_length);
  Result<std::size_t, Reason> unprotect_rtcp(std::span<std::uint8_t> packet);

 private:
  LibsrtpSession(Profile profile, void* session) : profile_(profile), session_(session) {}
  Profile profile_;
  void* session_;  // srtp_t, kept out of this header
};

}  // namespace podium::sfu::srtp
