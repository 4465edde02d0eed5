#include "podium/signaling/signaling_server.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <array>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "embedded_files.hpp"
#include "podium/common/http_server.hpp"
#include "podium/common/random.hpp"
#include "podium/monitoring/logging.hpp"
#include "podium/relay/rest_credentials.hpp"
#include "podium/signaling/room_token.hpp"
#include "podium/signaling/whip_http.hpp"

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
  if (ext == ".webp") return "image/webp";
  if (ext == ".webmanifest") return "application/manifest+json";
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

using http::bearer_token;
using http::constant_time_equal;

constexpr std::size_t kMaxRooms = 100000;

// WHIP/WHEP request counters: endpoint x method x result, all created up front (bounded labels).
enum class SessionMethod : std::uint8_t { post, patch, del };
enum class SessionResult : std::uint8_t { ok, client_error, server_error };

SessionResult result_of(unsigned status) {
  if (status >= 500) return SessionResult::server_error;
  if (status >= 400) return SessionResult::client_error;
  return SessionResult::ok;
}

void text_error(http::Response& response, http::Status status, std::string_view reason) {
  http::set_body(response, status, std::string(reason) + "\n");
}

}  // namespace

struct SignalingServer::Impl {
  Impl(boost::asio::io_context& io, const config::SignalingConfig& cfg,
       monitoring::Metrics& metrics, SignalingDeps dependencies)
      : config(cfg),
        deps(std::move(dependencies)),
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
        session_requests(prometheus::BuildCounter()
                             .Name("podium_signaling_sessions_requests_total")
                             .Help("WHIP/WHEP requests (POST creates, PATCH updates, DELETE ends "
                                   "a session), by endpoint, method and result.")
                             .Register(metrics.registry())),
        server(io,
               http::ServerOptions{
                   .listen = {cfg.listen.address, cfg.listen.port},
                   .max_body_bytes = cfg.max_sdp_bytes.bytes,
               },
               [this](const http::Request& request, const http::RequestContext& context,
                      http::Response& response) { handle_counted(request, context, response); }) {
    server.on_reject([this](http::Status status) { count(static_cast<unsigned>(status)); });
    // Open rooms need no secret from the operator; tokens are still minted (and checked when a
    // client sends one), with a secret that lives as long as the process.
    if (config.token_secret.empty()) config.token_secret = random_token(32);
    // mint_ice_credential() refuses an empty secret or a negative TTL: drop such a source here
    // rather than fail a request after its session exists.
    if (deps.ice &&
        (deps.ice->secret.empty() || deps.ice->ttl.count() < 0 || deps.ice->uris.empty())) {
      if (!deps.ice->uris.empty()) {
        log::get("signaling")->warn("no TURN secret: WHIP/WHEP answers carry no ICE servers");
      }
      deps.ice.reset();
    }
    static constexpr std::array<std::string_view, 3> methods{"post", "patch", "delete"};
    static constexpr std::array<std::string_view, 3> results{"ok", "client_error", "server_error"};
    for (auto endpoint : {whip::Endpoint::whip, whip::Endpoint::whep}) {
      for (std::size_t m = 0; m < methods.size(); ++m) {
        for (std::size_t r = 0; r < results.size(); ++r) {
          session_counters[static_cast<std::size_t>(endpoint)][m][r] =
              &session_requests.Add({{"endpoint", std::string(whip::to_string(endpoint))},
                                     {"method", std::string(methods[m])},
                                     {"result", std::string(results[r])}});
        }
      }
    }
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
    if (draining) {
      response.set(bhttp::field::retry_after, "5");
      return json_error(response, http::Status::service_unavailable,
                        "this server is draining; try another one");
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

  // --- WHIP (RFC 9725) and WHEP ---------------------------------------------------------------

  // Every request to /whip/... and /whep/... (CORS headers already set).
  void handle_session_request(const whip::Target& target, const http::Request& request,
                              http::Response& response) {
    const bool endpoint_url = target.session.empty();
    if (request.method() == bhttp::verb::options) return session_preflight(endpoint_url, response);
    // The endpoint URL takes POST; a session URL PATCH and DELETE (RFC 9725 sections 4.2, 4.3).
    std::optional<SessionMethod> method;
    if (endpoint_url && request.method() == bhttp::verb::post) method = SessionMethod::post;
    if (!endpoint_url && request.method() == bhttp::verb::patch) method = SessionMethod::patch;
    if (!endpoint_url && request.method() == bhttp::verb::delete_) method = SessionMethod::del;
    if (!method) {
      response.set(bhttp::field::allow, endpoint_url ? "POST, OPTIONS" : "PATCH, DELETE, OPTIONS");
      return text_error(response, http::Status::method_not_allowed, "method not allowed");
    }
    handle_session_method(target, *method, request, response);
    session_counters[static_cast<std::size_t>(target.endpoint)][static_cast<std::size_t>(*method)]
                    [static_cast<std::size_t>(result_of(response.result_int()))]
                        ->Increment();
  }

  // CORS pre-flight (Fetch standard). No ICE servers here, although RFC 9725 section 4.4 would
  // allow them: a pre-flight carries no Authorization, and TURN credentials for anyone who asks
  // would open the relay to everyone.
  void session_preflight(bool endpoint_url, http::Response& response) {
    response.set(bhttp::field::access_control_allow_methods, "POST, PATCH, DELETE, OPTIONS");
    response.set(bhttp::field::access_control_allow_headers,
                 "Authorization, Content-Type, If-Match");
    response.set(bhttp::field::access_control_max_age, "86400");
    if (!endpoint_url) response.set(bhttp::field::accept_patch, "application/trickle-ice-sdpfrag");
    response.result(http::Status::no_content);
  }

  void handle_session_method(const whip::Target& target, SessionMethod method,
                             const http::Request& request, http::Response& response) {
    const std::string room(target.room);
    if (!valid_room_name(room)) {
      return json_error(response, http::Status::not_found, "no such room");
    }
    if (!target.session.empty() && !whip::valid_session_id(target.session)) {
      return json_error(response, http::Status::not_found, "no such session");
    }
    if (deps.sessions == nullptr) {
      response.set(bhttp::field::retry_after, "60");
      return text_error(response, http::Status::service_unavailable, "no SFU in this process");
    }
    const Role role = target.endpoint == whip::Endpoint::whip ? Role::presenter : Role::guest;
    const auto now = std::chrono::system_clock::now();
    if (!authorize(request, room, role, now, response)) return;
    switch (method) {
      case SessionMethod::post:
        return create_session(target, role, request, now, response);
      case SessionMethod::patch:
        return update_session(target, request, response);
      case SessionMethod::del:
        return close_session(target, response);
    }
  }

  // RFC 9725 section 4.5: a Bearer token (RFC 6750) on every request, here the room token of
  // `room` for `role` (a presenter's also admits a guest). Without one, open rooms let anyone in;
  // a token that is sent is always checked. Fills the 401/403 and returns false when refused.
  bool authorize(const http::Request& request, const std::string& room, Role role,
                 std::chrono::system_clock::time_point now, http::Response& response) {
    auto token = bearer_token(request);
    if (token.empty()) {
      if (config.open_rooms) return true;
      auth_failures.Add({{"reason", "missing_token"}}).Increment();
      response.set(bhttp::field::www_authenticate, "Bearer");
      json_error(response, http::Status::unauthorized, "a room token is required");
      return false;
    }
    auto check = verify_room_token(config.token_secret, token, room, role, now);
    if (check == TokenCheck::ok) return true;
    auth_failures.Add({{"reason", std::string(to_string(check))}}).Increment();
    json_error(response, http::Status::forbidden,
               "room token refused: " + std::string(to_string(check)));
    return false;
  }

  // Whether `room` exists for a new session. Open rooms always do. Otherwise a room exists once
  // created with POST /api/rooms, or once a presenter has published there (see
  // remember_presenter_room), until its expiry; only a presenter may be first.
  bool room_admits(const std::string& room, Role role, std::chrono::system_clock::time_point now) {
    if (config.open_rooms || role == Role::presenter) return true;
    expire_rooms(now);
    return rooms.contains(room);
  }

  // A presenter with a valid token makes its room known until the token expires (tokens minted
  // offline by `podium token` need no POST /api/rooms), extending what POST /api/rooms set.
  void remember_presenter_room(const std::string& room, const http::Request& request,
                               std::chrono::system_clock::time_point now) {
    if (config.open_rooms) return;
    auto token = bearer_token(request);
    auto expiry = room_token_expiry(token);
    if (!expiry) return;
    expire_rooms(now);
    auto it = rooms.find(room);
    if (it != rooms.end()) {
      if (it->second < *expiry) it->second = *expiry;
      return;
    }
    // Full: this presenter is served, but its guests get 404 until rooms expire.
    if (rooms.size() >= kMaxRooms) return;
    rooms.emplace(room, *expiry);
    rooms_active.Set(static_cast<double>(rooms.size()));
  }

  // POST /whip/{room} and /whep/{room}: an SDP offer in, 201 with the answer out (RFC 9725
  // section 4.2).
  void create_session(const whip::Target& target, Role role, const http::Request& request,
                      std::chrono::system_clock::time_point now, http::Response& response) {
    const std::string room(target.room);
    if (!room_admits(room, role, now)) {
      return json_error(response, http::Status::not_found, "no such room");
    }
    if (!whip::has_media_type(request[bhttp::field::content_type], "application/sdp")) {
      response.set(bhttp::field::accept, "application/sdp");
      return text_error(response, http::Status::unsupported_media_type,
                        "the offer must be application/sdp");
    }
    if (request.body().empty()) {
      return text_error(response, http::Status::bad_request, "empty SDP offer");
    }
    sfu::SessionOffer offer{
        .role = role == Role::presenter ? sfu::SessionRole::presenter : sfu::SessionRole::guest,
        .room = room,
        .sdp = request.body(),
    };
    auto answer = deps.sessions->create_session(offer);
    if (!answer) return session_error(response, answer.error());
    if (role == Role::presenter) remember_presenter_room(room, request, now);

    const std::string endpoint(whip::to_string(target.endpoint));
    std::string location;  // built by appends: GCC 12 misreads chained + (bug 105329)
    location.append("/").append(endpoint).append("/").append(room).append("/").append(
        answer->session_id);
    response.set(bhttp::field::location, location);
    response.set(bhttp::field::etag, whip::etag_field(answer->etag));
    // RFC 9725 section 4.4: the ICE servers as Link header fields, one per server, with a TURN
    // REST credential of its own for this session (the relay counts user_quota per session).
    if (deps.ice) {
      auto credential = relay::mint_ice_credential(
          deps.ice->secret, std::string(endpoint).append("-").append(answer->session_id),
          deps.ice->ttl);
      for (auto& link :
           whip::ice_server_links(deps.ice->uris, credential.username, credential.credential)) {
        response.insert(bhttp::field::link, link);
      }
    }
    http::set_body(response, http::Status::created, std::move(answer->sdp), "application/sdp");
    log::with(*log::get("signaling"), spdlog::level::info, "session", answer->session_id,
              "{} session created in room {}", endpoint, room);
  }

  // PATCH on a session URL: trickle ICE or an ICE restart (RFC 9725 section 4.3, RFC 8840).
  void update_session(const whip::Target& target, const http::Request& request,
                      http::Response& response) {
    if (!whip::has_media_type(request[bhttp::field::content_type],
                              "application/trickle-ice-sdpfrag")) {
      response.set(bhttp::field::accept_patch, "application/trickle-ice-sdpfrag");
      return text_error(response, http::Status::unsupported_media_type,
                        "PATCH takes application/trickle-ice-sdpfrag");
    }
    // RFC 9725 section 4.3.2: If-Match names the ICE session a trickle PATCH is for (412 when it
    // is not the current one); section 4.3.3: an ICE restart carries If-Match: "*". The SFU
    // compares; it gets the entity-tag without quotes, as it gave it.
    auto updated = deps.sessions->update_session(
        std::string(target.room), std::string(target.session), request.body(),
        whip::if_match_tag(request[bhttp::field::if_match]));
    if (!updated) return session_error(response, updated.error());
    if (!updated->ice_restarted) {
      response.result(http::Status::no_content);
      return;
    }
    response.set(bhttp::field::etag, whip::etag_field(updated->etag));
    http::set_body(response, http::Status::ok, std::move(updated->sdpfrag),
                   "application/trickle-ice-sdpfrag");
    log::with(*log::get("signaling"), spdlog::level::info, "session", target.session,
              "ICE restart in room {}", target.room);
  }

  // DELETE on a session URL ends the session (RFC 9725 section 4.2).
  void close_session(const whip::Target& target, http::Response& response) {
    auto closed =
        deps.sessions->close_session(std::string(target.room), std::string(target.session));
    if (!closed) return session_error(response, closed.error());
    response.result(http::Status::ok);
    log::with(*log::get("signaling"), spdlog::level::info, "session", target.session,
              "{} session ended in room {}", whip::to_string(target.endpoint), target.room);
  }

  // What a SessionService refusal is in HTTP (see sfu/session_service.hpp).
  static void session_error(http::Response& response, const sfu::SessionError& error) {
    switch (error.code) {
      case sfu::SessionErrorCode::bad_offer:
        return text_error(response, http::Status::bad_request,
                          error.reason.empty() ? "unusable SDP" : error.reason);
      case sfu::SessionErrorCode::not_found:
        return json_error(response, http::Status::not_found, "no such session");
      case sfu::SessionErrorCode::capacity:
      case sfu::SessionErrorCode::unavailable:
        response.set(bhttp::field::retry_after, "5");
        return text_error(response, http::Status::service_unavailable,
                          error.reason.empty() ? "the SFU is busy" : error.reason);
      case sfu::SessionErrorCode::precondition_failed:
        return text_error(
            response, http::Status::precondition_failed,
            error.reason.empty() ? "If-Match does not name the current ICE session" : error.reason);
    }
    text_error(response, http::Status::internal_server_error, "unknown SFU error");
  }

  void count(unsigned status) {
    requests.Add({{"code", std::string(http::status_class(status))}}).Increment();
  }

  void handle_counted(const http::Request& request, const http::RequestContext& context,
                      http::Response& response) {
    handle(request, context, response);
    count(response.result_int());
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
      if (path == "/api/client-config" && request.method() == bhttp::verb::get) {
        return client_config(response);
      }
      constexpr std::string_view rooms_prefix = "/api/rooms/";
      if (path.starts_with(rooms_prefix) && request.method() == bhttp::verb::get) {
        return get_room(path.substr(rooms_prefix.size()), response);
      }
      return json_error(response, http::Status::not_found, "not found");
    }
    if (whip::is_whip_path(path)) {
      add_cors(response);
      auto target = whip::parse_target(path);
      if (!target) return json_error(response, http::Status::not_found, "not found");
      return handle_session_request(*target, request, response);
    }
    if (request.method() != bhttp::verb::get && request.method() != bhttp::verb::head) {
      response.set(bhttp::field::allow, "GET, HEAD");
      return http::set_body(response, http::Status::method_not_allowed, "method not allowed\n");
    }
    serve_page(path, request, response);
  }

  // The web client (signaling/web/, embedded): the landing page at /, the presenter page at
  // /present/{room}, the guest page at /watch/{room}; the room and its token travel in the
  // page's own URL and fragment, so the server hands out the same file for every room.
  void serve_page(std::string_view path, const http::Request& request, http::Response& response) {
    if (path == "/") path = "/index.html";
    if (path.starts_with("/present/") && path.find('/', 9) == std::string_view::npos) {
      path = "/present.html";
    } else if (path.starts_with("/watch/") && path.find('/', 7) == std::string_view::npos) {
      path = "/watch.html";
    }
    for (const auto& file : embedded_files()) {
      if (file.path != path) continue;
      // Revalidated on every load (no-cache); the files change only with the binary.
      response.set(bhttp::field::cache_control, "no-cache");
      const std::string& etag = etag_of(file);
      response.set(bhttp::field::etag, etag);
      response.set("X-Content-Type-Options", "nosniff");
      // Room tokens travel in URL fragments, which are never sent in a Referer; no-referrer
      // also keeps the room name off third parties' logs when a slide links elsewhere.
      response.set("Referrer-Policy", "no-referrer");
      if (path.ends_with(".html")) {
        // Pages load only their own scripts and styles; slides are blob: URLs. WebRTC itself
        // is not governed by CSP.
        response.set("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
                     "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                     "form-action 'self'");
        response.set("Permissions-Policy", "microphone=(self), camera=()");
      }
      // RFC 9110 section 13.1.2: the page is unchanged since the client's copy.
      if (request[bhttp::field::if_none_match] == etag) {
        response.result(http::Status::not_modified);
        return;
      }
      return http::set_body(response, http::Status::ok, std::string(file.bytes),
                            content_type_for(path));
    }
    http::set_body(response, http::Status::not_found, "not found\n");
  }

  // A strong validator per embedded file (computed once).
  const std::string& etag_of(const EmbeddedFile& file) {
    auto it = etags.find(file.path);
    if (it != etags.end()) return it->second;
    // FNV-1a over the bytes: not a security boundary, only a cache validator.
    std::uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : file.bytes) hash = (hash ^ c) * 1099511628211ull;
    char text[24];
    std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(hash));
    return etags.emplace(file.path, text).first->second;
  }

