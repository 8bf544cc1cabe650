// Seeding a store from binlog files copied off a server (`binlog-relay import`, and tests): each
// file is read event by event with relay/binlog's BinlogFileReader, checked (the FDE first, every
// CRC, contiguous positions, the next file named by the previous one's ROTATE, no transaction cut
// at the end) and appended to the store under its own name and positions, with transaction
// boundaries and GTID keys from the TransactionBoundaryTracker, the file's FDE and previous-GTID
// blob (relay/stored_gtids.h). Files that end with ROTATE or STOP are closed in the store; the
// last file otherwise stays open, as a file the source is still writing would be.
//
// A SourceIdentity derived from the files (version and flavour from the FDE, checksum, server id,
// GTID mode and binlog format from what the events show) is kept in the store when it has none
// yet, so a relay serving an imported store greets replicas as the source would.
//
// import_files() runs its own StoreWriter on the store (no other writer may run on it) and returns
// once everything it appended is durable. Call it from any thread but a libuv loop's (it blocks).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "relay/core/source_identity.h"
#include "storage/binlog_store.h"
#include "storage/store_writer.h"

namespace brelay::relay {

struct ImportOptions {
  // Keep the SourceIdentity derived from the files in the store when it holds none (or always).
  bool record_source_identity = true;
  bool replace_source_identity = false;
  storage::StoreWriter::Options writer;
  // Called on the calling thread with the size of each event read (progress output). Every file
  // is read twice, checked and then written, so the sizes add up to twice the files' sizes.
  std::function<void(std::uint64_t bytes)> on_bytes;
};

struct ImportedFile {
  std::string name;
  std::uint64_t end_position = 0;
  std::uint64_t events = 0;
  bool closed = false;  // ended with ROTATE or STOP
};

struct ImportReport {
  std::vector<ImportedFile> files;
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;
  std::uint64_t transactions = 0;
  SourceIdentity source;  // as derived from the files
};

// Appends `paths` (in the order given, oldest first) to `store`. Every file is read and checked
// first (and the first must continue the stored chain: the file the store's newest file rotates
// to, see stored_chain.h); only then is anything written, so a refused import leaves the store as
// it was. An error while writing (a full disk) keeps what was durable before it, by the writer's
// rules. Errors name the file, the offset and what to do.
Result<ImportReport> import_files(storage::BinlogStore& store, const std::vector<std::string>& paths,
                                  const ImportOptions& options = {});

}  // namespace brelay::relay
