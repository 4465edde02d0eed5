// The metrics listener (`metrics.listen`): /metrics, /healthz, /readyz, and routes that other
// parts add (the admin API).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include "podium/common/http_server.hpp"
#include "podium/config/config.hpp"
#include "podium/monitoring/metrics.hpp"

namespace podium::monitoring {

class MetricsEndpoint {
 public:
  MetricsEndpoint(boost::asio::io_context& io, const config::MetricsConfig& config,
                  Metrics& metrics);
  // Adds a handler for paths starting with `prefix`, checked before the built-in routes.
  void add_route(std::string prefix, http::Handler handler);
  void start();  // throws on bind failure
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // /readyz answers 200 while ready, 503 otherwise (not yet started, or draining).
  void set_ready(bool ready) { ready_ = ready; }

 private:
  void handle(const http::Request& request, const http::RequestContext& context,
              http::Response& response);
  void count(unsigned status, double increment = 1);

  Metrics& metrics_;
  prometheus::Family<prometheus::Counter>& requests_;
  std::atomic<bool> ready_{false};
  std::vector<std::pair<std::string, http::Handler>> routes_;
  http::Server server_;
};

}  // namespace podium::monitoring
