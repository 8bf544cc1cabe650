#include "relay/app/daemon.h"

#include <csignal>

#include <cerrno>
#include <filesystem>
#include <map>

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "common/hex.h"
#include "net/signal_watcher.h"
#include "relay/app/compression_scheduler.h"
#include "relay/app/logging.h"
#include "relay/app/operator_metrics.h"
#include "relay/app/retention_scheduler.h"
#include "relay/app/sd_notify.h"
#include "relay/app/version.h"
#include "relay/core/commit_notifier.h"
#include "relay/core/config_access.h"
#include "relay/core/config_to_layers.h"
#include "relay/core/metrics.h"
#include "relay/core/relay_context.h"
#include "relay/core/source_identity.h"
#include "relay/core/store_metrics.h"
#include "relay/core/stored_event_check.h"
#include "relay/downstream/downstream_server.h"
#include "relay/http/hazard_status.h"
#include "relay/http/health.h"
#include "relay/http/metrics_http.h"
#include "relay/http/relay_status.h"
#include "relay/http/remembered_status.h"
#include "relay/http/status_access.h"
#include "relay/upstream/upstream.h"
#include "storage/binlog_store.h"
#include "storage/store_writer.h"

namespace brelay::relay {
namespace {

constexpr std::string_view kServerUuidMetaKey = "relay_server_uuid";

// Once at start: whether stored files are encrypted at rest (issue 17).
void log_encryption(const storage::BinlogStore& store) {
  auto summary = store.encryption_summary();
  if (!summary) return;
  if (summary->current_master_id == 0) {
    if (summary->encrypted_files > 0)
      spdlog::warn("{} stored files are encrypted but no encryption_key_file is set",
                   summary->encrypted_files);
    return;
  }
  spdlog::info("encryption at rest: new files are encrypted under master key id {}",
               summary->current_master_id);
  if (summary->plain_files > 0) {
    spdlog::warn(
        "{} older stored files are not encrypted (written before encryption_key_file was set); "
        "they stay plain until retention purges them",
        summary->plain_files);
  }
}

void notify_systemd(std::string_view state) {
  if (auto sent = sd_notify(state); !sent) {
    if (sent.error().code() == EAGAIN) {
      spdlog::debug("{}", sent.error().message());
    } else {
      spdlog::warn("{}", sent.error().message());
    }
  }
}

// The relay's own server_uuid: from the config, else the one kept in the store, else a new one
// (kept in the store so that it never changes under the replicas).
Result<std::string> relay_server_uuid(const Config& config, storage::BinlogStore& store) {
  if (!config.server.server_uuid.empty()) return config.server.server_uuid;
  BRELAY_ASSIGN_OR_RETURN(std::optional<Bytes> stored, store.get_meta(kServerUuidMetaKey));
  if (stored) return std::string(as_text(*stored));
  std::string uuid = generate_uuid();
  BRELAY_TRY(store.put_meta(kServerUuidMetaKey, as_bytes(uuid)));
  return uuid;
}

Result<std::optional<SourceIdentity>> stored_source_identity(storage::BinlogStore& store) {
  BRELAY_ASSIGN_OR_RETURN(std::optional<Bytes> stored, store.get_meta(kSourceIdentityMetaKey));
  if (!stored) return std::optional<SourceIdentity>();
  BRELAY_ASSIGN_OR_RETURN(SourceIdentity identity, decode_source_identity(*stored));
  return std::optional<SourceIdentity>(std::move(identity));
}

class Daemon {
 public:
  Daemon(Config config, DaemonOptions options) : config_(std::move(config)), options_(std::move(options)) {}

  int run() {
    if (auto started = start(); !started) {
      spdlog::critical("binlog-relay cannot start: {}", started.error().message());
      return 1;
    }
    auto ran = loop_.run();
    (void)ran;
    const Status writer_status = writer_ ? writer_->stop() : Status();
    if (!writer_status) spdlog::error("the storage writer stopped with: {}", writer_status.error().message());
    spdlog::info("binlog-relay stopped");
    return 0;
  }

