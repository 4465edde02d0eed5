#include "podium/signaling/signaling_server.hpp"

#include <openssl/crypto.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <map>
#include <nlohmann/json.hpp>

#include "embedded_files.hpp"
#include "podium/common/http_server.hpp"
#include "podium/common/random.hpp"
#include "podium/monitoring/logging.hpp"
#include "podium/signaling/room_token.hpp"

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

// Cross-origin use (a page on another origin calling WHIP/WHEP or the rooms API) is allowed:
// access is decided by bearer tokens, never by cookies.
void add_cors(http::Response& response) {
  response.set(bhttp::field::access_control_allow_origin, "*");
  response.set(bhttp::field::access_control_expose_headers, "Location, Link, ETag");
}

void json_error(http::Response& response, http::Status status, std::string_view reason) {
  http::set_body(response, status, nlohmann::json{{"error", reason}}.dump() + "\n",
                 "application/json");
}

std::string_view bearer_token(const http::Request& request) {
  auto header = request[bhttp::field::authorization];
  constexpr std::string_view prefix = "Bearer ";
  if (header.size() <= prefix.size() || !header.starts_with(prefix)) return {};
  return header.substr(prefix.size());
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

constexpr std::size_t kMaxRooms = 100000;

}  // namespace

struct SignalingServer::Impl {
  Impl(boost::asio::io_context& io, const config::SignalingConfig& cfg,
       monitoring::Metrics& metrics)
      : config(cfg),
        rooms_created(prometheus::BuildCounter()
                          .Name("podium_signaling_rooms_created_total")
                          .Help("Rooms created through POST /api/rooms.")
                          .Register(metrics.registry())
                          .Add({})),
        rooms_active(prometheus::BuildGauge()
                         .Name("podium_signaling_rooms")
                         .Help("Rooms known to signaling (created and not yet expired).")
                         .Register(metrics.registry())
                         .Add({})),
        auth_failures(
            prometheus::BuildCounter()
                .Name("podium_signaling_auth_failures_total")
                .Help("Requests refused for a missing or bad API key or room token, by reason.")
                .Register(metrics.registry())),
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
    // Open rooms need no secret from the operator; tokens are still minted (and checked when a
    // client sends one), with a secret that lives as long as the process.
    if (config.token_secret.empty()) config.token_secret = random_token(32);
  }

  std::string base_url() const {
    if (!config.public_url.empty()) return config.public_url;
    config::Endpoint e{server.local_endpoint().address(), server.local_endpoint().port()};
    return "http://" + e.to_string();
  }

  // POST /api/rooms: creates a room and mints its presenter and guest tokens.
  void create_room(const http::Request& request, http::Response& response) {
    if (!config.open_rooms) {
      auto token = bearer_token(request);
      if (token.empty() || !constant_time_equal(token, config.api_key)) {
        auth_failures.Add({{"reason", token.empty() ? "missing_api_key" : "bad_api_key"}})
            .Increment();
        response.set(bhttp::field::www_authenticate, "Bearer");
        return json_error(response, http::Status::unauthorized, "a valid API key is required");
      }
    }
    std::string room;
    if (!request.body().empty()) {
      auto body = nlohmann::json::parse(request.body(), nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        return json_error(response, http::Status::bad_request, "body must be a JSON object");
      }
      if (body.contains("room")) {
        if (!body["room"].is_string() || !valid_room_name(body["room"].get<std::string>())) {
          return json_error(response, http::Status::bad_request,
                            "room must be 1-64 characters of A-Z a-z 0-9 _ -");
        }
        room = body["room"].get<std::string>();
        if (rooms.contains(room)) {
          return json_error(response, http::Status::conflict, "room exists");
        }
      }
    }
    const auto now = std::chrono::system_clock::now();
    expire_rooms(now);
    if (rooms.size() >= kMaxRooms) {
      response.set(bhttp::field::retry_after, "60");
      return json_error(response, http::Status::service_unavailable, "too many rooms");
    }
    if (room.empty()) room = random_token(9);
    const auto expiry = now + config.token_ttl;
    rooms[room] = expiry;
    rooms_created.Increment();
    rooms_active.Set(static_cast<double>(rooms.size()));
    auto presenter = mint_room_token(config.token_secret, room, Role::presenter, expiry);
    auto guest = mint_room_token(config.token_secret, room, Role::guest, expiry);
    const std::string base = base_url();
    nlohmann::json body{
        {"room", room},
        {"presenter_token", presenter},
        {"guest_token", guest},
        // Tokens travel in the fragment, which browsers never send to servers or proxies.
        {"presenter_url", base + "/present/" + room + "#token=" + presenter},
        {"guest_url", base + "/watch/" + room + "#token=" + guest},
        {"expires",
         std::chrono::duration_cast<std::chrono::seconds>(expiry.time_since_epoch()).count()},
    };
    response.set(bhttp::field::location, "/api/rooms/" + room);
    http::set_body(response, http::Status::created, body.dump() + "\n", "application/json");
    log::with(*log::get("signaling"), spdlog::level::info, "room", room, "created");
  }

  // GET /api/rooms/{room}: whether the room exists (always, when rooms are open).
  void get_room(std::string_view room, http::Response& response) {
    expire_rooms(std::chrono::system_clock::now());
    if (!valid_room_name(room))
      return json_error(response, http::Status::not_found, "no such room");
    bool known = rooms.contains(std::string(room));
    if (!known && !config.open_rooms) {
      return json_error(response, http::Status::not_found, "no such room");
    }
    http::set_body(response, http::Status::ok,
                   nlohmann::json{{"room", room}, {"created", known}}.dump() + "\n",
                   "application/json");
  }

  void expire_rooms(std::chrono::system_clock::time_point now) {
    std::erase_if(rooms, [now](const auto& item) { return item.second < now; });
    rooms_active.Set(static_cast<double>(rooms.size()));
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
    if (path.starts_with("/api/")) {
      add_cors(response);
      if (request.method() == bhttp::verb::options) {
        // CORS pre-flight (Fetch standard): what a cross-origin caller may send.
        response.set(bhttp::field::access_control_allow_methods,
                     "GET, POST, PATCH, DELETE, OPTIONS");
        response.set(bhttp::field::access_control_allow_headers,
                     "Authorization, Content-Type, If-Match");
        response.set(bhttp::field::access_control_max_age, "86400");
        response.result(http::Status::no_content);
        return;
      }
      if (path == "/api/rooms") {
        if (request.method() != bhttp::verb::post) {
          response.set(bhttp::field::allow, "POST, OPTIONS");
          return json_error(response, http::Status::method_not_allowed, "method not allowed");
        }
        return create_room(request, response);
      }
      constexpr std::string_view rooms_prefix = "/api/rooms/";
      if (path.starts_with(rooms_prefix) && request.method() == bhttp::verb::get) {
        return get_room(path.substr(rooms_prefix.size()), response);
      }
      return json_error(response, http::Status::not_found, "not found");
    }
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
  prometheus::Counter& rooms_created;
  prometheus::Gauge& rooms_active;
  prometheus::Family<prometheus::Counter>& auth_failures;
  std::map<std::string, std::chrono::system_clock::time_point> rooms;  // room -> expiry
  prometheus::Family<prometheus::Counter>& requests;
  http::Server server;
};

SignalingServer::SignalingServer(boost::asio::io_context& io, const config::SignalingConfig& config,
                                 monitoring::Metrics& metrics)
    : impl_(std::make_unique<Impl>(io, config, metrics)) {}
SignalingServer::~SignalingServer() = default;
void SignalingServer::start() {
  impl_->server.start();
}
void SignalingServer::stop() {
  impl_->server.stop();
}
boost::asio::ip::tcp::endpoint SignalingServer::local_endpoint() const {
  return impl_->server.local_endpoint();
}

}  // namespace podium::signaling
