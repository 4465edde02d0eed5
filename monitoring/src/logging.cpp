#include "podium/monitoring/logging.hpp"

#include <chrono>
#include <ctime>
#include <mutex>

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace podium::log {
namespace {

// Splits a payload into its optional session context (key, id) and the message.
struct Parts {
  std::string_view key;
  std::string_view id;
  std::string_view message;
};

Parts split(std::string_view payload) {
  Parts parts{{}, {}, payload};
  if (payload.size() < 2 || payload.front() != kContextMark) return parts;
  auto end = payload.find(kContextMark, 1);
  if (end == std::string_view::npos) return parts;
  auto context = payload.substr(1, end - 1);
  auto eq = context.find('=');
  if (eq == std::string_view::npos) return parts;
  parts.key = context.substr(0, eq);
  parts.id = context.substr(eq + 1);
  parts.message = payload.substr(end + 1);
  return parts;
}

void append_time(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  auto since_epoch = msg.time.time_since_epoch();
  auto secs = duration_cast<seconds>(since_epoch);
  auto millis = duration_cast<milliseconds>(since_epoch - secs).count();
  std::time_t t = secs.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  fmt::format_to(std::back_inserter(dest), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 millis);
}

void append_json_string(std::string_view text, spdlog::memory_buf_t& dest) {
  dest.push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        dest.append(std::string_view("\\\""));
        break;
      case '\\':
        dest.append(std::string_view("\\\\"));
        break;
      case '\n':
        dest.append(std::string_view("\\n"));
        break;
      case '\r':
        dest.append(std::string_view("\\r"));
        break;
      case '\t':
        dest.append(std::string_view("\\t"));
        break;
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(dest), "\\u{:04x}", c);
        } else {
          dest.push_back(static_cast<char>(c));
        }
    }
  }
  dest.push_back('"');
}

std::string_view level_name(spdlog::level::level_enum level) {
  auto name = spdlog::level::to_string_view(level);
  return {name.data(), name.size()};
}

class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto parts = split({msg.payload.data(), msg.payload.size()});
    append_time(msg, dest);
    fmt::format_to(std::back_inserter(dest), " {:<5} {}: ", level_name(msg.level),
                   std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    if (!parts.key.empty())
      fmt::format_to(std::back_inserter(dest), "{}={}: ", parts.key, parts.id);
    dest.append(parts.message);
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }
};

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto parts = split({msg.payload.data(), msg.payload.size()});
    dest.append(std::string_view("{\"time\":\""));
    append_time(msg, dest);
    dest.append(std::string_view("\",\"level\":"));
    append_json_string(level_name(msg.level), dest);
    dest.append(std::string_view(",\"component\":"));
    append_json_string({msg.logger_name.data(), msg.logger_name.size()}, dest);
    if (!parts.key.empty()) {
      dest.push_back(',');
      append_json_string(parts.key, dest);
      dest.push_back(':');
      append_json_string(parts.id, dest);
    }
    dest.append(std::string_view(",\"msg\":"));
    append_json_string(parts.message, dest);
    dest.append(std::string_view("}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::mutex g_mutex;
spdlog::sink_ptr g_sink;
config::LogConfig g_config;

spdlog::sink_ptr sink() {
  if (!g_sink) g_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return g_sink;
}

void apply(spdlog::logger& logger) {
  logger.set_level(spdlog::level::from_str(g_config.level));
  if (g_config.format == config::LogConfig::Format::json) {
    logger.set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger.set_formatter(std::make_unique<TextFormatter>());
  }
  logger.flush_on(spdlog::level::warn);
}

}  // namespace

void setup(const config::LogConfig& config) {
  std::lock_guard lock(g_mutex);
  g_config = config;
  sink();
  spdlog::details::registry::instance().apply_all(
      [](const std::shared_ptr<spdlog::logger>& logger) { apply(*logger); });
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = std::make_shared<spdlog::logger>(component, sink());
  apply(*logger);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace podium::log
