#include "relay/http/relay_status.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "relay/binlog/event_header.h"
#include "relay/core/stored_event_check.h"
#include "storage/store_reader.h"

namespace brelay::relay {
namespace {

std::string unix_time_text(std::int64_t seconds) {
  if (seconds <= 0) return "-";
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

std::string coordinates(const std::string& file, std::uint64_t position) {
  return file.empty() ? std::string("-") : fmt::format("{}:{}", file, position);
}

void add_upstream_rows(StatusRows& rows, const UpstreamStatus& upstream) {
  rows.emplace_back("Upstream_State", std::string(to_string(upstream.state)));
  rows.emplace_back("Upstream_Last_Error", upstream.last_error.empty() ? "-" : upstream.last_error);
  rows.emplace_back("Source", upstream.source_address.empty() ? "-" : upstream.source_address);
  rows.emplace_back("Source_Switches", std::to_string(upstream.source_switches));
  rows.emplace_back("Last_Source_Switch", upstream.last_switch.empty() ? "-" : upstream.last_switch);
  rows.emplace_back("Source_Candidates_Refused",
                    upstream.candidate_refusals.empty() ? "-" : upstream.candidate_refusals);
  rows.emplace_back("Source_Version", upstream.source_version.empty() ? "-" : upstream.source_version);
  rows.emplace_back("Source_TLS", upstream.tls ? "yes" : "no");
  rows.emplace_back("Source_Semi_Sync", upstream.semi_sync ? "yes" : "no");
  rows.emplace_back("Dump_Request", upstream.dump_request.empty() ? "-" : upstream.dump_request);
  rows.emplace_back("Source_Coordinates", coordinates(upstream.source_file, upstream.source_position));
  rows.emplace_back("Received_Coordinates", coordinates(upstream.received_file, upstream.received_position));
  rows.emplace_back("Seconds_Behind_Source", upstream.seconds_behind_source
                                                 ? std::to_string(*upstream.seconds_behind_source)
                                                 : std::string("NULL"));
  rows.emplace_back("Received_Bytes", std::to_string(upstream.received_bytes));
  rows.emplace_back("Received_Events", std::to_string(upstream.received_events));
  rows.emplace_back("Upstream_Reconnects", std::to_string(upstream.reconnects));
}

}  // namespace

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

Result<ReplicaLag> replica_lag(storage::BinlogStore& store,
                               const std::optional<storage::ResumePoint>& durable_end,
                               const std::string& file, std::uint64_t position) {
  BRELAY_ASSIGN_OR_RETURN(std::vector<storage::FileInfo> files, store.list_files());
  return replica_lag(store, files, durable_end, file, position);
}

Result<ReplicaLag> replica_lag(storage::BinlogStore& store, const std::vector<storage::FileInfo>& files,
                               const std::optional<storage::ResumePoint>& durable_end,
                               const std::string& file, std::uint64_t position) {
  ReplicaLag lag;
  if (!durable_end || file.empty()) return lag;
  auto at =
      std::find_if(files.begin(), files.end(), [&](const storage::FileInfo& f) { return f.name == file; });
  if (at == files.end()) return make_error("the replica's file {} is no longer stored", file);
  for (auto it = at; it != files.end(); ++it) {
    const std::uint64_t end = it->name == durable_end->file ? durable_end->position : it->end_position;
    const std::uint64_t from = it == at ? std::max(position, it->first_position) : it->first_position;
    if (end > from) lag.bytes += end - from;
    if (it->name == durable_end->file) break;
  }
  if (lag.bytes == 0) {
    lag.seconds = 0;
    return lag;
  }
  // The next event the replica has not read: its timestamp against the durable end's.
  BRELAY_ASSIGN_OR_RETURN(storage::StoreReader reader, storage::StoreReader::open(store));
  if (!reader.seek(file, position)) {
    // Not an event start of this file (the replica is at its end): the next file's first event.
    if (std::next(at) == files.end()) return lag;
    BRELAY_TRY(reader.seek(std::next(at)->name, std::next(at)->first_position));
  }
  BRELAY_ASSIGN_OR_RETURN(storage::ReadBatch batch, reader.read(1));
  if (!batch.runs.empty() && batch.runs.front().event_count() > 0) {
    if (auto header = binlog::parse_event_header(batch.runs.front().event(0))) {
      lag.seconds =
          std::max<std::int64_t>(0, durable_end->timestamp - static_cast<std::int64_t>(header->timestamp));
    }
  }
  reader.release();
  return lag;
}

StatusRows relay_status_rows(const RelayStatusInputs& inputs) {
  StatusRows rows;
  if (inputs.upstream) {
    add_upstream_rows(rows, *inputs.upstream);
  } else {
    rows.emplace_back("Upstream_State", "not running");
  }

  storage::BinlogStore& store = *inputs.store;
  const std::optional<storage::ResumePoint> durable_end = store.durable_end();
  rows.emplace_back("Stored_Coordinates",
                    durable_end ? coordinates(durable_end->file, durable_end->position) : std::string("-"));
  rows.emplace_back("Stored_Event_Time",
                    durable_end ? unix_time_text(durable_end->timestamp) : std::string("-"));
  if (auto stats = store.stats()) {
    rows.emplace_back("Store_Bytes",
                      fmt::format("{} ({})", stats->stored_bytes, human_bytes(stats->stored_bytes)));
    rows.emplace_back("Store_Files", std::to_string(stats->file_count));
    rows.emplace_back("Store_Data_File_Bytes", std::to_string(stats->data_file_bytes));
    rows.emplace_back("Filesystem_Free_Bytes", fmt::format("{} ({})", stats->filesystem_free_bytes,
                                                           human_bytes(stats->filesystem_free_bytes)));
  } else {
    rows.emplace_back("Store_Bytes", "error: " + stats.error().message());
  }
  const auto files = store.list_files();
  if (files && !files->empty()) {
    const storage::FileInfo& oldest = files->front();
    rows.emplace_back("Oldest_File", oldest.name);
    rows.emplace_back("Oldest_File_Event_Time", unix_time_text(oldest.first_timestamp));
    rows.emplace_back("Oldest_File_Stored_Time", unix_time_text(oldest.created_time));
  } else {
    rows.emplace_back("Oldest_File", "-");
  }
  if (inputs.writer) {
    rows.emplace_back("Writer_State",
                      inputs.writer->accepting
                          ? "accepting"
                          : "stopped: " + (inputs.writer->error ? inputs.writer->error->message()
                                                                : std::string("stopping")));
  }
  const std::string damage = describe_damage(store.damage());
  rows.emplace_back("Store_Damage", damage.empty() ? "none found" : damage);
  rows.emplace_back("Retention", inputs.retention.empty() ? "-" : inputs.retention);
  rows.emplace_back("Retention_Last_Purge", inputs.retention_last.empty() ? "-" : inputs.retention_last);

  if (!inputs.replicas) {
    rows.emplace_back("Replicas", "the listener is not open");
    return rows;
  }
  const std::vector<downstream::ActiveDump> dumps = inputs.replicas->dumps();
  rows.emplace_back("Sessions", std::to_string(inputs.sessions));
  rows.emplace_back("Replicas", std::to_string(dumps.size()));
  for (const downstream::ActiveDump& dump : dumps) {
    std::string lag_text;
    auto lag = files ? replica_lag(store, *files, durable_end, dump.file, dump.position)
                     : Result<ReplicaLag>(files.error());
    if (lag) {
      lag_text =
          fmt::format("lag {} s, {} behind", lag->seconds ? std::to_string(*lag->seconds) : std::string("?"),
                      human_bytes(lag->bytes));
    } else {
      lag_text = "lag unknown: " + lag.error().message();
    }
    rows.emplace_back(
        fmt::format("Replica_{}", dump.connection_id),
        fmt::format("server_id {} user {} from {}{} at {}, {}, sent {}", dump.server_id, dump.user, dump.peer,
                    dump.uuid.empty() ? "" : " uuid " + dump.uuid, coordinates(dump.file, dump.position),
                    lag_text, human_bytes(dump.bytes_sent)));
  }
  return rows;
}

std::string format_status_rows(const StatusRows& rows) {
  std::size_t width = 0;
  for (const auto& row : rows)
    width = std::max(width, row.first.size());
  std::string text;
  for (const auto& [name, value] : rows)
    text += fmt::format("{:<{}}  {}\n", name + ":", width + 1, value);
  return text;
}

}  // namespace brelay::relay
