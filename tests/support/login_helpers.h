// Logging in to the relay from the hostile-input tests: client options for a plain or a TLS
// (VERIFY_CA) session of the in-tree client, a logged-in plain session, a replica over TLS, and
// helpers of those tests (a statement made of a piece repeated, a process's memory figures).
// GoogleTest expectations report what fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/blocking_client.h"
#include "tests/support/mysql_replica_client.h"

namespace brelay::testing {

// A plain (no TLS) session's options; `connect_timeout` as the test needs it.
net::ClientOptions plain_login_options(std::uint16_t port, const std::string& user,
                                       const std::string& password,
                                       std::chrono::milliseconds connect_timeout = std::chrono::seconds(10));
// A TLS session's options, verifying the server's certificate against `ca_file`.
net::ClientOptions tls_login_options(std::uint16_t port, const std::string& user, const std::string& password,
                                     const std::string& ca_file);
// A logged-in plain session, or null (with a test failure naming the account).
std::unique_ptr<net::BlockingClient> plain_login(
    std::uint16_t port, const std::string& user, const std::string& password,
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10));
// The "repl" replica over TLS (VERIFY_CA), with 100 ms heartbeats.
MysqlReplicaOptions tls_replica_options(std::uint16_t port, const std::string& password,
                                        const std::string& ca_file);

// `piece` `count` times.
std::string repeat(std::string_view piece, std::size_t count);
// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM); 0 with a test failure when missing.
std::size_t status_kib(pid_t pid, std::string_view field);

}  // namespace brelay::testing
