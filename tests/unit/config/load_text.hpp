// Shared by the config unit tests: YAML text loaded as "test.yaml", or the error it raises.
#pragma once

#include <string>

#include "podium/config/config.hpp"

namespace podium::config::test_support {

inline Config load(const std::string& yaml, EnvLookup env = nullptr) {
  return load_string(yaml, "test.yaml", env);
}

// what() of the ConfigError the text raises, or "<loaded>".
inline std::string error(const std::string& yaml, EnvLookup env = nullptr) {
  try {
    load(yaml, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<loaded>";
}

}  // namespace podium::config::test_support
