// RFC 8489 section 3 / 6.3.1: Binding requests on every listener, so the relay is also the
// company's STUN server. No authentication; the answer carries only XOR-MAPPED-ADDRESS (and
// FINGERPRINT when the request had one), so it is barely larger than the request.
//
// relay.rfc5780 (RFC 5780 section 6): on its four UDP sockets the relay also adds OTHER-ADDRESS
// and RESPONSE-ORIGIN and honours CHANGE-REQUEST by answering from another of the four. Without
// it (or on another listener) a CHANGE-REQUEST gets 420, like from a server that does not know
// the attribute, which is how RFC 5780 section 7.2 lets a client find out.
#include "podium/stun/attributes.hpp"
#include "podium/stun/message_builder.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

namespace {

stun::Address to_stun(const SocketAddress& address) {
  return stun::Address{address.ip(), address.port()};
}

}  // namespace

void Worker::handle_binding(const Inbound& in) {
  ++counters_.binding_requests[static_cast<std::size_t>(in.tuple.transport)];
  // Which of the four RFC 5780 sockets the request came in on, if any.
  int role = -1;
  if (!in.link.stream && rfc5780_[0] != nullptr) {
    for (std::size_t i = 0; i < rfc5780_.size(); ++i) {
      if (rfc5780_[i]->socket.native_handle() == in.link.udp_fd) role = static_cast<int>(i);
    }
  }
  int response_role = role;
  if (auto change = in.message.find(stun::AttributeType::kChangeRequest)) {
    static constexpr stun::AttributeType kChange[] = {stun::AttributeType::kChangeRequest};
    if (role < 0) return reply_error(in, 420, nullptr, kChange);
    auto flags = stun::decode_change_request(*change);
    if (!flags) return reply_error(in, 400);
    response_role = role ^ (flags->change_ip ? 1 : 0) ^ (flags->change_port ? 2 : 0);
  }

  stun::MessageBuilder builder(scratch_);
  builder.start(stun::Method::kBinding, stun::Class::kSuccessResponse, in.message.transaction_id());
  builder.add_xor_address(stun::AttributeType::kXorMappedAddress,
                          stun::Address{in.tuple.client.ip(), in.tuple.client.port()});
  ClientLink link = in.link;
  if (role >= 0) {
    auto& from = *rfc5780_[static_cast<std::size_t>(response_role)];
    builder.add_address(stun::AttributeType::kResponseOrigin, to_stun(from.local));
    builder.add_address(stun::AttributeType::kOtherAddress,
                        to_stun(rfc5780_[static_cast<std::size_t>(role ^ 3)]->local));
    link.udp_fd = from.socket.native_handle();
  }
  if (in.message.has(stun::AttributeType::kFingerprint)) builder.add_fingerprint();
  count_response(stun::Method::kBinding, 200);
  if (auto bytes = builder.finish()) send_to_client(link, in.tuple.client, *bytes, {}, 0);
}

}  // namespace podium::relay
