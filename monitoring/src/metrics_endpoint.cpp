#include "podium/monitoring/metrics_endpoint.hpp"

namespace podium::monitoring {

namespace bhttp = boost::beast::http;

MetricsEndpoint::MetricsEndpoint(boost::asio::io_context& io, const config::MetricsConfig& config,
                                 Metrics& metrics)
    : metrics_(metrics),
      requests_(prometheus::BuildCounter()
                    .Name("podium_metrics_http_requests_total")
                    .Help("HTTP requests answered by the metrics listener (/metrics, health, "
                          "admin API), by status class; refused ones (400, 408, 413, 431) too.")
                    .Register(metrics.registry())),
      server_(io,
              http::ServerOptions{
                  .listen = {config.listen.address, config.listen.port},
                  .max_body_bytes = 64 * 1024,
              },
              [this](const http::Request& request, const http::RequestContext& context,
                     http::Response& response) {
                handle(request, context, response);
                count(response.result_int());
              }) {
  for (unsigned status : {200u, 400u, 500u}) count(status, 0);
  server_.on_reject([this](http::Status status) { count(static_cast<unsigned>(status)); });
}

void MetricsEndpoint::count(unsigned status, double increment) {
  requests_.Add({{"code", std::string(http::status_class(status))}}).Increment(increment);
}

void MetricsEndpoint::add_route(std::string prefix, http::Handler handler) {
  routes_.emplace_back(std::move(prefix), std::move(handler));
}

void MetricsEndpoint::start() {
  server_.start();
}
void MetricsEndpoint::stop() {
  server_.stop();
}
boost::asio::ip::tcp::endpoint MetricsEndpoint::local_endpoint() const {
  return server_.local_endpoint();
}

void MetricsEndpoint::handle(const http::Request& request, const http::RequestContext& context,
                             http::Response& response) {
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  for (const auto& [prefix, handler] : routes_) {
    if (path.starts_with(prefix)) return handler(request, context, response);
  }
  const bool read_only =
      request.method() == bhttp::verb::get || request.method() == bhttp::verb::head;
  if (path == "/metrics" || path == "/healthz" || path == "/readyz") {
    if (!read_only) {
      response.set(bhttp::field::allow, "GET, HEAD");
      return http::set_body(response, http::Status::method_not_allowed, "method not allowed\n");
    }
  }
  if (path == "/metrics") {
    return http::set_body(response, http::Status::ok, metrics_.serialize(),
                          "text/plain; version=0.0.4; charset=utf-8");
  }
  if (path == "/healthz") return http::set_body(response, http::Status::ok, "ok\n");
  if (path == "/readyz") {
    if (ready_) return http::set_body(response, http::Status::ok, "ready\n");
    return http::set_body(response, http::Status::service_unavailable, "not ready\n");
  }
  http::set_body(response, http::Status::not_found, "not found\n");
}

}  // namespace podium::monitoring
