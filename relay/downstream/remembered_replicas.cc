#include "relay/downstream/remembered_replicas.h"

#include <ctime>
#include <limits>

#include <spdlog/spdlog.h>

#include "common/cut_for_log.h"
#include "relay/core/replica_headroom.h"

namespace brelay::relay::downstream {
namespace {

constexpr std::uint16_t kUnknownReplica = 1210;  // ER_WRONG_ARGUMENTS, HY000

std::string cut(const std::string& text, std::size_t max) {
  return text.size() <= max ? text : text.substr(0, max);
}

std::string utc_text(std::int64_t time) {
  const std::time_t t = static_cast<std::time_t>(time);
  std::tm parts{};
  gmtime_r(&t, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &parts);
  return text;
}

std::string seconds_text(double seconds) {
  if (seconds == std::numeric_limits<double>::infinity()) return "unlimited";
  return std::to_string(static_cast<std::int64_t>(seconds));
}

}  // namespace

RememberedReplicas::RememberedReplicas(RelayContext& context)
    : context_(context), timer_(context.loop.raw()) {}

RememberedReplicas::~RememberedReplicas() {
  *alive_ = false;
  timer_.stop();
}

Status RememberedReplicas::load() {
  std::vector<storage::BinlogStore::DamagedReplicaRecord> damaged;
  BRELAY_ASSIGN_OR_RETURN(std::vector<storage::ReplicaRecord> records,
                          context_.store.replica_records(&damaged));
  for (const auto& bad : damaged) {
    spdlog::error("replicas: {}", bad.error.message());
    // Kept so that FORGET REPLICA can drop it.
    if (bad.server_id) damaged_.insert(*bad.server_id);
  }
  for (storage::ReplicaRecord& record : records) {
    Entry entry;
    entry.written_last_seen = record.last_seen;
    entry.record = std::move(record);
    replicas_.emplace(entry.record.server_id, std::move(entry));
  }
  if (!replicas_.empty()) spdlog::info("replicas: {} remembered replica(s) loaded", replicas_.size());
  arm_timer();
  return {};
}

void RememberedReplicas::stop() {
  if (stopped_) return;
  for (auto& [id, entry] : replicas_) {
    if (!entry.connection_id) continue;
    entry.record.last_seen = context_.store.now();
    entry.dirty = true;
  }
  flush();
  stopped_ = true;
  timer_.stop();
}

void RememberedReplicas::arm_timer() {
  timer_.start(kFlushInterval, [this] {
    const std::int64_t now = context_.store.now();
    for (auto& [id, entry] : replicas_) {
      if (!entry.connection_id) continue;
      if (entry.dirty || now - entry.written_last_seen >= kRefreshInterval.count()) {
        entry.record.last_seen = now;
        entry.dirty = true;
      }
    }
    flush();
    arm_timer();
  });
}

RememberedReplicas::Entry* RememberedReplicas::entry_of(const ActiveDump& dump) {
  if (!dump.remember) return nullptr;
  const auto it = replicas_.find(dump.server_id);
  if (it == replicas_.end() || it->second.connection_id != dump.connection_id) return nullptr;
  return &it->second;
}

void RememberedReplicas::on_dump_started(const ActiveDump& dump) {
  if (!dump.remember || dump.server_id == 0 || stopped_) return;
  const std::int64_t now = context_.store.now();
  auto [it, added] = replicas_.try_emplace(dump.server_id);
  Entry& entry = it->second;
  storage::ReplicaRecord& record = entry.record;
  if (added) {
    record.server_id = dump.server_id;
    record.first_seen = now;
    spdlog::info("replicas: remembering server_id {} ({} from {})", dump.server_id, cut_for_log(dump.user),
                 dump.peer);
  }
  record.uuid = cut(dump.uuid, storage::ReplicaRecord::kMaxText);
  record.account = cut(dump.user, storage::ReplicaRecord::kMaxText);
  record.host = cut(dump.peer, storage::ReplicaRecord::kMaxText);
  record.file = cut(dump.file, storage::ReplicaRecord::kMaxText);
  record.position = dump.position;
  record.gtid_state = cut(dump.gtid_state, storage::ReplicaRecord::kMaxGtidState);
  record.gtid_positioned = !dump.gtid_state.empty();
  record.last_seen = std::max(now, record.first_seen);
  entry.connection_id = dump.connection_id;
  entry.dirty = true;
  damaged_.erase(dump.server_id);
  flush();
}

void RememberedReplicas::on_dump_moved(const ActiveDump& dump) {
  Entry* entry = entry_of(dump);
  if (entry == nullptr) return;
  if (entry->record.position == dump.position && entry->record.file == dump.file) return;
  if (entry->record.file != dump.file) entry->record.file = cut(dump.file, storage::ReplicaRecord::kMaxText);
  entry->record.position = dump.position;
  entry->dirty = true;  // written by the next timer tick
}

void RememberedReplicas::on_dump_ended(const ActiveDump& dump) {
  Entry* entry = entry_of(dump);
  if (entry == nullptr) return;
  entry->record.file = cut(dump.file, storage::ReplicaRecord::kMaxText);
  entry->record.position = dump.position;
  entry->record.last_seen = std::max(context_.store.now(), entry->record.first_seen);
  entry->connection_id.reset();
  entry->dirty = true;
  if (!stopped_) flush();
}

Status RememberedReplicas::forget(std::uint32_t server_id) {
  const auto it = replicas_.find(server_id);
  if (it == replicas_.end() && !damaged_.contains(server_id)) {
    return Error(
        fmt::format("no replica with server_id {} is remembered (SHOW RELAY REPLICAS lists them)", server_id),
        kUnknownReplica);
  }
  if (it != replicas_.end() && it->second.connection_id) {
    return Error(fmt::format("the replica with server_id {} is connected (connection {}): stop it and KILL "
                             "{} first, then FORGET REPLICA {}",
                             server_id, *it->second.connection_id, *it->second.connection_id, server_id),
                 kUnknownReplica);
  }
  if (it != replicas_.end()) replicas_.erase(it);
  damaged_.erase(server_id);
  flush({server_id});
  return {};
}

void RememberedReplicas::flush(std::vector<std::uint32_t> forget) {
  storage::StoreWriter::ReplicaUpdate update;
  update.forget = std::move(forget);
  for (auto& [id, entry] : replicas_) {
    if (!entry.dirty) continue;
    update.records.push_back(entry.record);
    entry.dirty = false;
    entry.written_last_seen = entry.record.last_seen;
  }
  if (update.records.empty() && update.forget.empty()) return;
  std::weak_ptr<bool> alive = alive_;
  net::EventLoop& loop = context_.loop;
  context_.writer.request_replica_update(std::move(update), [this, alive, &loop](Status written) {
    // On the writer thread: report on the loop.
    loop.post([this, alive, written = std::move(written)] {
      auto self = alive.lock();
      if (!self || !*self) return;
      const std::string error = written ? std::string() : written.error().message();
      if (!error.empty() && error != last_error_) {
        spdlog::error("replicas: recording the remembered replicas failed: {}; retrying with the next change",
                      error);
      }
      last_error_ = error;
    });
  });
}

std::vector<RememberedReplica> RememberedReplicas::list() const {
  std::vector<RememberedReplica> list;
  const StorageConfig& storage = context_.config.storage;
  const std::int64_t now = context_.store.now();
  const auto files = context_.store.list_files();
  const auto stats = context_.store.stats();
  HeadroomInputs inputs;
  inputs.now = now;
  inputs.protect_replicas = storage.protect_replicas;
  inputs.grace_seconds = std::chrono::duration_cast<std::chrono::seconds>(storage.replica_grace).count();
  inputs.max_age_seconds = std::chrono::duration_cast<std::chrono::seconds>(storage.retention_time).count();
  inputs.max_total_bytes = storage.retention_size;
  inputs.free_bytes = stats ? stats->filesystem_free_bytes : 0;
  inputs.guard_free_bytes = kDiskGuardFreeBytes;
  for (const auto& [id, entry] : replicas_) {
    RememberedReplica replica;
    replica.record = entry.record;
    replica.connection_id = entry.connection_id;
    if (storage.protect_replicas && !entry.connection_id)
      replica.protected_until = entry.record.last_seen + inputs.grace_seconds;
    if (files) {
      inputs.files = &*files;
      inputs.file = entry.record.file;
      inputs.connected = entry.connection_id.has_value();
      inputs.last_seen = entry.record.last_seen;
      replica.headroom_seconds = retention_headroom_seconds(inputs);
    }
    list.push_back(std::move(replica));
  }
  return list;
}

void RememberedReplicas::collect_metrics() {
  std::set<std::string> current;
  for (const RememberedReplica& replica : list()) {
    std::string id = std::to_string(replica.record.server_id);
    context_.metrics
        .gauge("binlog_relay_replica_retention_headroom_seconds",
               "Seconds of history a remembered replica can still fall behind before retention or the disk "
               "drops what it needs (+Inf: nothing limits it).",
               {{"replica", id}})
        .set(replica.headroom_seconds);
    current.insert(std::move(id));
  }
  for (const std::string& id : exported_) {
    if (!current.contains(id))
      context_.metrics.remove_series("binlog_relay_replica_retention_headroom_seconds", {{"replica", id}});
  }
  exported_ = std::move(current);
}

net::ResultSet RememberedReplicas::show() const {
  using net::ColumnDefinition;
  net::ResultSet result;
  result.columns = {ColumnDefinition::unsigned_integer("Server_id"),
                    ColumnDefinition::text("Uuid"),
                    ColumnDefinition::text("User"),
                    ColumnDefinition::text("Host"),
                    ColumnDefinition::text("State", 16),
                    ColumnDefinition::unsigned_integer("Connection_id"),
                    ColumnDefinition::text("File"),
                    ColumnDefinition::unsigned_integer("Position"),
                    ColumnDefinition::text("Gtid_state", 65535),
                    ColumnDefinition::text("First_seen", 19),
                    ColumnDefinition::text("Last_seen", 19),
                    ColumnDefinition::text("Protected_until", 19),
                    ColumnDefinition::text("Retention_headroom_seconds", 20)};
  for (const RememberedReplica& replica : list()) {
    const storage::ReplicaRecord& record = replica.record;
    net::TextRow row = {
        std::to_string(record.server_id),
        record.uuid,
        record.account,
        record.host,
        std::string(replica.connection_id ? "connected" : "disconnected"),
        replica.connection_id ? std::optional<std::string>(std::to_string(*replica.connection_id))
                              : std::nullopt,
        record.file,
        std::to_string(record.position),
        record.gtid_state,
        utc_text(record.first_seen),
        utc_text(record.last_seen),
        replica.protected_until ? std::optional<std::string>(utc_text(*replica.protected_until))
                                : std::nullopt,
        seconds_text(replica.headroom_seconds)};
    result.rows.push_back(std::move(row));
  }
  return result;
}

}  // namespace brelay::relay::downstream
