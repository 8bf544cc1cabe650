// CompressionScheduler applies [storage] compression = "zstd" while the relay runs: shortly after
// start, whenever the newest stored file changes (a rotation seals a file) and every minute (files
// age into compress_after), it compresses the files due (storage/compression.h) on a thread of its
// own, one file at a time, never on the loop thread or the storage writer's. Each compressed file is
// logged with its sizes and the readers that were reading it at the swap; failures are logged and
// counted and retried at the next check, the relay goes on. Shutdown raises the stop flag, which
// the compressor checks between frames, and joins the thread.
//
// Owned by the Daemon; loop thread only (the worker reports back through EventLoop::post); the
// RelayContext must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/timer.h"
#include "relay/core/commit_notifier.h"
#include "relay/core/metrics.h"
#include "relay/core/relay_context.h"
#include "storage/compression.h"

namespace brelay::relay {

class CompressionScheduler {
 public:
  explicit CompressionScheduler(RelayContext& context);
  ~CompressionScheduler();
  CompressionScheduler(const CompressionScheduler&) = delete;
  CompressionScheduler& operator=(const CompressionScheduler&) = delete;

  // Starts the checks (nothing happens unless compression is "zstd").
  void start();
  void stop();

  // For status: what the last pass did ("" before any).
  const std::string& last_outcome() const { return last_outcome_; }

 private:
  struct Outcome {
    std::vector<storage::CompressionReport> reports;
    std::optional<Error> error;
  };
  void on_progress(const CommitNotifier::Progress& progress);
  void request();
  void on_done(Outcome outcome);
  void arm_timer();
  // On the worker thread: the files due now, one by one, each logged.
  static Outcome run(storage::BinlogStore& store, std::int64_t written_before,
                     const storage::CompressionOptions& options);

  RelayContext& context_;
  net::Timer timer_;
  std::optional<CommitNotifier::SubscriptionId> subscription_;
  std::string newest_file_;
  bool running_ = false;
  bool again_ = false;
  bool stopped_ = true;
  std::string last_outcome_;
  std::atomic<bool> stop_flag_{false};
  std::thread worker_;
  // Shared with the worker's posted callback so an answer after stop() is dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  Counter& compressed_files_;
  Counter& saved_bytes_;
  Counter& errors_;
};

}  // namespace brelay::relay
