// RetentionScheduler applies [storage] retention_time / retention_size to the store while the relay
// runs: it asks the storage writer for a policy purge shortly after start, whenever the newest
// stored file changes (the size only grows at the end, and a rotation is when a file can first go),
// and every minute (files age without new writes). While protect_replicas is on, the purge never
// removes a file a registered reader (a replica's dump) still needs. Purges run on the writer thread;
// the outcome is logged and counted here on the loop thread.
//
// Owned by the Daemon; loop thread only; the RelayContext must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "net/timer.h"
#include "relay/core/commit_notifier.h"
#include "relay/core/metrics.h"
#include "relay/core/relay_context.h"
#include "storage/retention.h"

namespace brelay::relay {

// The policy [storage] asks for; nullopt when both limits are 0 (keep everything).
std::optional<storage::RetentionPolicy> retention_policy(const StorageConfig& storage);

class RetentionScheduler {
 public:
  explicit RetentionScheduler(RelayContext& context);
  ~RetentionScheduler();
  RetentionScheduler(const RetentionScheduler&) = delete;
  RetentionScheduler& operator=(const RetentionScheduler&) = delete;

  // Starts the checks (nothing happens when the policy keeps everything).
  void start();
  void stop();

  // The last policy purge's outcome, for status: what it reported ("" when it purged nothing; else
  // the files, or the error).
  const std::string& last_outcome() const { return last_outcome_; }

 private:
  void on_progress(const CommitNotifier::Progress& progress);
  void request_purge();
  void on_purged(Result<storage::PurgeReport> report);
  void arm_timer();

  RelayContext& context_;
  std::optional<storage::RetentionPolicy> policy_;
  net::Timer timer_;
  std::optional<CommitNotifier::SubscriptionId> subscription_;
  std::string newest_file_;
  bool in_flight_ = false;
  bool again_ = false;  // another check was asked for while one ran
  bool stopped_ = true;
  std::string last_outcome_;
  std::string last_kept_for_;  // the reader-protected file last logged (log once per file)
  // Shared with the writer thread's callback so an answer after stop() is dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  Counter& purged_files_;
  Counter& purged_bytes_;
  Counter& purge_errors_;
  Counter& guard_overrides_;
  std::string last_kept_for_replica_;  // the file last logged as kept for a remembered replica
};

}  // namespace brelay::relay
