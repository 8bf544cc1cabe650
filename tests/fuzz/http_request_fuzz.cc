// The metrics endpoint's request-head parser and the SHOW GRANTS reader of `check` on arbitrary
// bytes: every input is incomplete, complete or refused with a status, never a crash; a complete
// head's size lies within the input, its path is never empty, and feeding the input in two parts
// never makes the first part complete beyond what it holds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/checks/grants.h"
#include "relay/http/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const brelay::relay::HttpParse whole = brelay::relay::parse_http_request_head(input);
  switch (whole.state) {
    case brelay::relay::HttpParse::State::kComplete:
      if (whole.head_size == 0 || whole.head_size > size || whole.head.path.empty()) __builtin_trap();
      if (whole.head.minor_version != 0 && whole.head.minor_version != 1) __builtin_trap();
      // The head alone parses the same.
      if (brelay::relay::parse_http_request_head(input.substr(0, whole.head_size)).state != whole.state)
        __builtin_trap();
      break;
    case brelay::relay::HttpParse::State::kBad:
      if (whole.error.status < 400 || whole.error.status > 599 || whole.error.reason.empty())
        __builtin_trap();
      break;
    case brelay::relay::HttpParse::State::kIncomplete: break;
  }
  (void)brelay::relay::http_response(200, "text/plain", input, size % 2 == 0);

  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    lines.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  const auto privileges = brelay::relay::parse_global_privileges(lines);
  (void)privileges.has("REPLICATION SLAVE");
  return 0;
}
