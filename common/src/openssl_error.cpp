#include "podium/common/openssl_error.hpp"

#include <openssl/err.h>

#include <array>

namespace podium {

std::string openssl_error(const char* what) {
  std::string out = what;
  const unsigned long code = ERR_get_error();
  if (code != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    out += ": ";
    out += text.data();
  }
  ERR_clear_error();
  return out;
}

}  // namespace podium
