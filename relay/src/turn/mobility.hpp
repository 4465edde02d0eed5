// RFC 8016 (Mobility with TURN): MOBILITY-TICKET. An allocation created with the attribute gets
// an opaque ticket; a Refresh carrying it from another 5-tuple moves the allocation there, so a
// client that changed networks keeps its relayed address (and its peers notice nothing).
//
// Tickets are 18 random bytes (as base64 text), looked up here. The kernel hashes the new 5-tuple
// to any worker, so the one that receives the Refresh asks the allocation's worker to hand it over
// (Worker::release_for_move, Worker::adopt_moved): the relayed socket's descriptor moves between
// io_contexts; nothing on the packet path is shared. Lookups take a mutex: only Allocates with
// the attribute, moves and the deletion of such allocations do.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "auth/credentials.hpp"
#include "net/five_tuple.hpp"
#include "podium/stun/message.hpp"
#include "turn/allocation.hpp"

namespace podium::relay {

// Why a Refresh with a MOBILITY-TICKET from a new 5-tuple did or did not move an allocation.
enum class MobilityResult : std::uint8_t {
  moved,
  invalid_ticket,     // unknown, or already replaced by a newer one (400)
  wrong_credentials,  // another user's ticket (441)
  not_udp,            // only UDP client transports move (437 over TCP/TLS/DTLS)
  count,
};

// A Refresh (with its retransmissions) waiting for its allocation to arrive from another worker.
struct PendingMove {
  FiveTuple tuple;           // the client's new 5-tuple
  unsigned from_worker = 0;  // the worker that held the allocation
  ClientLink link;
  auth::Key key{};  // the request's long-term key (the allocation's user)
  std::chrono::seconds lifetime{0};
  bool delete_after = false;  // LIFETIME 0: move, answer, then delete
  bool fingerprint = false;
  std::array<stun::TransactionId, 4> transactions{};
  std::size_t transaction_count = 0;
};

class MobilityTickets {
 public:
  struct Holder {
    unsigned worker = 0;
    FiveTuple tuple;
  };
  // Random bytes in a ticket (sent as 24 characters of URL-safe base64).
  static constexpr std::size_t kTicketBytes = 18;

  explicit MobilityTickets(prometheus::Registry& registry);

  // A new ticket for the allocation of `tuple` on `worker`.
  std::string issue(unsigned worker, const FiveTuple& tuple);
  std::optional<Holder> find(std::string_view ticket) const;
  // After a move: `old` no longer works, the returned ticket names the new holder
  // (RFC 8016 section 3.2: each successful Refresh returns a new ticket).
  std::string reissue(std::string_view old, unsigned worker, const FiveTuple& tuple);
  void erase(std::string_view ticket);

  void count(MobilityResult result) { results_[static_cast<std::size_t>(result)]->Increment(); }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Holder> tickets_;
  prometheus::Gauge* active_ = nullptr;
  std::array<prometheus::Counter*, static_cast<std::size_t>(MobilityResult::count)> results_{};
};

}  // namespace podium::relay
