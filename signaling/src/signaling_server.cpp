#include "podium/signaling/signaling_server.hpp"

#include <prometheus/counter.h>

#include "embedded_files.hpp"
#include "podium/common/http_server.hpp"
#include "podium/monitoring/logging.hpp"

namespace podium::signaling {

namespace bhttp = boost::beast::http;

namespace {

std::string_view content_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".json") return "application/json";
  return "application/octet-stream";
}

}  // namespace

struct SignalingServer::Impl {
  Impl(boost::asio::io_context& io, const config::SignalingConfig& cfg, monitoring::Metrics& metrics)
      : config(cfg),
        requests(prometheus::BuildCounter()
                     .Name("podium_signaling_http_requests_total")
                     .Help("HTTP requests answered by the signaling listener, by status class.")
                     .Register(metrics.registry())),
        server(io,
               http::ServerOptions{
                   .listen = {cfg.listen.address, cfg.listen.port},
                   .max_body_bytes = cfg.max_sdp_bytes.bytes,
               },
               [this](const http::Request& request, const http::RequestContext& context,
                      http::Response& response) {
                 handle(request, context, response);
                 count(response.result_int());
               }) {
    server.on_reject([this](http::Status status) { count(static_cast<unsigned>(status)); });
  }

  void count(unsigned status) {
    static const char* classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    unsigned index = status / 100 - 1;
    if (index > 4) index = 4;
    requests.Add({{"code", classes[index]}}).Increment();
  }

  void handle(const http::Request& request, const http::RequestContext&, http::Response& response) {
    std::string_view target = request.target();
    std::string_view path = target.substr(0, target.find('?'));
    if (request.method() != bhttp::verb::get && request.method() != bhttp::verb::head) {
      response.set(bhttp::field::allow, "GET, HEAD");
      return http::set_body(response, http::Status::method_not_allowed, "method not allowed\n");
    }
    if (path == "/") path = "/index.html";
    for (const auto& file : embedded_files()) {
      if (file.path == path) {
        response.set(bhttp::field::cache_control, "no-cache");
        return http::set_body(response, http::Status::ok, std::string(file.bytes),
                              content_type_for(path));
      }
    }
    http::set_body(response, http::Status::not_found, "not found\n");
  }

  config::SignalingConfig config;
  prometheus::Family<prometheus::Counter>& requests;
  http::Server server;
};

SignalingServer::SignalingServer(boost::asio::io_context& io, const config::SignalingConfig& config,
                                 monitoring::Metrics& metrics)
    : impl_(std::make_unique<Impl>(io, config, metrics)) {}
SignalingServer::~SignalingServer() = default;
void SignalingServer::start() { impl_->server.start(); }
void SignalingServer::stop() { impl_->server.stop(); }
boost::asio::ip::tcp::endpoint SignalingServer::local_endpoint() const {
  return impl_->server.local_endpoint();
}

}  // namespace podium::signaling
