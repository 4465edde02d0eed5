// libFuzzer entry for HTTP requests to the signaling listener: the bytes go through the same
// Beast parser with the same limits as a connection (http::parse_request), and a request that
// parses is handled by a real SignalingServer in front of a real SFU (WHIP/WHEP sessions are
// created, patched and deleted on it), as `podium serve` wires them.
//
// The first byte picks the deployment: even = open rooms, odd = closed rooms (API key
// "fuzz-api-key", token secret "fuzz-token-secret"; the seeds carry tokens minted with it that
// expire in 2096, so the fuzzer starts past the token checks).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include "podium/common/http_server.hpp"
#include "podium/config/config.hpp"
#include "podium/monitoring/logging.hpp"
#include "podium/monitoring/metrics.hpp"
#include "podium/sfu/sfu_server.hpp"
#include "podium/signaling/signaling_server.hpp"

namespace {

using namespace podium;

void check(bool condition) {
  if (!condition) std::abort();
}

config::SignalingConfig signaling_config(bool open) {
  config::SignalingConfig config;
  config.open_rooms = open;
  if (!open) {
    config.api_key = "fuzz-api-key";
    config.token_secret = "fuzz-token-secret";
  }
  return config;
}

struct Deployment {
  Deployment() : metrics("fuzz"), sfu(sfu_config(), metrics) {
    config::LogConfig quiet;
    quiet.level = "off";  // a line per created session would drown libFuzzer's output
    log::setup(quiet);
    sfu.start();
    signaling::SignalingDeps deps;
    deps.sessions = &sfu.sessions();
    deps.ice =
        signaling::IceServerSource{{"stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp"},
                                   "fuzz-rest-secret",
                                   std::chrono::seconds(3600)};
    open = std::make_unique<signaling::SignalingServer>(io, signaling_config(true), metrics, deps);
    closed =
        std::make_unique<signaling::SignalingServer>(io, signaling_config(false), metrics, deps);
  }

  static config::SfuConfig sfu_config() {
    config::SfuConfig config;
    config.listen_ip = boost::asio::ip::make_address("127.0.0.1");
    config.udp_port = 0;
    config.workers = 1;
    // Sessions the fuzzer creates are real; they time out without ICE, and the cap keeps their
    // memory bounded in between (later offers are answered 503).
    config.max_sessions = 64;
    config.consent_timeout = std::chrono::seconds(5);
    return config;
  }

  boost::asio::io_context io;
  monitoring::Metrics metrics;
  sfu::SfuServer sfu;
  std::unique_ptr<signaling::SignalingServer> open;
  std::unique_ptr<signaling::SignalingServer> closed;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Deployment deployment;
  if (size == 0) return 0;
  auto& server = (data[0] & 1) ? *deployment.closed : *deployment.open;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  http::ServerOptions options;
  options.max_body_bytes = config::SignalingConfig{}.max_sdp_bytes.bytes;
  auto request = http::parse_request(bytes, options);
  if (!request) {
    const unsigned status = static_cast<unsigned>(request.error().status);
    check(status == 400 || status == 408 || status == 413 || status == 431);
    check(!request.error().message.empty());
    return 0;
  }
  check(bytes.size() >= request->body().size());

  http::Response response;
  response.version(request->version());
  response.result(http::Status::not_found);
  http::RequestContext context{{boost::asio::ip::make_address("127.0.0.1"), 40000}};
  server.handle(*request, context, response);
  const unsigned status = response.result_int();
  check(status >= 200 && status <= 599);
  // Every refusal says why (JSON or text); created sessions say where they live.
  if (status >= 400 && request->method() != boost::beast::http::verb::head) {
    check(!response.body().empty());
  }
  if (status == 201 && response.find(boost::beast::http::field::location) != response.end()) {
    std::string_view location = response[boost::beast::http::field::location];
    check(location.starts_with("/whip/") || location.starts_with("/whep/") ||
          location.starts_with("/api/rooms/"));
    check(!response.body().empty());
  }
  response.prepare_payload();
  return 0;
}
