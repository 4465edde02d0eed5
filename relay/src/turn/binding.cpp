// RFC 8489 section 3 / 6.3.1: Binding requests on every listener, so the relay is also the
// company's STUN server. No authentication; the answer carries only XOR-MAPPED-ADDRESS (and
// FINGERPRINT when the request had one), so it is barely larger than the request.
#include "podium/stun/message_builder.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

void Worker::handle_binding(const Inbound& in) {
  ++counters_.binding_requests[static_cast<std::size_t>(in.tuple.transport)];
  stun::MessageBuilder builder(scratch_);
  builder.start(stun::Method::kBinding, stun::Class::kSuccessResponse, in.message.transaction_id());
  builder.add_xor_address(stun::AttributeType::kXorMappedAddress,
                          stun::Address{in.tuple.client.ip(), in.tuple.client.port()});
  if (in.message.has(stun::AttributeType::kFingerprint)) builder.add_fingerprint();
  count_response(stun::Method::kBinding, 200);
  if (auto bytes = builder.finish()) send_to_client(in.link, in.tuple.client, *bytes, {}, 0);
}

}  // namespace podium::relay
