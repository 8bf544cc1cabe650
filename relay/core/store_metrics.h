// StoreMetrics: the store's and the storage writer's figures in the relay's MetricsRegistry.
//   - read from BinlogStore::stats() once per scrape (a collector): stored bytes and files, the
//     oldest retained event's timestamp, the durable end's timestamp, the data file's size and the
//     filesystem's free bytes;
//   - from each group commit (the writer's CommitObserver, on the writer thread): commits, events
//     and bytes committed, and histograms of the commit time and of LMDB's commit (page writes and
//     fdatasync: the durability cost);
//   - from the writer's progress (on the loop thread): whether it accepts writes, and errors.
// The registry and the store must outlive the StoreMetrics and every scrape.
#pragma once

#include "relay/core/metrics.h"
#include "storage/binlog_store.h"
#include "storage/store_writer.h"

namespace brelay::relay {

class StoreMetrics {
 public:
  StoreMetrics(MetricsRegistry& metrics, storage::BinlogStore& store);

  // For StoreWriter::start: records each commit (writer thread; lock-free).
  storage::StoreWriter::CommitObserver commit_observer();
  // Records the writer's state (loop thread: a CommitNotifier subscriber).
  void on_progress(const storage::StoreWriter::Progress& progress);

 private:
  Counter& commits_;
  Counter& committed_events_;
  Counter& committed_bytes_;
  Histogram& commit_seconds_;
  Histogram& fsync_seconds_;
  Gauge& writer_accepting_;
  Counter& writer_errors_;
  bool writer_failed_ = false;
};

}  // namespace brelay::relay