 private:
  Status start() {
    LogSettings log{config_.log.level, config_.log.file, config_.log.format};
    if (!options_.log_level.empty()) log.level = options_.log_level;
    if (!options_.log_format.empty()) log.format = options_.log_format;
    BRELAY_TRY(configure_logging(log));
    spdlog::info("binlog-relay starting with {}", config_.path);
    warn_about_hygiene();

    std::error_code ec;
    std::filesystem::create_directories(config_.storage.data_dir, ec);
    if (ec) {
      return make_error(
          "cannot create the data directory {}: {}; create it and give the relay's user write "
          "access",
          config_.storage.data_dir, ec.message());
    }
    BRELAY_ASSIGN_OR_RETURN(storage::StoreOptions store_options, store_options(config_.storage));
    BRELAY_ASSIGN_OR_RETURN(store_, storage::BinlogStore::open(config_.storage.data_dir, store_options));
    log_encryption(*store_);
    BRELAY_ASSIGN_OR_RETURN(std::string server_uuid, relay_server_uuid(config_, *store_));
    BRELAY_ASSIGN_OR_RETURN(std::optional<SourceIdentity> source, stored_source_identity(*store_));
    if (auto end = store_->durable_end()) {
      spdlog::info("store {} opened: resuming after {}:{}", config_.storage.data_dir, end->file,
                   end->position);
    } else {
      spdlog::info("store {} opened: empty", config_.storage.data_dir);
    }

    commits_ = std::make_unique<CommitNotifier>(loop_);
    store_metrics_ = std::make_unique<StoreMetrics>(metrics_, *store_);
    BRELAY_ASSIGN_OR_RETURN(
        writer_,
        storage::StoreWriter::start(
            *store_, {}, [notifier = commits_.get()](const auto& progress) { notifier->publish(progress); },
            store_metrics_->commit_observer()));
    commits_->subscribe(
        [this](const CommitNotifier::Progress& progress) { store_metrics_->on_progress(progress); });
    context_.emplace(
        RelayContext{loop_, config_, *store_, *writer_, *commits_, metrics_, server_uuid, source, {}});

    BRELAY_TRY(start_metrics_endpoint());
    upstream_ = std::make_unique<Upstream>(*context_);
    upstream_->set_state_listener([this](const UpstreamStatus& status) {
      if (status.state == UpstreamState::kStreaming && downstream_) downstream_->refresh_greeting();
      if (status.state == UpstreamState::kConnecting || status.state == UpstreamState::kSettingUp) return;
      std::string line = fmt::format("STATUS=upstream {}", to_string(status.state));
      if (status.state == UpstreamState::kStreaming) line += fmt::format(" from {}", status.source_address);
      if (status.state == UpstreamState::kStopped || status.state == UpstreamState::kWaitingForStore) {
        line += ": " + status.last_error;
      }
      notify_systemd(line);
    });
    BRELAY_TRY(upstream_->start());
    downstream_ = std::make_unique<downstream::DownstreamServer>(*context_);
    BRELAY_TRY(downstream_->start());
    retention_ = std::make_unique<RetentionScheduler>(*context_);
    retention_->start();
    compression_ = std::make_unique<CompressionScheduler>(*context_);
    compression_->start();
    context_->status_rows = [this] { return status_rows(); };
    if (metrics_http_)
      metrics_http_->set_status_function([this] { return format_status_rows(status_rows()); });
    metrics_.add_collector([this] { collect_replica_metrics(); });

    for (int signal_number : {SIGTERM, SIGINT, SIGHUP}) {
      auto& watcher = signals_.emplace_back(std::make_unique<net::SignalWatcher>(loop_.raw()));
      BRELAY_TRY(watcher->start(signal_number, [this](int received) { on_signal(received); }));
    }
    notify_systemd("READY=1\nSTATUS=running");
    spdlog::info("binlog-relay ready (server_uuid {})", server_uuid);
    return {};
  }

  // Root, and a configuration file others may read that --allow-insecure-config let through.
  void warn_about_hygiene() const {
    if (running_as_root()) spdlog::warn("running as root (uid 0): {}", kRunningAsRootAdvice);
    if (!options_.allow_insecure_config) return;
    auto exposure = config_exposure(config_);
    if (exposure && *exposure) {
      spdlog::warn("{}; started anyway (--allow-insecure-config). {}", (*exposure)->problem,
                   (*exposure)->fix);
    }
  }

  // [metrics] listen: GET /metrics and /health over HTTP on the loop.
  Status start_metrics_endpoint() {
    metrics_.gauge("binlog_relay_build_info", "The relay's version (always 1).", {{"version", kVersion}})
        .set(1);
    metrics_.gauge("binlog_relay_start_time_seconds", "When the relay started (Unix seconds).")
        .set(static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()));
    register_operator_metrics(metrics_, config_,
                              [this] { return upstream_ ? &upstream_->status() : nullptr; });
    if (!config_.metrics.listen) return {};
    MetricsHttpServer::Options options;
    options.status_access = {config_.metrics.status_token, is_loopback_host(config_.metrics.listen->host)};
    BRELAY_ASSIGN_OR_RETURN(metrics_http_, MetricsHttpServer::start(
                                               loop_, config_.metrics.listen->to_string(), metrics_,
                                               [this] { return health(); }, options));
    spdlog::info("metrics and health at http://{}/metrics and /health; /status {}", metrics_http_->address(),
                 !options.status_access.token.empty() ? "with [metrics] status_token as a bearer token"
                 : options.status_access.loopback_listen
                     ? "open (loopback only)"
                     : "disabled: the address is not loopback and [metrics] status_token is not set");
    return {};
  }

