// Writing stored binlog files back out as binlog files (`binlog-relay export`, and tests that
// compare what the relay stored with what the source wrote): the 4-byte magic, then every stored
// event of the file byte for byte, so a file the relay stored completely comes out identical to
// the source's. Reads through a StoreReader (short read transactions), so it works on a store
// opened read-only while the relay runs; a file still being written is exported up to the
// durable end. Any thread that owns the store handle; no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/binlog_store.h"

namespace brelay::relay {

struct ExportedFile {
  std::string name;
  std::string path;
  std::uint64_t size = 0;  // bytes written, magic included: the file's durable end
  std::uint64_t events = 0;
  bool closed = false;  // the source rotated away from it (else it may still grow)
  // The relay began pulling inside the file ([source] start_position): the export is the magic, the
  // file's FDE and the stored events, readable by mysqlbinlog, but its offsets are not the source's.
  bool partial = false;
};

// Exports the stored file `file_name` to `path` (written to "<path>.partial", fsynced, then renamed,
// so `path` never holds half a file; an existing `path` is replaced). Errors: the file is not
// stored, a stored event fails its CRC32 check or cannot be read (the error names the file and the
// event's position; nothing is written to `path`), or I/O errors naming the path.
// `on_bytes`, when set, is told the stored bytes of each batch written (progress output).
Result<ExportedFile> export_file(storage::BinlogStore& store, std::string_view file_name,
                                 const std::string& path,
                                 const std::function<void(std::uint64_t bytes)>& on_bytes = {});

}  // namespace brelay::relay
