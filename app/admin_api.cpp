#include "admin_api.hpp"

#include <string_view>

#include <boost/beast/http/verb.hpp>

namespace podium::app {

namespace bhttp = boost::beast::http;

namespace {

// RFC 3986 section 2.1 percent-decoding of a path segment or query value ('+' stays '+');
// false for a broken escape.
bool percent_decode(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (i + 2 >= text.size()) return false;
    const int high = hex(text[i + 1]);
    const int low = hex(text[i + 2]);
    if (high < 0 || low < 0) return false;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

// The value of `key` in the query string, decoded; "" when absent.
bool query_value(std::string_view query, std::string_view key, std::string& value) {
  value.clear();
  while (!query.empty()) {
    auto end = query.find('&');
    auto pair = query.substr(0, end);
    auto equals = pair.find('=');
    if (pair.substr(0, equals) == key) {
      return percent_decode(equals == std::string_view::npos ? "" : pair.substr(equals + 1), value);
    }
    if (end == std::string_view::npos) break;
    query.remove_prefix(end + 1);
  }
  return true;
}

void json_body(http::Response& response, http::Status status, const nlohmann::json& body) {
  http::set_body(response, status, body.dump(2) + "\n", "application/json");
}

void method_not_allowed(http::Response& response, const char* allow) {
  response.set(bhttp::field::allow, allow);
  http::set_body(response, http::Status::method_not_allowed, "method not allowed\n");
}

nlohmann::json to_json(const relay::AllocationInfo& a) {
  return {{"id", a.id},
          {"user", a.user},
          {"username", a.username},
          {"transport", a.transport},
          {"client", a.client},
          {"server", a.server},
          {"relayed", a.relayed},
          {"relayed_additional", a.relayed_additional},
          {"age_seconds", a.age_seconds},
          {"expires_in_seconds", a.expires_in_seconds},
          {"permissions", a.permissions},
          {"channels", a.channels},
          {"bytes_to_peer", a.bytes_to_peer},
          {"bytes_to_client", a.bytes_to_client}};
}

}  // namespace

void AdminApi::handle(const http::Request& request, http::Response& response) const {
  const std::string& token = config->metrics ? config->metrics->admin_token : std::string();
  if (token.empty()) {
    return http::set_body(response, http::Status::not_found,
                          "the admin API is off (metrics.admin_token is empty)\n");
  }
  if (!http::constant_time_equal(http::bearer_token(request), token)) {
    response.set(bhttp::field::www_authenticate, "Bearer");
    return http::set_body(response, http::Status::unauthorized, "admin token required\n");
  }
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const std::string_view query =
      path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view();
  const auto method = request.method();

  if (path == "/admin/drain") {
    if (method != bhttp::verb::post) return method_not_allowed(response, "POST");
    return json_body(response, http::Status::accepted, drain());
  }
  if (path == "/admin/config") {
    if (method != bhttp::verb::get) return method_not_allowed(response, "GET");
    return http::set_body(response, http::Status::ok, config::to_redacted_yaml(*config),
                          "application/yaml; charset=utf-8");
  }

  constexpr std::string_view users_prefix = "/admin/users/";
  constexpr std::string_view allocations_suffix = "/allocations";
  const bool allocations = path == "/admin/allocations";
  const bool user_allocations = path.starts_with(users_prefix) &&
                                path.ends_with(allocations_suffix) &&
                                path.size() > users_prefix.size() + allocations_suffix.size();
  if (!allocations && !user_allocations) {
    return http::set_body(response, http::Status::not_found, "not found\n");
  }
  if (!relay) {
    return http::set_body(response, http::Status::not_found, "no relay in this process\n");
  }

  std::string user;
  bool valid = true;
  if (user_allocations) {
    valid = percent_decode(path.substr(users_prefix.size(), path.size() - users_prefix.size() -
                                                                allocations_suffix.size()),
                           user);
  } else {
    valid = query_value(query, "user", user);
  }
  if (!valid || user.find('/') != std::string::npos) {
    return http::set_body(response, http::Status::bad_request, "malformed user name\n");
  }

  if (allocations && method != bhttp::verb::get) return method_not_allowed(response, "GET");
  if (method == bhttp::verb::get) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& allocation : relay->list_allocations()) {
      if (!user.empty() && allocation.user != user && allocation.username != user) continue;
      list.push_back(to_json(allocation));
    }
    return json_body(response, http::Status::ok,
                     {{"count", list.size()}, {"allocations", std::move(list)}});
  }
  if (method != bhttp::verb::delete_) return method_not_allowed(response, "GET, DELETE");
  // DELETE /admin/users/{user}/allocations: every allocation of that user ends now.
  const std::size_t ended = relay->terminate_user(user);
  json_body(response, http::Status::ok, {{"user", user}, {"terminated", ended}});
}

}  // namespace podium::app
