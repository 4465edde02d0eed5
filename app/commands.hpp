// The podium subcommands. Each returns the process exit code.
#pragma once

#include <optional>
#include <string>

namespace podium::app {

int serve(const std::optional<std::string>& config_path);
int check_config(const std::string& config_path);
int room_token(const std::string& config_path, const std::string& room, const std::string& role,
               const std::string& ttl);
int turn_credentials(const std::string& config_path, const std::string& user,
                     const std::string& ttl);

}  // namespace podium::app
