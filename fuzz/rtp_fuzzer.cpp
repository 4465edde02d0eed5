// libFuzzer entry for what the SFU reads from the network after the RFC 7983 demux: RTP headers
// and extensions, compound RTCP, sender reports, and SRTP/SRTCP unprotect (EVP transforms and
// libsrtp) of arbitrary bytes under a fixed key. Nothing may read out of bounds, and parsed
// lengths must stay inside the input.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "rtp/rtp_packet.hpp"
#include "srtp/libsrtp_session.hpp"
#include "srtp/srtp.hpp"

namespace {

using namespace podium::sfu;

void check(bool condition) {
  if (!condition) std::abort();
}

struct Contexts {
  Contexts() {
    std::array<std::uint8_t, 16> key{};
    std::array<std::uint8_t, 14> salt{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
    for (std::size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<std::uint8_t>(i * 3 + 5);
    for (auto profile : {srtp::Profile::aead_aes_128_gcm, srtp::Profile::aes128_cm_sha1_80}) {
      std::span<const std::uint8_t> s(salt.data(), srtp::master_salt_length(profile));
      rtp.push_back(std::move(*srtp::SrtpReceiver::create(profile, key, s)));
      rtcp.push_back(std::move(*srtp::SrtcpReceiver::create(profile, key, s)));
      libsrtp.push_back(std::move(*srtp::LibsrtpSession::create(
          profile, key, s, srtp::LibsrtpSession::Direction::inbound)));
    }
  }
  std::vector<srtp::SrtpReceiver> rtp;
  std::vector<srtp::SrtcpReceiver> rtcp;
  std::vector<srtp::LibsrtpSession> libsrtp;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Contexts contexts;
  std::span<const std::uint8_t> input(data, size);

  if (auto header = rtp::parse_rtp(input)) {
    check(header->header_size + header->payload_size <= size);
    check(header->extensions.data() == nullptr ||
          (header->extensions.data() >= data &&
           header->extensions.data() + header->extensions.size() <= data + size));
    for (std::uint8_t id = 0; id <= 15; ++id) {
      if (auto element = rtp::find_one_byte_extension(*header, id)) {
        check(element->data() >= header->extensions.data() &&
              element->data() + element->size() <=
                  header->extensions.data() + header->extensions.size());
      }
      (void)rtp::audio_level(*header, id);
    }
    rtp::ReceiveStatistics stats;
    stats.on_packet(header->sequence, header->timestamp, header->ssrc);
    stats.on_packet(static_cast<std::uint16_t>(header->sequence + header->payload_size),
                    header->timestamp + 960, header->ssrc + 1000);
    (void)stats.report(header->ssrc, 1000000);
  }

  rtp::RtcpWalker walker(input);
  std::size_t walked = 0;
  while (auto item = walker.next()) {
    walked += item->packet.size();
    check(walked <= size);
    if (auto info = rtp::parse_sender_report(item->packet)) {
      std::array<std::uint8_t, 28> out{};
      check(rtp::write_sender_report(out, *info) == 28);
      auto again = rtp::parse_sender_report(out);
      check(again && again->ntp == info->ntp && again->rtp_timestamp == info->rtp_timestamp);
    }
  }

  // SRTP: authentication must fail on (almost all) arbitrary input without touching memory
  // outside the packet; each transform works on its own copy (unprotect is in place).
  std::vector<std::uint8_t> copy;
  for (auto& receiver : contexts.rtp) {
    copy.assign(data, data + size);
    if (auto n = receiver.unprotect(copy)) check(*n <= size);
  }
  for (auto& receiver : contexts.rtcp) {
    copy.assign(data, data + size);
    if (auto n = receiver.unprotect(copy)) check(*n <= size);
  }
  for (auto& session : contexts.libsrtp) {
    copy.assign(data, data + size);
    if (auto n = session.unprotect(copy)) check(*n <= size);
    copy.assign(data, data + size);
    if (auto n = session.unprotect_rtcp(copy)) check(*n <= size);
  }
  return 0;
}
