#include "turn/mobility.hpp"

#include "podium/common/random.hpp"

namespace podium::relay {

MobilityTickets::MobilityTickets(prometheus::Registry& registry) {
  active_ = &prometheus::BuildGauge()
                 .Name("podium_relay_mobility_tickets")
                 .Help("Allocations holding an RFC 8016 MOBILITY-TICKET.")
                 .Register(registry)
                 .Add({});
  auto& moves = prometheus::BuildCounter()
                    .Name("podium_relay_mobility_refreshes_total")
                    .Help(
                        "Refreshes with a MOBILITY-TICKET from a new 5-tuple (RFC 8016), by "
                        "result.")
                    .Register(registry);
  const char* names[] = {"moved", "invalid_ticket", "wrong_credentials", "not_udp"};
  for (std::size_t i = 0; i < results_.size(); ++i) {
    results_[i] = &moves.Add({{"result", names[i]}});
  }
}

std::string MobilityTickets::issue(unsigned worker, const FiveTuple& tuple) {
  // Printable: coturn's clients keep the ticket as a C string (a zero byte would cut it short).
  std::string ticket = random_token(kTicketBytes);
  std::lock_guard lock(mutex_);
  tickets_[ticket] = Holder{worker, tuple};
  active_->Set(static_cast<double>(tickets_.size()));
  return ticket;
}

std::optional<MobilityTickets::Holder> MobilityTickets::find(std::string_view ticket) const {
  std::lock_guard lock(mutex_);
  auto it = tickets_.find(std::string(ticket));
  if (it == tickets_.end()) return std::nullopt;
  return it->second;
}

std::string MobilityTickets::reissue(std::string_view old, unsigned worker,
                                     const FiveTuple& tuple) {
  erase(old);
  return issue(worker, tuple);
}

void MobilityTickets::erase(std::string_view ticket) {
  std::lock_guard lock(mutex_);
  tickets_.erase(std::string(ticket));
  active_->Set(static_cast<double>(tickets_.size()));
}

}  // namespace podium::relay
