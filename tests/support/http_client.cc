#include "tests/support/http_client.h"

#include <fmt/format.h>

#include "tests/support/raw_tcp_client.h"

namespace brelay::testing {

std::string http_get(std::uint16_t port, std::string_view path, std::string_view extra_fields) {
  RawTcpClient client(port);
  if (!client.connected()) return "not connected";
  client.send(fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}\r\n", path, extra_fields));
  return client.read_all();
}

int http_status_of(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 9, "HTTP/1.1 ") != 0) return -1;
  return std::stoi(response.substr(9, 3));
}

int http_status(std::uint16_t port, std::string_view path) {
  return http_status_of(http_get(port, path));
}

}  // namespace brelay::testing
