// Listing stored events (`binlog-relay dump`), one line per event with the columns of SHOW BINLOG
// EVENTS, tab-separated after a header line: Log_name, Pos, Event_type, Server_id, End_log_pos,
// optionally Gtid (the transaction the event belongs to: "uuid:n", "d-s-n", "ANONYMOUS", or empty
// outside transactions), and Info. Reads through a StoreReader, so it works on a store opened
// read-only while the relay runs, and stops at the durable end.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "common/result.h"
#include "storage/binlog_store.h"

namespace brelay::relay {

struct DumpOptions {
  std::string from_file;            // empty: the oldest stored file
  std::uint64_t from_position = 0;  // 0: the file's first stored event; else an event's start
  bool gtid_column = false;
  std::uint64_t limit = 0;  // events to list; 0: all
};

// "FILE:POS" or "FILE" as --from takes it.
Result<std::pair<std::string, std::uint64_t>> parse_file_position(std::string_view text);

// Writes the listing to `out`; returns the number of events listed. Errors: the start is not
// stored or not an event's start, or an event fails its CRC32 check or cannot be parsed (the
// error names its file and position; the lines before it are already written).
Result<std::uint64_t> dump_events(storage::BinlogStore& store, const DumpOptions& options, std::ostream& out);

}  // namespace brelay::relay
