// The podium subcommands. Each returns the process exit code.
#pragma once

#include <optional>
#include <string>

namespace podium::app {

int serve(const std::optional<std::string>& config_path);
int check_config(const std::string& config_path);
int turn_credentials(const std::string& config_path, const std::string& user, const std::string& ttl);

}  // namespace podium::app
