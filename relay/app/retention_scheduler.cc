#include "relay/app/retention_scheduler.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "relay/core/replica_headroom.h"

namespace brelay::relay {
namespace {

constexpr std::chrono::milliseconds kFirstCheck{2000};
constexpr std::chrono::milliseconds kPeriodicCheck{60000};

}  // namespace

std::optional<storage::RetentionPolicy> retention_policy(const StorageConfig& storage) {
  storage::RetentionPolicy policy;
  policy.max_age_seconds = std::chrono::duration_cast<std::chrono::seconds>(storage.retention_time).count();
  policy.max_total_bytes = storage.retention_size;
  if (policy.max_age_seconds <= 0 && policy.max_total_bytes == 0) return std::nullopt;
  return policy;
}

RetentionScheduler::RetentionScheduler(RelayContext& context)
    : context_(context),
      timer_(context.loop.raw()),
      purged_files_(context.metrics.counter("binlog_relay_retention_purged_files_total",
                                            "Binlog files removed by retention and PURGE BINARY LOGS.")),
      purged_bytes_(context.metrics.counter("binlog_relay_retention_purged_bytes_total",
                                            "Event bytes removed by retention.")),
      purge_errors_(
          context.metrics.counter("binlog_relay_errors_total", "Errors by kind.", {{"kind", "retention"}})),
      guard_overrides_(context.metrics.counter("binlog_relay_retention_disk_guard_total",
                                               "Policy purges that ignored remembered replicas because the "
                                               "disk was nearly full or the writer stopped.")) {}

RetentionScheduler::~RetentionScheduler() {
  stop();
}

void RetentionScheduler::start() {
  policy_ = retention_policy(context_.config.storage);
  if (!policy_) {
    spdlog::info("retention: keeping every stored file ([storage] retention_time and retention_size are 0)");
    return;
  }
  stopped_ = false;
  spdlog::info(
      "retention: keeping files written within {} s and at most {} bytes in all{}", policy_->max_age_seconds,
      policy_->max_total_bytes,
      context_.config.storage.protect_replicas
          ? fmt::format(
                ", never what a connected replica still reads nor, for {} s after it was last seen, "
                "what a disconnected remembered replica needs",
                std::chrono::duration_cast<std::chrono::seconds>(context_.config.storage.replica_grace)
                    .count())
          : std::string());
  subscription_ = context_.commits.subscribe([this](const CommitNotifier::Progress& p) { on_progress(p); });
  timer_.start(kFirstCheck, [this] {
    request_purge();
    arm_timer();
  });
}

void RetentionScheduler::stop() {
  stopped_ = true;
  timer_.stop();
  if (subscription_) context_.commits.unsubscribe(*subscription_);
  subscription_.reset();
  *alive_ = false;
}

void RetentionScheduler::arm_timer() {
  timer_.start(kPeriodicCheck, [this] {
    request_purge();
    arm_timer();
  });
}

void RetentionScheduler::on_progress(const CommitNotifier::Progress& progress) {
  if (!progress.durable_end || progress.durable_end->file == newest_file_) return;
  const bool first = newest_file_.empty();
  newest_file_ = progress.durable_end->file;
  if (!first) request_purge();
}

void RetentionScheduler::request_purge() {
  if (stopped_ || !policy_) return;
  if (in_flight_) {
    again_ = true;
    return;
  }
  in_flight_ = true;
  storage::PurgeRequest request =
      storage::PurgeRequest::by_policy(*policy_, context_.config.storage.protect_replicas);
  // Remembered replicas keep what they need for replica_grace, unless the disk guard trips: the
  // relay must go on storing (replica_headroom.h).
  if (context_.config.storage.protect_replicas) {
    auto stats = context_.store.stats();
    const bool accepting = context_.commits.latest().accepting;
    if (disk_guard_trips(stats ? stats->filesystem_free_bytes : kDiskGuardFreeBytes, accepting)) {
      guard_overrides_.add();
      spdlog::error(
          "retention: {}: purging by the retention limits alone, files that disconnected remembered replicas "
          "need may go (protect_replicas yields to the disk guard)",
          accepting ? fmt::format("less than {} MiB free on the data directory's filesystem",
                                  kDiskGuardFreeBytes >> 20)
                    : std::string("the storage writer has stopped"));
    } else {
      const auto grace =
          std::chrono::duration_cast<std::chrono::seconds>(context_.config.storage.replica_grace);
      request.protect_replicas_seen_since = context_.store.now() - grace.count();
    }
  }
  std::weak_ptr<bool> alive = alive_;
  net::EventLoop& loop = context_.loop;
  context_.writer.request_purge(std::move(request),
                                [this, alive, &loop](Result<storage::PurgeReport> report) {
                                  // On the writer thread: hand the outcome to the loop.
                                  loop.post([this, alive, report = std::move(report)]() mutable {
                                    if (auto self = alive.lock(); self && *self) on_purged(std::move(report));
                                  });
                                });
}

void RetentionScheduler::on_purged(Result<storage::PurgeReport> report) {
  in_flight_ = false;
  if (!report) {
    purge_errors_.add();
    last_outcome_ = "error: " + report.error().message();
    spdlog::error("retention: the purge failed: {}; the store keeps its files, retrying in a minute",
                  report.error().message());
  } else {
    if (!report->purged_files.empty()) {
      purged_files_.add(static_cast<double>(report->purged_files.size()));
      purged_bytes_.add(static_cast<double>(report->purged_bytes));
      last_outcome_ =
          fmt::format("purged {} file(s) {}..{} ({} bytes)", report->purged_files.size(),
                      report->purged_files.front(), report->purged_files.back(), report->purged_bytes);
      spdlog::info("retention: {}", last_outcome_);
    }
    if (report->kept_for_reader && *report->kept_for_reader != last_kept_for_) {
      spdlog::warn(
          "retention: keeping {} and later files beyond the retention limits because a replica is still "
          "reading it (protect_replicas = true); a replica that stays behind makes the store grow",
          *report->kept_for_reader);
    }
    last_kept_for_ = report->kept_for_reader.value_or("");
    if (report->kept_for_replica && report->kept_for_replica_file != last_kept_for_replica_) {
      spdlog::warn(
          "retention: keeping {} and later files beyond the retention limits for the remembered replica with "
          "server_id {} (protect_replicas, replica_grace); FORGET REPLICA {} lets them go",
          report->kept_for_replica_file, *report->kept_for_replica, *report->kept_for_replica);
    }
    last_kept_for_replica_ = report->kept_for_replica ? report->kept_for_replica_file : std::string();
  }
  if (again_) {
    again_ = false;
    request_purge();
  }
}

}  // namespace brelay::relay
