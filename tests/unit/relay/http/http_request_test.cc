#include "relay/http/http_request.h"

#include <gtest/gtest.h>

namespace brelay::relay {
namespace {

TEST(HttpRequestHead, ParsesAGetWithHeadersAndQuery) {
  const std::string request =
      "GET /metrics?name[]=x HTTP/1.1\r\nHost: 127.0.0.1:9104\r\nUser-Agent: Prometheus/2.42.0\r\n"
      "Accept:  text/plain  \r\n\r\n";
  const HttpParse parse = parse_http_request_head(request);
  ASSERT_EQ(parse.state, HttpParse::State::kComplete) << parse.error.reason;
  EXPECT_EQ(parse.head.method, "GET");
  EXPECT_EQ(parse.head.path, "/metrics");
  EXPECT_EQ(parse.head.query, "name[]=x");
  EXPECT_EQ(parse.head.minor_version, 1);
  EXPECT_EQ(parse.head_size, request.size());
  ASSERT_TRUE(parse.head.field("accept"));
  EXPECT_EQ(*parse.head.field("ACCEPT"), "text/plain");
  EXPECT_FALSE(parse.head.field("Content-Length"));
}

TEST(HttpRequestHead, IsIncompleteUntilTheEmptyLineAtEveryCut) {
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::size_t cut = 0; cut < request.size(); ++cut) {
    const HttpParse parse = parse_http_request_head(std::string_view(request).substr(0, cut));
    EXPECT_EQ(parse.state, HttpParse::State::kIncomplete) << "cut at " << cut;
  }
  EXPECT_EQ(parse_http_request_head(request).state, HttpParse::State::kComplete);
}

TEST(HttpRequestHead, AcceptsBareLineFeedsLeadingEmptyLinesHttp10AndAbsoluteForm) {
  auto lf = parse_http_request_head("\r\nGET /health HTTP/1.0\n\n");
  ASSERT_EQ(lf.state, HttpParse::State::kComplete) << lf.error.reason;
  EXPECT_EQ(lf.head.minor_version, 0);
  EXPECT_EQ(lf.head.path, "/health");
  auto absolute = parse_http_request_head("GET http://relay:9104/metrics HTTP/1.1\r\nHost: relay\r\n\r\n");
  ASSERT_EQ(absolute.state, HttpParse::State::kComplete) << absolute.error.reason;
  EXPECT_EQ(absolute.head.path, "/metrics");
  auto bare_host = parse_http_request_head("GET http://relay HTTP/1.1\r\nHost: relay\r\n\r\n");
  ASSERT_EQ(bare_host.state, HttpParse::State::kComplete);
  EXPECT_EQ(bare_host.head.path, "/");
}

TEST(HttpRequestHead, RejectsMalformedHeadsWithTheStatusToAnswer) {
  struct Case {
    std::string request;
    int status;
  };
  const std::vector<Case> cases = {
      {"GET /metrics\r\n\r\n", 400},
      {"GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\n\r\n", 400},  // no Host
      {"GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nHost x\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nHost: x\x01y\r\n\r\n", 400},
      {"GET /metrics HTTP/1.x\r\nHost: x\r\n\r\n", 400},
      {"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"GET /metrics HTTP/1.2\r\nHost: x\r\n\r\n", 505},
  };
  for (const Case& c : cases) {
    const HttpParse parse = parse_http_request_head(c.request);
    ASSERT_EQ(parse.state, HttpParse::State::kBad) << c.request;
    EXPECT_EQ(parse.error.status, c.status) << c.request;
    EXPECT_FALSE(parse.error.reason.empty());
  }
}

TEST(HttpRequestHead, RejectsOtherProtocolsBeforeTheHeadEnds) {
  const char tls_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  EXPECT_EQ(parse_http_request_head(std::string_view(tls_hello, sizeof(tls_hello))).state,
            HttpParse::State::kBad);
  EXPECT_EQ(parse_http_request_head("GE").state, HttpParse::State::kIncomplete);
  EXPECT_EQ(parse_http_request_head("GET /metr").state, HttpParse::State::kIncomplete);
}

TEST(HttpResponse, CarriesLengthConnectionCloseAndExtraFields) {
  EXPECT_EQ(http_response(405, "text/plain", "no\n", false, {{"Allow", "GET, HEAD"}}),
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
            "Connection: close\r\nCache-Control: no-store\r\nAllow: GET, HEAD\r\n\r\nno\n");
  EXPECT_EQ(http_response(200, "text/plain", "body", true),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n"
            "Cache-Control: no-store\r\n\r\n");
}

}  // namespace
}  // namespace brelay::relay
