#include "srtp/libsrtp_session.hpp"

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <array>
#include <climits>
#include <utility>

namespace podium::sfu::srtp {

namespace {

srtp_err_status_t init_libsrtp_once() {
  static const srtp_err_status_t status = srtp_init();
  return status;
}

srtp_t as_session(void* p) {
  return static_cast<srtp_t>(p);
}

bool fits(std::size_t n) {
  return n <= static_cast<std::size_t>(INT_MAX);
}

}  // namespace

Result<LibsrtpSession, Reason> LibsrtpSession::create(const MasterKey& master,
                                                      Direction direction) {
  return create(master.profile, master.key_bytes(), master.salt_bytes(), direction);
}

Result<LibsrtpSession, Reason> LibsrtpSession::create(Profile profile,
                                                      std::span<const std::uint8_t> master_key,
                                                      std::span<const std::uint8_t> master_salt,
                                                      Direction direction) {
  if (master_key.size() != master_key_length(profile) ||
      master_salt.size() != master_salt_length(profile)) {
    return fail_reason("SRTP master key or salt length does not match the profile");
  }
  if (init_libsrtp_once() != srtp_err_status_ok) return fail_reason("srtp_init failed");

  // libsrtp takes the master key and salt as one buffer.
  std::array<unsigned char, kMasterKeyLength + kMaxMasterSaltLength> key{};
  std::ranges::copy(master_key, key.begin());
  std::ranges::copy(master_salt, key.begin() + master_key.size());

  srtp_policy_t policy{};
  if (profile == Profile::aead_aes_128_gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_rtp_default(&policy.rtp);
    srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
  }
  policy.ssrc.type = direction == Direction::inbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.key = key.data();
  policy.window_size = 0;  // libsrtp's default
  policy.allow_repeat_tx = 0;

  srtp_t session = nullptr;
  const srtp_err_status_t status = srtp_create(&session, &policy);
  OPENSSL_cleanse(key.data(), key.size());
  if (status != srtp_err_status_ok) return fail_reason("srtp_create failed");
  return LibsrtpSession(profile, session);
}

LibsrtpSession::LibsrtpSession(LibsrtpSession&& other) noexcept
    : profile_(other.profile_), session_(std::exchange(other.session_, nullptr)) {}

LibsrtpSession& LibsrtpSession::operator=(LibsrtpSession&& other) noexcept {
  if (this != &other) {
    if (session_ != nullptr) srtp_dealloc(as_session(session_));
    profile_ = other.profile_;
    session_ = std::exchange(other.session_, nullptr);
  }
  return *this;
}

LibsrtpSession::~LibsrtpSession() {
  if (session_ != nullptr) srtp_dealloc(as_session(session_));
}

Result<std::size_t, Reason> LibsrtpSession::protect(std::span<std::uint8_t> buffer,
                                                    std::size_t rtp_length) {
  if (rtp_length > buffer.size() || buffer.size() - rtp_length < srtp_overhead(profile_) ||
      !fits(buffer.size())) {
    return fail_reason("no room for the SRTP tag");
  }
  int len = static_cast<int>(rtp_length);
  if (srtp_protect(as_session(session_), buffer.data(), &len) != srtp_err_status_ok) {
    return fail_reason("srtp_protect failed");
  }
  return static_cast<std::size_t>(len);
}

Result<std::size_t, Reason> LibsrtpSession::unprotect(std::span<std::uint8_t> packet) {
  if (!fits(packet.size())) return fail_reason("SRTP packet too long");
  int len = static_cast<int>(packet.size());
  if (srtp_unprotect(as_session(session_), packet.data(), &len) != srtp_err_status_ok) {
    return fail_reason("srtp_unprotect failed");
  }
  return static_cast<std::size_t>(len);
}

Result<std::size_t, Reason> LibsrtpSession::protect_rtcp(std::span<std::uint8_t> buffer,
                                                         std::size_t rtcp_length) {
  if (rtcp_length > buffer.size() || buffer.size() - rtcp_length < srtcp_overhead(profile_) ||
      !fits(buffer.size())) {
    return fail_reason("no room for the SRTCP trailer");
  }
  int len = static_cast<int>(rtcp_length);
  if (srtp_protect_rtcp(as_session(session_), buffer.data(), &len) != srtp_err_status_ok) {
    return fail_reason("srtp_protect_rtcp failed");
  }
  return static_cast<std::size_t>(len);
}

Result<std::size_t, Reason> LibsrtpSession::unprotect_rtcp(std::span<std::uint8_t> packet) {
  if (!fits(packet.size())) return fail_reason("SRTCP packet too long");
  int len = static_cast<int>(packet.size());
  if (srtp_unprotect_rtcp(as_session(session_), packet.data(), &len) != srtp_err_status_ok) {
    return fail_reason("srtp_unprotect_rtcp failed");
  }
  return static_cast<std::size_t>(len);
}

}  // namespace podium::sfu::srtp
