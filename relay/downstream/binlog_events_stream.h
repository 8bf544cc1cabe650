// BinlogEventsStream: SHOW BINLOG EVENTS answered in parts, as mysqld streams it: every row of a
// stored file of any size, while the session holds about one part at a time. A part walks the
// stored file for at most kPartBytes of encoded rows or kPartTime, whichever comes first, and goes
// out with ServerSession::send_reply_part(). The next part follows once the client has read what
// the kernel did not take (on_drained()), or a millisecond later when the kernel took it all, so
// that the loop serves its other sessions in between. LIMIT's offset is skipped part by part the
// same way.
//
// Text rows answer COM_QUERY, binary rows a prepared statement's COM_STMT_EXECUTE. Errors come
// after the column definitions, as on the servers, and after the rows already sent. The file's end
// is the durable end when the statement starts. Owned by the DownstreamSession; loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/mysql_packets.h"
#include "net/server_session.h"
#include "net/timer.h"
#include "relay/binlog/checksum.h"
#include "relay/core/stored_file_walk.h"
#include "relay/downstream/sql_statement.h"
#include "storage/binlog_store.h"

namespace brelay::relay::downstream {

// SHOW BINLOG EVENTS's columns: the servers send them before any error of the statement.
std::vector<net::ColumnDefinition> binlog_events_columns();

class BinlogEventsStream {
 public:
  static constexpr std::size_t kPartBytes = 64 * 1024;
  static constexpr std::chrono::microseconds kPartTime{2000};

  enum class Rows { kText, kBinary };

  BinlogEventsStream(storage::BinlogStore& store, uv_loop_t* loop, net::ServerSession& session, Rows rows);
  BinlogEventsStream(const BinlogEventsStream&) = delete;
  BinlogEventsStream& operator=(const BinlogEventsStream&) = delete;

  // Answers `show`: the column definitions, the rows part by part, then EOF (or OK).
  void start(const ShowBinlogEventsStatement& show);
  // ServerSession::on_drained(); nothing once the answer's last packet is sent (or the session broke).
  void on_drained();

 private:
  // What one part has gathered so far.
  struct Part {
    std::vector<Bytes> packets;
    std::size_t bytes = 0;   // of the packets
    std::size_t events = 0;  // walked, skipped ones included
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  };

  Status resolve(const ShowBinlogEventsStatement& show);
  void send_part();
  // One walked event: skipped, or its row added to `part`; stops the walk once the part is full.
  Result<WalkStep> visit(ByteView event, std::uint64_t position, Part& part);
  // Appends the row of the event at `position` to `part`.
  Status add_row(ByteView event, std::uint64_t position, Part& part);
  void finish(const Bytes& last);

  storage::BinlogStore& store_;
  net::ServerSession& session_;
  Rows rows_;
  net::Timer next_part_;
  std::vector<net::ColumnDefinition> columns_ = binlog_events_columns();
  Bytes end_packet_;  // EOF, or OK with header 0xFE under CLIENT_DEPRECATE_EOF
  std::string file_;
  binlog::ChecksumAlgorithm checksum_ = binlog::ChecksumAlgorithm::kOff;
  std::uint64_t next_position_ = 0;  // of the next event to walk
  std::uint64_t end_position_ = 0;
  std::uint64_t to_skip_ = 0;               // LIMIT's offset, events still to skip
  std::optional<std::uint64_t> rows_left_;  // LIMIT's count still to send
  bool finished_ = true;
};

}  // namespace brelay::relay::downstream
