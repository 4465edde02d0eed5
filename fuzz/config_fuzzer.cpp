// libFuzzer target: any input either loads or is rejected with a ConfigError.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "podium/config/config.hpp"

namespace {

std::optional<std::string> fuzz_env(const std::string& name) {
  if (name == "SET") return std::string("value");
  if (name == "EMPTY") return std::string();
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    podium::config::load_string(text, "fuzz.yaml", &fuzz_env);
  } catch (const podium::config::ConfigError&) {
  }
  return 0;
}
