// SyntheticBinlog: a MySQL 5.7 binlog made up on the fly for tests that feed a StoreWriter as the
// upstream would: files that start with the 5.7 fixture's FDE (CRC32) and a PREVIOUS_GTIDS event,
// GTID transactions (GTID, BEGIN, a statement padded to the size asked for, XID) with correct
// log_pos and CRCs, and ROTATE events that end a file and begin the next. It remembers the bytes of
// every file as a server would have written them, so tests can compare what readers receive.
// One thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/gtid_set.h"
#include "storage/write_batch.h"

namespace brelay::testing {

class SyntheticBinlog {
 public:
  // `prefix` names the files (prefix.000001, ...); GTIDs use `uuid`.
  static Result<SyntheticBinlog> create(std::string prefix = "synthetic-bin",
                                        std::string uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562");

  // Begins the next file (FDE and PREVIOUS_GTIDS) in `batch`.
  void begin_file(storage::WriteBatch& batch);
  // One transaction of about `statement_bytes` bytes; returns its GTID number.
  std::int64_t transaction(storage::WriteBatch& batch, std::size_t statement_bytes);
  // Ends the current file with a ROTATE and begins the next one (in the same batch unless
  // `begin_next` is false: then the next file begins with the next begin_file()).
  void rotate(storage::WriteBatch& batch, bool begin_next = true);

  const std::string& file() const { return file_; }
  std::uint64_t position() const { return position_; }
  const std::map<std::string, Bytes>& files() const { return files_; }
  const binlog::GtidSet& executed() const { return executed_; }
  std::int64_t last_gno() const { return next_gno_ - 1; }

 private:
  SyntheticBinlog() = default;
  // Completes `event` (log_pos, CRC), records it and appends it to `batch`.
  void append(storage::WriteBatch& batch, Bytes event, bool boundary, const Bytes& gtid_key = {});
  std::string file_name(int number) const;

  std::string prefix_;
  binlog::Uuid uuid_;
  Bytes fde_;
  int file_number_ = 0;
  std::string file_;
  std::uint64_t position_ = 4;
  std::int64_t next_gno_ = 1;
  std::uint64_t next_xid_ = 1;
  binlog::GtidSet executed_;
  std::map<std::string, Bytes> files_;
};

}  // namespace brelay::testing
