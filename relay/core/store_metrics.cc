#include "relay/core/store_metrics.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace brelay::relay {
namespace {

double seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

}  // namespace

StoreMetrics::StoreMetrics(MetricsRegistry& metrics, storage::BinlogStore& store)
    : commits_(metrics.counter("binlog_relay_store_commits_total", "Group commits of the storage writer.")),
      committed_events_(metrics.counter("binlog_relay_store_committed_events_total",
                                        "Binlog events written to the store.")),
      committed_bytes_(metrics.counter("binlog_relay_store_committed_bytes_total",
                                       "Binlog event bytes written to the store.")),
      commit_seconds_(metrics.histogram("binlog_relay_store_commit_seconds",
                                        "Time of one group commit, from the first put to durable.",
                                        latency_buckets())),
      fsync_seconds_(metrics.histogram(
          "binlog_relay_store_fsync_seconds",
          "Time a group commit waits for durability: event-file fdatasync and the LMDB index commit.",
          latency_buckets())),
      writer_accepting_(
          metrics.gauge("binlog_relay_store_writer_accepting",
                        "1 while the storage writer accepts events, 0 while an error stopped it.")),
      writer_errors_(
          metrics.counter("binlog_relay_errors_total", "Errors by kind.", {{"kind", "storage_writer"}})) {
  writer_accepting_.set(1);
  Counter& corrupt =
      metrics.counter("binlog_relay_store_corrupt_events_total",
                      "Damaged stored events readers found (CRC32 mismatch, event file missing or "
                      "short): never served; restore the store.");
  metrics.add_collector([&metrics, &store, &corrupt] {
    const std::uint64_t found = store.damage().events;
    if (static_cast<double>(found) > corrupt.value())
      corrupt.add(static_cast<double>(found) - corrupt.value());
    auto stats = store.stats();
    if (!stats) {
      spdlog::warn("metrics: cannot read the store's statistics: {}", stats.error().message());
      return;
    }
    metrics.gauge("binlog_relay_store_bytes", "Binlog event bytes held in the store.")
        .set(static_cast<double>(stats->stored_bytes));
    metrics.gauge("binlog_relay_store_files", "Binlog files held in the store.")
        .set(static_cast<double>(stats->file_count));
    metrics
        .gauge("binlog_relay_store_oldest_event_timestamp_seconds",
               "Source timestamp (Unix seconds) of the oldest retained event; 0 when the store is empty.")
        .set(static_cast<double>(stats->oldest_timestamp));
    metrics
        .gauge("binlog_relay_store_durable_timestamp_seconds",
               "Source timestamp (Unix seconds) of the last durable transaction; 0 when none.")
        .set(stats->durable_end ? static_cast<double>(stats->durable_end->timestamp) : 0.0);
    metrics
        .gauge("binlog_relay_store_data_file_bytes",
               "Disk space the store uses (LMDB index and event files).")
        .set(static_cast<double>(stats->data_file_bytes));
    metrics
        .gauge("binlog_relay_store_filesystem_free_bytes",
               "Free bytes on the filesystem that holds the data directory.")
        .set(static_cast<double>(stats->filesystem_free_bytes));
    metrics
        .gauge("binlog_relay_store_compressed_files",
               "Binlog files held compressed ([storage] compression); their event bytes are in "
               "binlog_relay_store_compressed_stored_bytes, their size on disk in "
               "binlog_relay_store_compressed_disk_bytes.")
        .set(static_cast<double>(stats->compressed_files));
    metrics.gauge("binlog_relay_store_compressed_stored_bytes", "Event bytes of the files held compressed.")
        .set(static_cast<double>(stats->compressed_stored_bytes));
    metrics.gauge("binlog_relay_store_compressed_disk_bytes", "Disk bytes of the compressed files.")
        .set(static_cast<double>(stats->compressed_disk_bytes));
  });
}

storage::StoreWriter::CommitObserver StoreMetrics::commit_observer() {
  return [this](const storage::StoreWriter::CommitStats& stats) {
    commits_.add();
    committed_events_.add(static_cast<double>(stats.events));
    committed_bytes_.add(static_cast<double>(stats.event_bytes));
    commit_seconds_.observe(seconds(stats.total_time));
    fsync_seconds_.observe(seconds(stats.commit_time));
  };
}

void StoreMetrics::on_progress(const storage::StoreWriter::Progress& progress) {
  writer_accepting_.set(progress.accepting ? 1 : 0);
  const bool failed = !progress.accepting;
  if (failed && !writer_failed_) writer_errors_.add();
  writer_failed_ = failed;
}

}  // namespace brelay::relay
