// Logging with spdlog: text or JSON lines, level from config. Lines about one session carry its
// id: log::with(logger, level, "allocation", id, ...) renders as `allocation=ID: message` in
// text and as an "allocation" field in JSON.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "podium/config/config.hpp"

namespace podium::log {

// Installs the formatter and level for every logger; safe to call again (reload).
void setup(const config::LogConfig& config);
// The logger of one component ("podium", "relay", "sfu", "signaling").
std::shared_ptr<spdlog::logger> get(const std::string& component);

// Separator framing the session context inside a message; the formatter takes it apart.
inline constexpr char kContextMark = '\x1e';

template <typename... Args>
void with(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view key,
          std::string_view id, fmt::format_string<Args...> format, Args&&... args) {
  if (!logger.should_log(level)) return;
  fmt::memory_buffer buffer;
  buffer.push_back(kContextMark);
  buffer.append(key);
  buffer.push_back('=');
  buffer.append(id);
  buffer.push_back(kContextMark);
  fmt::format_to(std::back_inserter(buffer), format, std::forward<Args>(args)...);
  logger.log(level, std::string_view(buffer.data(), buffer.size()));
}

}  // namespace podium::log
