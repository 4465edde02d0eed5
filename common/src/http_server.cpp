#include "podium/common/http_server.hpp"

#include <openssl/crypto.h>

#include <optional>
#include <unordered_set>

#include <boost/algorithm/string/predicate.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace podium::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string_view status_class(unsigned status) {
  static constexpr std::string_view classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  const unsigned index = status / 100 - 1;
  return classes[index > 4 ? 4 : index];
}

void set_body(Response& response, Status status, std::string body, std::string_view content_type) {
  response.result(status);
  response.set(bhttp::field::content_type, content_type);
  response.body() = std::move(body);
}

namespace {

class Connection;

using RequestParser = bhttp::request_parser<bhttp::string_body>;

void apply_limits(RequestParser& parser, const ServerOptions& options) {
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(options.max_body_bytes);
}

// What the server answers a request Beast's parser refused.
RequestError request_error(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) return {Status::payload_too_large, "request body too large"};
  if (ec == bhttp::error::header_limit) {
    return {Status::request_header_fields_too_large, "request headers too large"};
  }
  return {Status::bad_request, "malformed request"};
}

}  // namespace

Result<Request, RequestError> parse_request(std::string_view bytes, const ServerOptions& options) {
  RequestParser parser;
  apply_limits(parser, options);
  parser.eager(true);
  beast::error_code ec;
  asio::const_buffer rest(bytes.data(), bytes.size());
  while (rest.size() > 0 && !parser.is_done()) {
    const std::size_t used = parser.put(rest, ec);
    if (ec == bhttp::error::need_more) break;
    if (ec) return fail(request_error(ec));
    if (used == 0) break;
    rest += used;
  }
  // The bytes ended before a whole request: a connection would wait until request_timeout.
  if (!parser.is_done()) return fail(RequestError{Status::request_timeout, "request timeout"});
  return parser.release();
}

struct Server::State : std::enable_shared_from_this<Server::State> {
  State(asio::io_context& io, ServerOptions opts, Handler h)
      : io(io), options(std::move(opts)), handler(std::move(h)), acceptor(io) {}

  asio::io_context& io;
  ServerOptions options;
  Handler handler;
  RejectHook reject_hook;
  tcp::acceptor acceptor;
  bool stopped = false;
  std::unordered_set<std::shared_ptr<Connection>> connections;

  void accept();
  void reject(Status status) {
    if (reject_hook) reject_hook(status);
  }
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Server::State> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    beast::error_code ec;
    remote_ = stream_.socket().remote_endpoint(ec);
  }

  void start() { read(); }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  void read() {
    parser_.emplace();
    apply_limits(*parser_, server_->options);
    // The whole request must arrive within request_timeout; an idle keep-alive connection
    // waits at most idle_timeout for its next request's first byte.
    stream_.expires_after(first_request_ ? server_->options.request_timeout
                                         : server_->options.idle_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted) {
      return finish();
    }
    if (ec == beast::error::timeout) {
      server_->reject(Status::request_timeout);
      return finish();
    }
    if (ec) {
      const RequestError error = request_error(ec);
      server_->reject(error.status);
      return respond_error(error.status, std::string(error.message) + "\n");
    }
    first_request_ = false;
    Request request = parser_->release();
    auto response = std::make_shared<Response>();
    response->version(request.version());
    response->keep_alive(request.keep_alive());
    response->set(bhttp::field::server, server_->options.server_name);
    response->result(Status::not_found);
    RequestContext context{remote_};
    try {
      server_->handler(request, context, *response);
    } catch (const std::exception& e) {
      set_body(*response, Status::internal_server_error,
               std::string("internal error: ") + e.what());
    }
    if (request.method() == bhttp::verb::head) {
      response->prepare_payload();
      response->body().clear();
    } else {
      response->prepare_payload();
    }
    write(std::move(response));
  }

  void respond_error(Status status, std::string body) {
    auto response = std::make_shared<Response>();
    response->version(11);
    response->keep_alive(false);
    response->set(bhttp::field::server, server_->options.server_name);
    set_body(*response, status, std::move(body));
    response->prepare_payload();
    write(std::move(response));
  }

  void write(std::shared_ptr<Response> response) {
    stream_.expires_after(server_->options.request_timeout);
    bhttp::async_write(stream_, *response,
                       [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                         if (ec || !response->keep_alive()) return self->finish();
                         self->read();
                       });
  }

  void finish() {
    close();
    server_->connections.erase(shared_from_this());
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<Server::State> server_;
  tcp::endpoint remote_;
  bool first_request_ = true;
};

}  // namespace

void Server::State::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped || ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (self->connections.size() >= self->options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
        self->reject(Status::service_unavailable);
      } else {
        auto connection = std::make_shared<Connection>(std::move(socket), self);
        self->connections.insert(connection);
        connection->start();
      }
    }
    self->accept();
  });
}

Server::Server(asio::io_context& io, ServerOptions options, Handler handler)
    : state_(std::make_shared<State>(io, std::move(options), std::move(handler))) {}

Server::~Server() {
  stop();
}

void Server::start() {
  auto& acceptor = state_->acceptor;
  const auto& endpoint = state_->options.listen;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  state_->accept();
}

void Server::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  beast::error_code ec;
  state_->acceptor.close(ec);
  auto connections = std::move(state_->connections);
  state_->connections.clear();
  for (const auto& connection : connections) connection->close();
}

tcp::endpoint Server::local_endpoint() const {
  beast::error_code ec;
  return state_->acceptor.local_endpoint(ec);
}

void Server::on_reject(RejectHook hook) {
  state_->reject_hook = std::move(hook);
}

std::string_view bearer_token(const Request& request) {
  std::string_view header = request[boost::beast::http::field::authorization];
  constexpr std::string_view scheme = "bearer ";
  if (!boost::algorithm::istarts_with(header, scheme)) return {};
  auto token = header.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace podium::http
