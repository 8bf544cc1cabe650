// Which binlog file continues what a store already holds, for `binlog-relay import`: an import may
// only append the file the store's newest file hands over to (its ROTATE's target; after a STOP,
// the name with the next sequence number, as the server names the file it opens after a restart).
// A store whose newest file is still open (no ROTATE or STOP stored) cannot be continued by an
// import. Reads the store only; any thread but a libuv loop's (it takes LMDB read transactions).
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "storage/binlog_store.h"

namespace brelay::relay {

struct StoredChainEnd {
  std::string last_file;      // the store's newest file
  bool open = false;          // it has no ROTATE or STOP yet: nothing may follow it
  std::string expected_next;  // when closed: the file that must come next
};

// std::nullopt for an empty store.
Result<std::optional<StoredChainEnd>> stored_chain_end(storage::BinlogStore& store);

// "mysql-bin.000041" -> "mysql-bin.000042" (same width, at least); empty when the name has no
// numeric extension.
std::string next_binlog_name(const std::string& name);

}  // namespace brelay::relay
