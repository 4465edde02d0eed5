// http::parse_request: what a connection makes of the bytes it receives (the parser and limits
// the HTTP fuzzer drives): a whole request, or the status the server answers instead.
#include <string>

#include <gtest/gtest.h>

#include "podium/common/http_server.hpp"

namespace podium::http {
namespace {

ServerOptions limits(std::size_t body, std::size_t header) {
  ServerOptions options;
  options.max_body_bytes = body;
  options.max_header_bytes = header;
  return options;
}

unsigned refusal(const std::string& bytes, const ServerOptions& options = {}) {
  auto request = parse_request(bytes, options);
  EXPECT_FALSE(request.ok());
  return request.ok() ? 0 : static_cast<unsigned>(request.error().status);
}

TEST(HttpParseRequest, WholeRequestWithBody) {
  auto request = parse_request(
      "POST /whip/demo HTTP/1.1\r\nHost: a\r\nContent-Type: application/sdp\r\n"
      "Content-Length: 5\r\n\r\nv=0\r\n",
      {});
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->method(), boost::beast::http::verb::post);
  EXPECT_EQ(request->target(), "/whip/demo");
  EXPECT_EQ(request->body(), "v=0\r\n");
}

TEST(HttpParseRequest, ChunkedBodyIsReassembled) {
  auto request = parse_request(
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
      {});
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->body(), "abcde");
}

TEST(HttpParseRequest, RefusalsCarryTheServersStatus) {
  EXPECT_EQ(refusal("GET / HTTP/9.9 extra\r\n\r\n"), 400u);
  EXPECT_EQ(refusal("\x01\x02\x03\r\n\r\n"), 400u);
  // Body over max_body_bytes: 413, whether announced or chunked.
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world", limits(10, 1024)),
            413u);
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0"
                    "\r\n\r\n",
                    limits(10, 1024)),
            413u);
  // Headers over max_header_bytes: 431.
  EXPECT_EQ(
      refusal("GET / HTTP/1.1\r\nX-Long: " + std::string(200, 'a') + "\r\n\r\n", limits(1024, 64)),
      431u);
  // The bytes end inside the headers or the body: the connection would time out.
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: a\r\n"), 408u);
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"), 408u);
  EXPECT_EQ(refusal(""), 408u);
}

TEST(HttpParseRequest, EveryRefusalHasAMessage) {
  auto request = parse_request("NOT HTTP\r\n\r\n", {});
  ASSERT_FALSE(request.ok());
  EXPECT_FALSE(request.error().message.empty());
}

}  // namespace
}  // namespace podium::http
