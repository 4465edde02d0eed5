// Transaction ids (RFC 8489 §5: 96 bits, uniformly and randomly chosen).
#pragma once

#include "podium/stun/constants.hpp"

namespace podium::stun {

// Fresh id from OpenSSL's CSPRNG.
TransactionId random_transaction_id();

}  // namespace podium::stun
