#include "relay/app/compression_scheduler.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "storage/binlog_store.h"

namespace brelay::relay {
namespace {

constexpr std::chrono::milliseconds kFirstCheck{2000};

// Files age into compress_after without any write: checked every quarter of it, between a second
// and a minute, so a file is compressed within about a quarter of compress_after of becoming due.
std::chrono::milliseconds check_period(Duration compress_after) {
  const auto quarter = std::chrono::duration_cast<std::chrono::milliseconds>(compress_after) / 4;
  return std::clamp(quarter, std::chrono::milliseconds(1000), std::chrono::milliseconds(60000));
}

}  // namespace

CompressionScheduler::CompressionScheduler(RelayContext& context)
    : context_(context),
      timer_(context.loop.raw()),
      compressed_files_(context.metrics.counter("binlog_relay_compressed_files_total",
                                                "Sealed binlog files rewritten as zstd frames ([storage] "
                                                "compression).")),
      saved_bytes_(context.metrics.counter("binlog_relay_compression_saved_bytes_total",
                                           "Disk bytes compression saved: event file bytes less compressed "
                                           "bytes, summed over the files compressed.")),
      errors_(context.metrics.counter("binlog_relay_errors_total", "Errors by kind.",
                                      {{"kind", "compression"}})) {}

CompressionScheduler::~CompressionScheduler() {
  stop();
}

void CompressionScheduler::start() {
  const StorageConfig& storage = context_.config.storage;
  if (storage.compression != "zstd") return;
  stopped_ = false;
  spdlog::info(
      "compression: sealed files last written more than {} s ago are rewritten as zstd frames (level {})",
      std::chrono::duration_cast<std::chrono::seconds>(storage.compress_after).count(),
      storage.compression_level);
  subscription_ = context_.commits.subscribe([this](const CommitNotifier::Progress& p) { on_progress(p); });
  timer_.start(kFirstCheck, [this] {
    request();
    arm_timer();
  });
}

void CompressionScheduler::stop() {
  stopped_ = true;
  timer_.stop();
  if (subscription_) context_.commits.unsubscribe(*subscription_);
  subscription_.reset();
  *alive_ = false;
  stop_flag_ = true;
  if (worker_.joinable()) worker_.join();
}

void CompressionScheduler::arm_timer() {
  timer_.start(check_period(context_.config.storage.compress_after), [this] {
    request();
    arm_timer();
  });
}

void CompressionScheduler::on_progress(const CommitNotifier::Progress& progress) {
  if (!progress.durable_end || progress.durable_end->file == newest_file_) return;
  const bool first = newest_file_.empty();
  newest_file_ = progress.durable_end->file;
  if (!first) request();
}

void CompressionScheduler::request() {
  if (stopped_) return;
  if (running_) {
    again_ = true;
    return;
  }
  running_ = true;
  if (worker_.joinable()) worker_.join();  // the last pass posted its outcome: it has ended
  const StorageConfig& config = context_.config.storage;
  storage::CompressionOptions options;
  options.level = config.compression_level;
  options.stop = &stop_flag_;
  const std::int64_t written_before =
      context_.store.now() - std::chrono::duration_cast<std::chrono::seconds>(config.compress_after).count();
  std::weak_ptr<bool> alive = alive_;
  net::EventLoop& loop = context_.loop;
  storage::BinlogStore& store = context_.store;
  worker_ = std::thread([this, alive, &loop, &store, written_before, options] {
    Outcome outcome = run(store, written_before, options);
    loop.post([this, alive, outcome = std::move(outcome)]() mutable {
      if (auto self = alive.lock(); self && *self) on_done(std::move(outcome));
    });
  });
}

CompressionScheduler::Outcome CompressionScheduler::run(storage::BinlogStore& store,
                                                        std::int64_t written_before,
                                                        const storage::CompressionOptions& options) {
  Outcome outcome;
  auto due = storage::Compressor::due_files(store, written_before);
  if (!due) {
    outcome.error = std::move(due).error();
    return outcome;
  }
  for (std::uint32_t seq : *due) {
    if (options.stop != nullptr && options.stop->load()) break;
    auto report = storage::Compressor::compress_file(store, seq, options);
    if (!report) {
      // The file stays as it was; the later ones are still compressed (a file the compressor
      // refuses, e.g. one whose events' headers do not give their lengths, must not hold them up).
      if (!outcome.error) outcome.error = std::move(report).error();
      continue;
    }
    if (!*report) continue;
    const storage::CompressionReport& done = **report;
    spdlog::info("compressed {}: {} -> {} bytes ({:.2f}x) in {} frames{}", done.file, done.stored_bytes,
                 done.compressed_bytes,
                 done.stored_bytes == 0
                     ? 0.0
                     : static_cast<double>(done.compressed_bytes) / static_cast<double>(done.stored_bytes),
                 done.frames,
                 done.readers_during_swap == 0
                     ? std::string()
                     : fmt::format(" while {} readers read it", done.readers_during_swap));
    outcome.reports.push_back(std::move(**report));
  }
  return outcome;
}

void CompressionScheduler::on_done(Outcome outcome) {
  running_ = false;
  std::uint64_t stored = 0;
  std::uint64_t compressed = 0;
  for (const storage::CompressionReport& report : outcome.reports) {
    compressed_files_.add(1);
    if (report.event_file_bytes > report.compressed_bytes)
      saved_bytes_.add(static_cast<double>(report.event_file_bytes - report.compressed_bytes));
    stored += report.stored_bytes;
    compressed += report.compressed_bytes;
  }
  if (!outcome.reports.empty()) {
    last_outcome_ =
        fmt::format("compressed {} file(s) {}..{}: {} -> {} bytes", outcome.reports.size(),
                    outcome.reports.front().file, outcome.reports.back().file, stored, compressed);
  }
  if (outcome.error) {
    errors_.add(1);
    last_outcome_ = "error: " + outcome.error->message();
    spdlog::error("compression: {}; the file stays as it was, retrying at the next check",
                  outcome.error->message());
  }
  if (again_) {
    again_ = false;
    request();
  }
}

}  // namespace brelay::relay
