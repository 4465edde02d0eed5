// RFC 8016 section 3.2: a Refresh carrying a MOBILITY-TICKET from a 5-tuple that has no
// allocation moves the ticket's allocation to that 5-tuple. See turn/mobility.hpp for how the
// allocation crosses workers.
#include "turn/mobility.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>

#include "podium/monitoring/logging.hpp"
#include "podium/stun/message_builder.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

void Worker::handle_mobility_refresh(const Inbound& in, const Authenticated& auth) {
  const auto attribute = in.message.find(stun::AttributeType::kMobilityTicket);
  const std::string ticket(reinterpret_cast<const char*>(attribute->value.data()),
                           attribute->value.size());
  // Only UDP allocations move: one over TCP, TLS or DTLS lives and dies with its connection.
  if (in.tuple.transport != ClientTransport::udp) {
    shared_.mobility.count(MobilityResult::not_udp);
    return reply_error(in, 437, &auth.key);
  }
  // An unknown (or already replaced) ticket is a 400.
  const auto holder = shared_.mobility.find(ticket);
  if (!holder || holder->worker >= shared_.workers.size()) {
    auto logger = log::get("relay");
    log::with(*logger, spdlog::level::debug, "client", in.tuple.client.to_string(),
              "Refresh with an unknown or retired mobility ticket: 400");
    shared_.mobility.count(MobilityResult::invalid_ticket);
    return reply_error(in, 400, &auth.key);
  }
  auto& pending = pending_moves_[ticket];
  if (pending) {
    // A retransmission while the hand-over is under way: answered with the first.
    if (pending->tuple == in.tuple && pending->transaction_count < pending->transactions.size()) {
      pending->transactions[pending->transaction_count++] = in.message.transaction_id();
    }
    return;
  }
  pending = std::make_unique<PendingMove>();
  pending->tuple = in.tuple;
  pending->from_worker = holder->worker;
  pending->link = in.link;
  pending->key = auth.key;
  const auto requested = in.message.u32(stun::AttributeType::kLifetime);
  pending->delete_after = requested && *requested == 0;
  pending->lifetime = granted_lifetime(policy_->config, in.message);
  pending->fingerprint = in.message.has(stun::AttributeType::kFingerprint);
  pending->transactions[pending->transaction_count++] = in.message.transaction_id();

  Worker& owner = *shared_.workers[holder->worker];
  std::string username(auth.username);
  if (&owner == this) return release_for_move(ticket, holder->tuple, std::move(username), *this);
  boost::asio::post(owner.io(), [&owner, this, ticket, from = holder->tuple,
                                 username = std::move(username)]() mutable {
    owner.release_for_move(std::move(ticket), from, std::move(username), *this);
  });
}

void Worker::release_for_move(std::string ticket, FiveTuple from, std::string username,
                              Worker& to) {
  auto fail = [&](MobilityResult result) {
    if (&to == this) return move_failed(ticket, result);
    boost::asio::post(to.io(), [&to, ticket, result] { to.move_failed(ticket, result); });
  };
  auto it = allocations_.find(from);
  if (it == allocations_.end() || it->second->mobility_ticket != ticket) {
    auto logger = log::get("relay");
    log::with(*logger, spdlog::level::debug, "client", from.client.to_string(),
              "mobility ticket's allocation {}", it == allocations_.end() ? "is gone" : "moved");
    return fail(MobilityResult::invalid_ticket);  // deleted or moved meanwhile
  }
  // Section 3.2: the ticket's allocation must belong to the user of the request (441).
  if (it->second->username != username) return fail(MobilityResult::wrong_credentials);

  auto allocation = std::move(it->second);
  allocations_.erase(it);
  // The relayed sockets' descriptors leave this io_context (pending waits end with
  // operation_aborted); the socket objects are rebound to the receiver's io_context, still
  // closed, and adopt_moved assigns the descriptors there.
  boost::system::error_code ec;
  const int fd = allocation->relay_socket.is_open() ? allocation->relay_socket.release(ec) : -1;
  const int additional_fd =
      allocation->additional_socket.is_open() ? allocation->additional_socket.release(ec) : -1;
  if (&to != this) {
    allocation->relay_socket = boost::asio::ip::udp::socket(to.io());
    allocation->additional_socket = boost::asio::ip::udp::socket(to.io());
  }
  if (&to == this) return adopt_moved(std::move(ticket), std::move(allocation), fd, additional_fd);
  boost::asio::post(to.io(), [&to, ticket = std::move(ticket), allocation = std::move(allocation),
                              fd, additional_fd]() mutable {
    to.adopt_moved(std::move(ticket), std::move(allocation), fd, additional_fd);
  });
}