  // What /health answers: pulling when the upstream streams, serving while the listener is open.
  HealthReport health() const {
    HealthInputs inputs;
    if (upstream_) {
      const UpstreamStatus& status = upstream_->status();
      inputs.pulling = status.state == UpstreamState::kStreaming;
      inputs.upstream_problem = fmt::format("the upstream is {}", to_string(status.state));
      if (!status.last_error.empty()) inputs.upstream_problem += ": " + status.last_error;
    } else {
      inputs.upstream_problem = "the upstream is not running";
    }
    inputs.serving = downstream_ && downstream_->port() != 0 && !stopping_;
    if (!inputs.serving) inputs.server_problem = "the replica listener is not open";
    const CommitNotifier::Progress& progress = commits_->latest();
    if (!progress.accepting) {
      inputs.writer_error = progress.error ? progress.error->message() : std::string("stopped");
    }
    inputs.store_damage = describe_damage(store_->damage());
    return evaluate_health(inputs);
  }

  StatusRows status_rows() const {
    RelayStatusInputs inputs;
    inputs.store = store_.get();
    if (upstream_) inputs.upstream = &upstream_->status();
    inputs.writer = &commits_->latest();
    if (downstream_) {
      inputs.replicas = &downstream_->registry();
      inputs.sessions = downstream_->session_count();
    }
    if (auto policy = retention_policy(config_.storage)) {
      inputs.retention = fmt::format("files written within the last {} s, at most {} in all{}",
                                     policy->max_age_seconds, human_bytes(policy->max_total_bytes),
                                     config_.storage.protect_replicas ? "; what replicas read is kept" : "");
    } else {
      inputs.retention = "keep everything";
    }
    if (retention_) inputs.retention_last = retention_->last_outcome();
    StatusRows rows = relay_status_rows(inputs);
    add_compression_rows(rows);
    if (context_) add_hazard_rows(rows, context_->hazards, config_.server.hold_on_hazard);
    if (downstream_)
      add_remembered_replica_rows(rows, downstream_->remembered().list(), config_.storage.protect_replicas,
                                  store_->now());
    return rows;
  }

  // Per-replica series (bytes sent, lag) and sessions by state, refreshed at each scrape; the series
  // of a dump that ended are removed.
  void collect_replica_metrics() {
    const std::size_t sessions = downstream_ ? downstream_->session_count() : 0;
    const std::vector<downstream::ActiveDump> dumps =
        downstream_ ? downstream_->registry().dumps() : std::vector<downstream::ActiveDump>();
    metrics_
        .gauge("binlog_relay_sessions", "Client sessions on the replica listener, by state.",
               {{"state", "dumping"}})
        .set(static_cast<double>(dumps.size()));
    metrics_
        .gauge("binlog_relay_sessions", "Client sessions on the replica listener, by state.",
               {{"state", "other"}})
        .set(static_cast<double>(sessions > dumps.size() ? sessions - dumps.size() : 0));
    const std::optional<storage::ResumePoint> durable_end = store_->durable_end();
    const auto files = store_->list_files();
    std::map<std::uint32_t, Labels> current;
    for (const downstream::ActiveDump& dump : dumps) {
      const Labels& labels =
          current[dump.connection_id] = {{"connection", std::to_string(dump.connection_id)},
                                         {"server_id", std::to_string(dump.server_id)},
                                         {"user", dump.user}};
      metrics_.gauge("binlog_relay_replica_sent_bytes", "Binlog bytes sent to a replica's dump.", labels)
          .set(static_cast<double>(dump.bytes_sent));
      auto lag = files ? replica_lag(*store_, *files, durable_end, dump.file, dump.position)
                       : Result<ReplicaLag>(files.error());
      metrics_
          .gauge("binlog_relay_replica_lag_bytes", "Stored bytes a replica's dump has not been sent.", labels)
          .set(lag ? static_cast<double>(lag->bytes) : -1.0);
      metrics_
          .gauge("binlog_relay_replica_lag_seconds",
                 "Seconds between the newest stored event and the next one a replica's dump will get.",
                 labels)
          .set(lag && lag->seconds ? static_cast<double>(*lag->seconds) : -1.0);
    }
    for (const auto& [connection, labels] : replica_series_) {
      if (current.count(connection)) continue;
      for (const char* name : {"binlog_relay_replica_sent_bytes", "binlog_relay_replica_lag_bytes",
                               "binlog_relay_replica_lag_seconds"})
        metrics_.remove_series(name, labels);
    }
    replica_series_ = std::move(current);
    if (downstream_) downstream_->remembered().collect_metrics();
  }

