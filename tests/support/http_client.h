// A minimal HTTP/1.1 GET for tests of the relay's metrics endpoint (/health, /status, /metrics):
// one request on a fresh connection to 127.0.0.1, the whole response as received (the endpoint
// closes the connection after it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace brelay::testing {

// The response's bytes ("not connected" when the port does not take the connection).
// `extra_fields`: more header lines, each ending in "\r\n".
std::string http_get(std::uint16_t port, std::string_view path, std::string_view extra_fields = {});
// The status code of a response; -1 when it is no HTTP/1.1 response.
int http_status_of(const std::string& response);
// http_status_of(http_get(port, path)).
int http_status(std::uint16_t port, std::string_view path);

}  // namespace brelay::testing
