// Fills a store with binlog files read from disk, for tests of what reads stores (dump, export,
// metrics) before `binlog-relay import` exists: each file begins a stored file of the same name,
// every event is appended at its offset with the transaction boundaries and GTIDs the codec finds,
// and a file that ends inside a transaction keeps only its complete transactions (as the store
// does). Test-only; the product's importer is relay/binlog_import.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "storage/binlog_store.h"
#include "storage/store_writer.h"

namespace brelay::testing {

// Appends `paths` in order (each a whole binlog file) through a StoreWriter and waits until they
// are durable.
// `on_commit` observes the writer's commits (e.g. StoreMetrics::commit_observer()).
Status seed_store_from_binlogs(storage::BinlogStore& store, const std::vector<std::string>& paths,
                               storage::StoreWriter::CommitObserver on_commit = {});

}  // namespace brelay::testing
