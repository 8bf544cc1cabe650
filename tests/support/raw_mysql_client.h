// RawMysqlClient: a blocking test client that logs in with mysql_native_password (no TLS, no
// DEPRECATE_EOF) and hands back every packet of a reply as received, so that tests can compare a
// server's exact answer shape with another's: result-set metadata before an ERR, the 0xEF semi-sync
// prefix of a dump's packets, heartbeat types, artificial events. One thread; loopback tests only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::testing {

class RawMysqlClient {
 public:
  // Connects to 127.0.0.1:`port`, from `from` (a loopback address such as "127.0.0.2") when given.
  // A refused login is an error carrying the server's error code (1045, 1129, ...).
  static Result<std::unique_ptr<RawMysqlClient>> connect(std::uint16_t port, const std::string& user,
                                                         const std::string& password,
                                                         const std::string& from = {});
  ~RawMysqlClient();
  RawMysqlClient(const RawMysqlClient&) = delete;
  RawMysqlClient& operator=(const RawMysqlClient&) = delete;

  // Sends a command packet (sequence id 0).
  Status send_command(ByteView payload);
  // Writes as much of `bytes` as the socket takes, waiting at most `wait` for room each time it is
  // full; how many bytes it took (for clients that do not read their answers).
  Result<std::size_t> send_some(ByteView bytes, std::chrono::milliseconds wait);
  // The next packet's payload; an error on timeout or a closed connection.
  Result<Bytes> read_packet(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // COM_QUERY, without reading its reply (for clients that do not read their answers).
  Status send_query(const std::string& sql);
  // COM_QUERY and every packet of its reply: one OK or ERR, or a result set up to its final EOF or
  // an ERR anywhere in it.
  Result<std::vector<Bytes>> query_packets(const std::string& sql);
  // COM_QUERY that must succeed with a result set: its rows as text (NULL as "NULL").
  Result<std::vector<std::vector<std::string>>> query_rows(const std::string& sql);
  // The greeting's server version.
  const std::string& server_version() const { return server_version_; }

 private:
  RawMysqlClient() = default;
  Status write_packet(ByteView payload, std::uint8_t sequence);
  Status login(const std::string& user, const std::string& password);

  int fd_ = -1;
  std::string server_version_;
  std::uint8_t next_sequence_ = 0;
};

// ERR packet fields.
struct RawError {
  std::uint16_t code = 0;
  std::string message;
};
bool is_err_packet(ByteView payload);
bool is_eof_packet(ByteView payload);
RawError decode_raw_error(ByteView payload);

}  // namespace brelay::testing
