// A small HTTP/1.1 server on Boost.Beast for the control path (signaling, metrics, admin).
// Handlers run on the server's io_context thread and must not block for long.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "podium/common/result.hpp"

namespace podium::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Status = boost::beast::http::status;

struct ServerOptions {
  boost::asio::ip::tcp::endpoint listen;
  std::size_t max_body_bytes = 1024 * 1024;  // larger bodies get 413
  std::size_t max_header_bytes = 16 * 1024;
  // A request must arrive completely within this time (slow clients are cut off).
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive idle
  std::size_t max_connections = 4096;             // further connections are closed at once
  std::string server_name = "podium";
};

struct RequestContext {
  boost::asio::ip::tcp::endpoint remote;
};

// Fill `response` (status, headers, body). Version and keep-alive are set by the server.
using Handler = std::function<void(const Request&, const RequestContext&, Response&)>;

// Called when the server rejects a request itself (413 too large, 400 malformed, 408 timeout).
using RejectHook = std::function<void(Status)>;

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Throws std::system_error on bind failure (startup path).
  void start();
  // Stops accepting and closes every connection.
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void on_reject(RejectHook hook);

  struct State;  // shared with the connections it accepted

 private:
  std::shared_ptr<State> state_;
};

// Why the server refused to read a request, and what it answers.
struct RequestError {
  Status status = Status::bad_request;  // 400 malformed, 413 body, 431 headers, 408 incomplete
  std::string_view message;
};

// Parses `bytes` as a connection of a server with `options` parses what it receives (same
// parser, same limits): the first request, or what the server would answer instead (408 when
// the bytes end before a whole request). The fuzzer and tests reach the parser through it.
Result<Request, RequestError> parse_request(std::string_view bytes, const ServerOptions& options);

// "1xx" ... "5xx" (anything else counts as "5xx"): the code label of request counters.
std::string_view status_class(unsigned status);

// Helper for handlers: set a plain-text or JSON body with its content type.
void set_body(Response& response, Status status, std::string body,
              std::string_view content_type = "text/plain; charset=utf-8");

// The token of `Authorization: Bearer <token>` (RFC 6750 section 2.1; the scheme is
// case-insensitive, RFC 9110 section 11.1), "" when there is none.
std::string_view bearer_token(const Request& request);
// Compares secrets in time independent of where they differ (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace podium::http
