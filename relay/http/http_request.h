// The head of an HTTP/1.x request (request line and header fields, RFC 9112) as the metrics
// endpoint needs it, and the responses it sends. Bodies are never read: the endpoint answers GET
// and HEAD only and closes the connection after each response. Pure functions, any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace brelay::relay {

struct HttpRequestHead {
  std::string method;     // "GET", "HEAD", ... (case-sensitive, as RFC 9110 says)
  std::string path;       // the request target's path, without the query ("/metrics")
  std::string query;      // after '?', without it; empty when none
  int minor_version = 1;  // HTTP/1.<minor_version>
  std::vector<std::pair<std::string, std::string>> fields;  // names as sent, values trimmed

  // The first field named `name` (compared case-insensitively).
  std::optional<std::string_view> field(std::string_view name) const;
};

// Why a request head was refused: the status to answer with and a short reason for the body.
struct HttpRequestError {
  int status = 400;
  std::string reason;
};

// What parse_http_request_head() found in the bytes received so far.
struct HttpParse {
  enum class State { kIncomplete, kComplete, kBad } state = State::kIncomplete;
  HttpRequestHead head;       // kComplete
  std::size_t head_size = 0;  // kComplete: bytes up to and including the empty line
  HttpRequestError error;     // kBad
};

// Parses the bytes received so far. kIncomplete until the empty line that ends the head arrives
// (lines end in CRLF, or a bare LF, which RFC 9112 allows a server to accept). kBad names the
// status: 400 for a malformed request line or field, or an HTTP/1.1 request without Host; 505 for
// a version other than HTTP/1.0 or 1.1. Size limits are the caller's.
HttpParse parse_http_request_head(std::string_view received);

// "OK", "Not Found", ... for the statuses the endpoint uses.
std::string_view http_status_text(int status);

// A whole response: status line, Content-Type, Content-Length, Connection: close, Cache-Control:
// no-store, any `extra_fields` ("Allow: GET, HEAD"), the empty line, and `body` unless
// `head_only` (a HEAD request gets the GET response's fields without the body).
std::string http_response(int status, std::string_view content_type, std::string_view body,
                          bool head_only = false,
                          const std::vector<std::pair<std::string, std::string>>& extra_fields = {});

}  // namespace brelay::relay