  // GET /api/client-config: the settings the web client takes from the server's config.
  void client_config(http::Response& response) {
    http::set_body(
        response, http::Status::ok,
        nlohmann::json{{"max_image_edge", config.max_image_edge}, {"open_rooms", config.open_rooms}}
                .dump() +
            "\n",
        "application/json");
  }

  config::SignalingConfig config;
  SignalingDeps deps;
  bool draining = false;
  prometheus::Counter& rooms_created;
  prometheus::Gauge& rooms_active;
  prometheus::Family<prometheus::Counter>& auth_failures;
  std::map<std::string, std::chrono::system_clock::time_point> rooms;  // room -> expiry
  std::map<std::string_view, std::string> etags;                       // embedded file -> ETag
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Counter>& session_requests;
  // [endpoint][SessionMethod][SessionResult]
  std::array<std::array<std::array<prometheus::Counter*, 3>, 3>, 2> session_counters{};
  http::Server server;
};

SignalingServer::SignalingServer(boost::asio::io_context& io, const config::SignalingConfig& config,
                                 monitoring::Metrics& metrics, SignalingDeps deps)
    : impl_(std::make_unique<Impl>(io, config, metrics, std::move(deps))) {}
SignalingServer::~SignalingServer() = default;
void SignalingServer::start() {
  impl_->server.start();
}
void SignalingServer::handle(const http::Request& request, const http::RequestContext& context,
                             http::Response& response) {
  impl_->handle_counted(request, context, response);
}
void SignalingServer::stop() {
  impl_->server.stop();
}
boost::asio::ip::tcp::endpoint SignalingServer::local_endpoint() const {
  return impl_->server.local_endpoint();
}

std::vector<std::string> SignalingServer::reload(const config::SignalingConfig& next) {
  auto& running = impl_->config;
  std::vector<std::string> restart_only;
  if (next.listen != running.listen) restart_only.push_back("signaling.listen");
  if (next.max_sdp_bytes.bytes != running.max_sdp_bytes.bytes) {
    restart_only.push_back("signaling.max_sdp_bytes");
  }
  const std::string generated = running.token_secret;
  const auto listen = running.listen;
  const auto max_sdp = running.max_sdp_bytes;
  running = next;
  running.listen = listen;
  running.max_sdp_bytes = max_sdp;
  if (running.token_secret.empty()) running.token_secret = generated;  // open rooms only
  return restart_only;
}

void SignalingServer::reload_ice_credentials(const std::string& secret, std::chrono::seconds ttl) {
  auto& ice = impl_->deps.ice;
  if (!ice || secret.empty() || ttl.count() < 0) return;
  ice->secret = secret;
  ice->ttl = ttl;
}

void SignalingServer::drain() {
  impl_->draining = true;
}

}  // namespace podium::signaling
