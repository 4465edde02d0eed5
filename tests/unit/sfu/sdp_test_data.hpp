// The captured browser and aiortc offers under tests/unit/sfu/data/sdp/.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace podium::sfu::sdp::testing {

inline std::string load(const std::string& name) {
  std::ifstream in(std::string(PODIUM_SOURCE_DIR) + "/tests/unit/sfu/data/sdp/" + name,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace podium::sfu::sdp::testing
