// libFuzzer entry for the Data Channel Establishment Protocol (RFC 8832) the SFU reads from every
// peer's SCTP stream: classify and parse arbitrary bytes as a DATA_CHANNEL_OPEN. Whatever parses
// must serialize back to the same bytes and parse back to the same fields.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "datachannel/dcep.hpp"

namespace {

using namespace podium::sfu::datachannel;

void check(bool condition) {
  if (!condition) std::abort();
}

bool same(const OpenMessage& a, const OpenMessage& b) {
  return a.channel_type == b.channel_type && a.priority == b.priority &&
         a.reliability == b.reliability && a.label == b.label && a.protocol == b.protocol;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);

  auto kind = classify(input);
  if (kind) {
    check(size > 0);
    check(*kind == MessageKind::open ? data[0] == kDataChannelOpen : data[0] == kDataChannelAck);
  } else {
    check(size == 0 || (data[0] != kDataChannelOpen && data[0] != kDataChannelAck));
  }

  auto parsed = parse_open(input);
  if (!parsed) return 0;
  check(kind && *kind == MessageKind::open);
  check(size == 12 + parsed->label.size() + parsed->protocol.size());

  const std::vector<std::uint8_t> written = serialize_open(*parsed);
  // Label and protocol lengths fit 16 bits in anything that parsed, so nothing is truncated and
  // the bytes come back exactly.
  check(written.size() == size);
  check(std::equal(written.begin(), written.end(), data));
  auto again = parse_open(written);
  check(again.ok());
  check(same(*again, *parsed));
  check(again->ordered() == parsed->ordered());

  const auto ack = serialize_ack();
  auto ack_kind = classify(ack);
  check(ack_kind && *ack_kind == MessageKind::ack);
  return 0;
}
