// The admin API on the metrics listener (`/admin/...`, bearer metrics.admin_token; off when the
// token is empty): drain, the relay's allocations, terminating a user, the running config.
// docs/operations.md § Admin API.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "podium/common/http_server.hpp"
#include "podium/config/config.hpp"
#include "podium/relay/relay_server.hpp"

namespace podium::app {

struct AdminApi {
  const config::Config* config = nullptr;  // the running configuration (token, GET /admin/config)
  relay::RelayServer* relay = nullptr;     // null without a relay in this process
  // Starts a graceful drain and says where it stands (POST /admin/drain answers it as JSON).
  std::function<nlohmann::json()> drain;

  void handle(const http::Request& request, http::Response& response) const;
};

}  // namespace podium::app
