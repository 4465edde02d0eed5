#include "podium/stun/transaction_id.hpp"

#include <cstdlib>

#include <openssl/rand.h>

namespace podium::stun {

TransactionId random_transaction_id() {
  TransactionId id{};
  // RAND_bytes only fails when the CSPRNG cannot be seeded; continuing with a guessable id
  // would be worse than stopping.
  if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) std::abort();
  return id;
}

}  // namespace podium::stun