void Worker::adopt_moved(std::string ticket, std::unique_ptr<Allocation> allocation, int fd,
                         int additional_fd) {
  now_ = std::chrono::steady_clock::now();
  // A descriptor that cannot be registered here is closed: the allocation loses that relayed
  // address (with none left it cannot be installed, below).
  boost::system::error_code ec;
  if (fd >= 0) {
    allocation->relay_socket.assign(allocation->relayed_address.is_v6()
                                        ? boost::asio::ip::udp::v6()
                                        : boost::asio::ip::udp::v4(),
                                    fd, ec);
    if (ec) ::close(fd);
  }
  if (additional_fd >= 0) {
    allocation->additional_socket.assign(boost::asio::ip::udp::v6(), additional_fd, ec);
    if (ec) ::close(additional_fd);
  }
  const bool usable = allocation->relay_socket.is_open() || allocation->additional_socket.is_open();
  auto pending_it = pending_moves_.find(ticket);
  std::unique_ptr<PendingMove> move;
  if (pending_it != pending_moves_.end()) {
    move = std::move(pending_it->second);
    pending_moves_.erase(pending_it);
  }
  if (!move || !usable || allocations_.contains(move->tuple)) {
    // Nobody waits for it any more, its sockets could not be taken over, or the client
    // allocated anew on its new 5-tuple meanwhile: the moved allocation ends, with its
    // accounting, under its old 5-tuple (free here: the kernel hashed it to another worker,
    // or this one just released it).
    const FiveTuple old_tuple = allocation->five_tuple;
    auto [it, inserted] = allocations_.try_emplace(old_tuple, std::move(allocation));
    if (inserted) delete_allocation(*it->second, "moved by mobility, but not installable");
    if (move) answer_mobility_refresh(*move, nullptr, 437);
    return;
  }
  auto logger = log::get("relay");
  log::with(*logger, spdlog::level::info, "allocation", allocation->id,
            "moved from {} (worker {}) to {} (worker {}) by its mobility ticket",
            allocation->five_tuple.client.to_string(), move->from_worker,
            move->tuple.client.to_string(), index_);
  allocation->five_tuple = move->tuple;
  allocation->link = move->link;
  allocation->mobility_ticket = shared_.mobility.reissue(ticket, index_, move->tuple);
  allocation->expires = now_ + move->lifetime;
  auto& stored = *allocation;
  allocations_.emplace(move->tuple, std::move(allocation));
  if (stored.relay_socket.is_open()) arm_relay(stored);
  if (stored.additional_socket.is_open()) arm_relay(stored, true);
  shared_.mobility.count(MobilityResult::moved);
  answer_mobility_refresh(*move, &stored, 0);
  if (move->delete_after) {
    shared_.metrics.allocations_deleted().Increment();
    delete_allocation(stored, "refreshed with lifetime 0 after a move");
  }
  flush();
}

void Worker::move_failed(const std::string& ticket, MobilityResult result) {
  auto it = pending_moves_.find(ticket);
  if (it == pending_moves_.end()) return;
  auto move = std::move(it->second);
  pending_moves_.erase(it);
  shared_.mobility.count(result);
  answer_mobility_refresh(*move, nullptr, result == MobilityResult::wrong_credentials ? 441 : 400);
  flush();
}

void Worker::answer_mobility_refresh(const PendingMove& move, const Allocation* allocation,
                                     int error) {
  for (std::size_t i = 0; i < move.transaction_count; ++i) {
    stun::MessageBuilder builder(scratch_);
    if (error != 0) {
      builder.start(stun::Method::kRefresh, stun::Class::kErrorResponse, move.transactions[i]);
      builder.add_error_code(static_cast<std::uint16_t>(error));
    } else {
      builder.start(stun::Method::kRefresh, stun::Class::kSuccessResponse, move.transactions[i]);
      builder.add_u32(stun::AttributeType::kLifetime,
                      move.delete_after ? 0 : static_cast<std::uint32_t>(move.lifetime.count()));
      if (!move.delete_after) {
        builder.add_string(stun::AttributeType::kMobilityTicket, allocation->mobility_ticket);
      }
    }
    builder.add_message_integrity(move.key);
    if (move.fingerprint) builder.add_fingerprint();
    auto bytes = builder.finish();
    if (!bytes) continue;
    count_response(stun::Method::kRefresh, error == 0 ? 200 : error);
    send_to_client(move.link, move.tuple.client, *bytes, {}, 0);
  }
}

}  // namespace podium::relay
