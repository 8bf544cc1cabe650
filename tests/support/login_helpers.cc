#include "tests/support/login_helpers.h"

#include <gtest/gtest.h>

#include <fstream>

namespace brelay::testing {

net::ClientOptions plain_login_options(std::uint16_t port, const std::string& user,
                                       const std::string& password,
                                       std::chrono::milliseconds connect_timeout) {
  net::ClientOptions options;
  options.port = port;
  options.user = user;
  options.password = password;
  options.tls_mode = net::TlsMode::kDisabled;
  options.connect_timeout = connect_timeout;
  return options;
}

net::ClientOptions tls_login_options(std::uint16_t port, const std::string& user, const std::string& password,
                                     const std::string& ca_file) {
  net::ClientOptions options = plain_login_options(port, user, password);
  options.tls_mode = net::TlsMode::kVerifyCa;
  options.tls_ca_file = ca_file;
  return options;
}

std::unique_ptr<net::BlockingClient> plain_login(std::uint16_t port, const std::string& user,
                                                 const std::string& password,
                                                 std::chrono::milliseconds connect_timeout) {
  auto client = net::BlockingClient::connect(plain_login_options(port, user, password, connect_timeout));
  EXPECT_TRUE(client) << user << "@" << port << ": " << client.error().message();
  return client ? std::move(*client) : nullptr;
}

MysqlReplicaOptions tls_replica_options(std::uint16_t port, const std::string& password,
                                        const std::string& ca_file) {
  MysqlReplicaOptions options;
  options.port = port;
  options.password = password;
  options.tls_mode = net::TlsMode::kVerifyCa;
  options.tls_ca_file = ca_file;
  options.heartbeat_period = std::chrono::milliseconds(100);
  return options;
}

std::string repeat(std::string_view piece, std::size_t count) {
  std::string out;
  out.reserve(piece.size() * count);
  for (std::size_t i = 0; i < count; ++i)
    out += piece;
  return out;
}

std::size_t status_kib(pid_t pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(std::string(field) + ":", 0) == 0) return std::stoul(line.substr(field.size() + 1));
  }
  ADD_FAILURE() << "no " << field << " for pid " << pid;
  return 0;
}

}  // namespace brelay::testing
