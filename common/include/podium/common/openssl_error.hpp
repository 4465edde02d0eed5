// OpenSSL's error queue as text for logs and error results.
#pragma once

#include <string>

namespace podium {

// "`what`: <first queued OpenSSL error>", clearing the queue; just `what` when it is empty.
std::string openssl_error(const char* what);

}  // namespace podium