  // [storage] compression and what it has done (storage/compression.h).
  void add_compression_rows(StatusRows& rows) const {
    const StorageConfig& storage = config_.storage;
    if (storage.compression != "zstd") {
      rows.emplace_back("Compression", "none");
      return;
    }
    rows.emplace_back(
        "Compression",
        fmt::format("zstd level {}, files sealed and last written more than {} s ago",
                    storage.compression_level,
                    std::chrono::duration_cast<std::chrono::seconds>(storage.compress_after).count()));
    if (auto stats = store_->stats()) {
      rows.emplace_back(
          "Compressed_Files",
          fmt::format("{} of {} files: {} stored bytes in {} on disk", stats->compressed_files,
                      stats->file_count, stats->compressed_stored_bytes, stats->compressed_disk_bytes));
    }
    if (compression_ && !compression_->last_outcome().empty())
      rows.emplace_back("Compression_Last", compression_->last_outcome());
  }

  void on_signal(int signal_number) {
    if (signal_number == SIGHUP) {
      reload();
      return;
    }
    if (stopping_) return;
    stopping_ = true;
    spdlog::info("received {}: finishing the commit in flight and stopping",
                 signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    notify_systemd("STOPPING=1");
    signals_.clear();
    if (retention_) retention_->stop();
    if (compression_) compression_->stop();
    if (upstream_) upstream_->stop();
    if (downstream_) downstream_->shutdown();
    loop_.stop();
  }

  void reload() {
    notify_systemd("RELOADING=1");
    LogSettings log{config_.log.level, config_.log.file, config_.log.format};
    if (!options_.log_level.empty()) log.level = options_.log_level;
    if (!options_.log_format.empty()) log.format = options_.log_format;
    if (auto reopened = configure_logging(log); !reopened) {
      spdlog::error("SIGHUP: could not reopen the log: {}", reopened.error().message());
    }
    spdlog::info("SIGHUP: log reopened");
    reload_config();
    notify_systemd("READY=1");
  }

  // Re-reads the configuration file and applies what can change while running ([[users]] and the
  // downstream TLS files); a bad file changes nothing.
  void reload_config() {
    auto reloaded = load_config(config_.path);
    if (!reloaded) {
      spdlog::error("SIGHUP: keeping the running configuration: {}", reloaded.error().message());
      return;
    }
    if (downstream_) {
      if (auto applied = downstream_->reload(*reloaded); !applied) {
        spdlog::error("SIGHUP: keeping the running accounts and certificate: {}", applied.error().message());
        return;
      }
    }
    config_.users = reloaded->users;
    config_.server.tls_cert = reloaded->server.tls_cert;
    config_.server.tls_key = reloaded->server.tls_key;
    config_.server.tls_ciphers = reloaded->server.tls_ciphers;
    config_.server.tls_min_version = reloaded->server.tls_min_version;
    config_.server.require_tls = reloaded->server.require_tls;
  }

  Config config_;
  DaemonOptions options_;
  net::EventLoop loop_;
  MetricsRegistry metrics_;
  std::unique_ptr<storage::BinlogStore> store_;
  std::unique_ptr<StoreMetrics> store_metrics_;  // before writer_: the writer thread records into it
  std::unique_ptr<CommitNotifier> commits_;
  std::unique_ptr<storage::StoreWriter> writer_;
  std::optional<RelayContext> context_;
  std::unique_ptr<MetricsHttpServer> metrics_http_;
  std::unique_ptr<Upstream> upstream_;
  std::unique_ptr<downstream::DownstreamServer> downstream_;
  std::unique_ptr<RetentionScheduler> retention_;
  std::unique_ptr<CompressionScheduler> compression_;
  std::vector<std::unique_ptr<net::SignalWatcher>> signals_;
  std::map<std::uint32_t, Labels> replica_series_;  // the per-replica series now exported, by connection
  bool stopping_ = false;
};

}  // namespace

std::string generate_uuid() {
  std::uint8_t bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // OpenSSL's generator failing is not recoverable in any useful way; fall back to the clock.
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    for (std::size_t i = 0; i < sizeof(bytes); ++i)
      bytes[i] = static_cast<std::uint8_t>(now >> (8 * (i % 8)));
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = to_hex(ByteView(bytes, sizeof(bytes)));
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20));
}

int run_daemon(Config config, const DaemonOptions& options) {
  Daemon daemon(std::move(config), options);
  return daemon.run();
}

}  // namespace brelay::relay
