// The web client's files, compiled into the binary (see cmake/EmbedFiles.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace podium::signaling {

struct EmbeddedFile {
  std::string_view path;  // "/index.html"
  std::string_view bytes;
};

const std::vector<EmbeddedFile>& embedded_files();

}  // namespace podium::signaling
