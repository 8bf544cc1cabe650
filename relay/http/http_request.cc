#include "relay/http/http_request.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace brelay::relay {
namespace {

// RFC 9110 tchar.
bool is_token_char(char c) {
  if (std::isalnum(static_cast<unsigned char>(c)) != 0) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

HttpParse bad(int status, std::string reason) {
  HttpParse parse;
  parse.state = HttpParse::State::kBad;
  parse.error = HttpRequestError{status, std::move(reason)};
  return parse;
}

// Splits the request target into path and query. Origin form ("/metrics?x"), absolute form
// ("http://host:port/metrics") and the asterisk form ("*") are accepted.
bool split_target(std::string_view target, HttpRequestHead& head) {
  if (target.empty() || std::any_of(target.begin(), target.end(), is_control)) return false;
  if (target == "*") {
    head.path = "*";
    return true;
  }
  if (target.front() != '/') {
    const std::size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return false;
    const std::string_view scheme = target.substr(0, scheme_end);
    if (!equals_ignoring_case(scheme, "http") && !equals_ignoring_case(scheme, "https")) return false;
    const std::size_t path_start = target.find_first_of("/?", scheme_end + 3);
    target = path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
    if (target.front() == '?') {
      head.path = "/";
      head.query = std::string(target.substr(1));
      return true;
    }
  }
  const std::size_t question = target.find('?');
  head.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) head.query = std::string(target.substr(question + 1));
  return true;
}

}  // namespace

std::optional<std::string_view> HttpRequestHead::field(std::string_view name) const {
  for (const auto& [field_name, value] : fields) {
    if (equals_ignoring_case(field_name, name)) return std::string_view(value);
  }
  return std::nullopt;
}

HttpParse parse_http_request_head(std::string_view received) {
  // Lines of the head, each without its CRLF / LF; the head ends at the first empty line after the
  // request line (empty lines before it are ignored, as RFC 9112 section 2.2 allows).
  std::vector<std::string_view> lines;
  std::size_t offset = 0;
  bool ended = false;
  while (offset < received.size()) {
    const std::size_t newline = received.find('\n', offset);
    if (newline == std::string_view::npos) break;
    std::string_view line = received.substr(offset, newline - offset);
    offset = newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (lines.empty()) continue;
      ended = true;
      break;
    }
    lines.push_back(line);
  }
  if (!ended) {
    // Bytes that can never begin a request (TLS, another protocol) need not wait for the rest.
    std::string_view start = received;
    while (!start.empty() && (start.front() == '\r' || start.front() == '\n'))
      start.remove_prefix(1);
    const std::string_view method = start.substr(0, start.find(' '));
    if (!std::all_of(method.begin(), method.end(),
                     [](char c) { return is_token_char(c) || c == '\r' || c == '\n'; })) {
      return bad(400, "malformed request line");
    }
    return HttpParse{};
  }

  HttpParse parse;
  HttpRequestHead& head = parse.head;
  const std::string_view request_line = lines.front();
  const std::size_t first_space = request_line.find(' ');
  const std::size_t last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return bad(400, "malformed request line: expected METHOD TARGET HTTP/1.1");
  }
  const std::string_view method = request_line.substr(0, first_space);
  const std::string_view target = request_line.substr(first_space + 1, last_space - first_space - 1);
  const std::string_view version = request_line.substr(last_space + 1);
  if (!is_token(method)) return bad(400, "malformed request method");
  if (target.find(' ') != std::string_view::npos || !split_target(target, head)) {
    return bad(400, "malformed request target");
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      std::isdigit(static_cast<unsigned char>(version[5])) == 0 ||
      std::isdigit(static_cast<unsigned char>(version[7])) == 0) {
    return bad(400, "malformed HTTP version");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return bad(505, fmt::format("{} is not supported: use HTTP/1.1 or HTTP/1.0", version));
  }
  head.method = std::string(method);
  head.minor_version = version[7] - '0';

  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.front() == ' ' || line.front() == '\t') return bad(400, "folded header lines are not accepted");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return bad(400, "malformed header field: no colon");
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return bad(400, "malformed header field name");
    const std::string_view value = trim(line.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), [](char c) { return c != '\t' && is_control(c); })) {
      return bad(400, "control characters in a header field value");
    }
    head.fields.emplace_back(std::string(name), std::string(value));
  }
  const auto hosts = std::count_if(head.fields.begin(), head.fields.end(), [](const auto& field) {
    return equals_ignoring_case(field.first, "host");
  });
  if (hosts > 1) return bad(400, "more than one Host header field");
  if (head.minor_version == 1 && hosts == 0) return bad(400, "an HTTP/1.1 request needs a Host header field");

  parse.state = HttpParse::State::kComplete;
  parse.head_size = offset;
  return parse;
}

std::string_view http_status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string http_response(int status, std::string_view content_type, std::string_view body, bool head_only,
                          const std::vector<std::pair<std::string, std::string>>& extra_fields) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n"
      "Cache-Control: no-store\r\n",
      status, http_status_text(status), content_type, body.size());
  for (const auto& [name, value] : extra_fields)
    out += fmt::format("{}: {}\r\n", name, value);
  out += "\r\n";
  if (!head_only) out += body;
  return out;
}

}  // namespace brelay::relay
