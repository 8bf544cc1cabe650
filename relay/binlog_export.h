// Writes a stored binlog file out as a binlog file on disk, byte for byte as the source wrote it:
// the 4-byte magic, then every stored event of the file in order, up to the store's durable end.
// For `binlog-relay export` and for tests that compare the store with a server's own files.
//
// A file the relay stored from position 4 (the usual case) comes out identical to the source's
// file (a closed one: the source clears the IN_USE flag of a file it closed, the relay stores the
// FDE as a dump sends it, with the flag cleared). A file stored from a later position ([source]
// start_position) comes out as the magic, the file's FDE and the stored events: readable by
// mysqlbinlog, but its offsets are not the source's.
//
// Reads through a StoreReader (short read transactions); any thread that may read the store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/binlog_store.h"

namespace brelay::relay {

struct ExportedFile {
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;  // the file's size on disk, magic included
  bool complete = false;    // the store holds the whole file (the source rotated away from it)
};

// Exports `file_name` from `store` to `path` (created or truncated, fsynced). Errors: the file is
// not stored, a read or write failed (the error names the path).
Result<ExportedFile> export_file(storage::BinlogStore& store, std::string_view file_name,
                                 const std::string& path);

}  // namespace brelay::relay
