#include "tests/integration/upstream_harness.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "relay/tools/binlog_export.h"
#include "storage/binlog_store.h"
#include "storage/store_reader.h"

namespace brelay::testing {
namespace {

Result<std::unique_ptr<storage::BinlogStore>> open_read_only(const std::string& data_dir) {
  storage::StoreOptions options;
  options.read_only = true;
  return storage::BinlogStore::open(data_dir, options);
}

// The first offset where the two byte strings differ, or their common length.
std::size_t first_difference(const std::string& a, const std::string& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return i;
  }
  return n;
}

bool at_or_after(const storage::ResumePoint& end, const std::string& file, std::uint64_t position) {
  // Binlog names of one source sort in creation order (basename.NNNNNN).
  return end.file > file || (end.file == file && end.position >= position);
}

}  // namespace

Result<std::optional<storage::ResumePoint>> stored_end(const std::string& data_dir) {
  if (!std::filesystem::exists(data_dir)) return std::optional<storage::ResumePoint>();
  BRELAY_ASSIGN_OR_RETURN(auto store, open_read_only(data_dir));
  return store->durable_end();
}

Result<std::vector<storage::FileInfo>> stored_files(const std::string& data_dir) {
  BRELAY_ASSIGN_OR_RETURN(auto store, open_read_only(data_dir));
  return store->list_files();
}

Result<std::pair<std::string, std::uint64_t>> master_status(MariaDbServer& source) {
  BRELAY_ASSIGN_OR_RETURN(Rows rows, source.query("SHOW MASTER STATUS"));
  if (rows.empty() || rows[0].size() < 2) return make_error("SHOW MASTER STATUS returned no row");
  return std::make_pair(rows[0][0], static_cast<std::uint64_t>(std::stoull(rows[0][1])));
}

Result<std::vector<std::string>> binary_logs(MariaDbServer& source) {
  BRELAY_ASSIGN_OR_RETURN(Rows rows, source.query("SHOW BINARY LOGS"));
  std::vector<std::string> names;
  for (const auto& row : rows)
    names.push_back(row.at(0));
  return names;
}

std::string relay_log_tail(RelayProcess* relay, std::size_t lines) {
  if (relay == nullptr) return "";
  const std::string log = relay->log();
  std::size_t pos = log.size();
  for (std::size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = log.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
  }
  return "\nrelay log (tail):\n" + log.substr(pos);
}

Status wait_for_stored(const std::string& data_dir, const std::string& file, std::uint64_t position,
                       std::chrono::milliseconds timeout, RelayProcess* relay) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "nothing";
  while (true) {
    auto end = stored_end(data_dir);
    if (end && *end) {
      if (at_or_after(**end, file, position)) return {};
      last = fmt::format("{}:{}", (*end)->file, (*end)->position);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error("the relay did not store up to {}:{} within {} ms (its store ends at {}){}", file,
                        position, timeout.count(), last, relay_log_tail(relay));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Status wait_for_catch_up(MariaDbServer& source, const std::string& data_dir,
                         std::chrono::milliseconds timeout, RelayProcess* relay) {
  BRELAY_ASSIGN_OR_RETURN(auto status, master_status(source));
  return wait_for_stored(data_dir, status.first, status.second, timeout, relay);
}

Status wait_for_relay_catch_up(MariaDbServer& source, std::uint16_t relay_port,
                               std::chrono::milliseconds timeout, RelayProcess* relay) {
  // The source's end is read again each time: after a rotation MariaDB writes the new file's
  // Binlog_checkpoint event a moment later, so an end read once can be passed and never equalled.
  std::string want;
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    BRELAY_ASSIGN_OR_RETURN(auto master, master_status(source));
    want = fmt::format("{}\t{}", master.first, master.second);
    auto status = mariadb_cli_query(relay_port, "admin", "adminpw", "SHOW MASTER STATUS");
    if (status) {
      got = *status;
      if (got.starts_with(want)) return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return make_error("the relay stored {} but the source is at {}{}", got, want, relay_log_tail(relay));
}

Status flush_and_catch_up(MariaDbServer& source, const std::string& data_dir,
                          std::chrono::milliseconds timeout, RelayProcess* relay) {
  BRELAY_TRY(source.execute("FLUSH BINARY LOGS"));
  return wait_for_catch_up(source, data_dir, timeout, relay);
}

Result<std::string> compare_stored_events(const std::string& data_dir, const std::string& file,
                                          const std::string& path, const std::string& scratch_dir) {
  BRELAY_ASSIGN_OR_RETURN(auto store, open_read_only(data_dir));
  BRELAY_ASSIGN_OR_RETURN(std::optional<storage::FileInfo> info, store->find_file(file));
  if (!info) return make_error("the store holds no file {}", file);
  (void)scratch_dir;
  // The stored events of the file, read straight from the store (an export needs a whole file).
  std::string stored;
  std::uint64_t events = 0;
  BRELAY_ASSIGN_OR_RETURN(storage::StoreReader reader, storage::StoreReader::open(*store));
  BRELAY_TRY(reader.seek(info->name, info->first_position));
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(storage::ReadBatch batch, reader.read(std::size_t{1} << 20));
    if (reader.file().name != info->name || batch.runs.empty()) break;
    for (const storage::EventRun& run : batch.runs) {
      for (std::size_t i = 0; i < run.event_count(); ++i) {
        const ByteView event = run.event(i);
        stored.append(reinterpret_cast<const char*>(event.data()), event.size());
        events += 1;
      }
    }
    reader.consume(batch.bytes);
    reader.release();
    if (batch.at_durable_end) break;
  }
  reader.release();
  BRELAY_ASSIGN_OR_RETURN(std::string original, read_file(path));
  if (info->first_position + stored.size() > original.size()) {
    return fmt::format("{}: the relay stored {} bytes from position {}, the source's file has {}", file,
                       stored.size(), info->first_position, original.size());
  }
  const std::size_t at = first_difference(stored, original.substr(info->first_position, stored.size()));
  if (at < stored.size()) {
    return fmt::format("{}: first difference at position {} ({} events stored)", file,
                       info->first_position + at, events);
  }
  return std::string();
}

Result<FileComparison> compare_closed_files(MariaDbServer& source, const std::string& data_dir,
                                            const std::string& scratch_dir) {
  BRELAY_ASSIGN_OR_RETURN(auto store, open_read_only(data_dir));
  BRELAY_ASSIGN_OR_RETURN(std::vector<storage::FileInfo> files, store->list_files());
  FileComparison result;
  std::vector<std::string> source_files;
  for (const auto& entry : std::filesystem::directory_iterator(source.data_dir())) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(source.options().log_bin_basename + ".") && !name.ends_with(".index") &&
        !name.ends_with(".state")) {
      source_files.push_back(name);
    }
  }
  std::sort(source_files.begin(), source_files.end());
  for (const storage::FileInfo& info : files) {
    if (!info.closed || info.first_position != 4) continue;
    const std::string original_path = source.binlog_path(info.name);
    if (!std::filesystem::exists(original_path)) {
      result.differences.push_back(fmt::format("{}: stored, but the source has no such file", info.name));
      continue;
    }
    const std::string exported_path = scratch_dir + "/" + info.name + ".exported";
    BRELAY_ASSIGN_OR_RETURN(relay::ExportedFile exported,
                            relay::export_file(*store, info.name, exported_path));
    BRELAY_ASSIGN_OR_RETURN(std::string stored, read_file(exported_path));
    BRELAY_ASSIGN_OR_RETURN(std::string original, read_file(original_path));
    std::filesystem::remove(exported_path);
    ++result.compared;
    result.compared_bytes += stored.size();
    if (stored != original) {
      result.differences.push_back(fmt::format(
          "{}: {} bytes stored ({} events), {} in the source's file; first "
          "difference at byte {}",
          info.name, stored.size(), exported.events, original.size(), first_difference(stored, original)));
    }
  }
  if (!files.empty()) {
    // Every source file from the first stored one to the last stored one must be stored.
    for (const std::string& name : source_files) {
      if (name < files.front().name || name > files.back().name) continue;
      const bool stored =
          std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.name == name; });
      if (!stored)
        result.differences.push_back(fmt::format("{}: the source has it, the store lacks it", name));
    }
  }
  return result;
}

Status sysbench_prepare(MariaDbServer& source, int tables, int table_size) {
  BRELAY_TRY(source.execute("CREATE DATABASE IF NOT EXISTS sbtest"));
  BRELAY_ASSIGN_OR_RETURN(
      CommandOutput output,
      run_command({"sysbench", "oltp_write_only", "--db-driver=mysql",
                   "--mysql-socket=" + source.socket_path(), "--mysql-user=root", "--mysql-db=sbtest",
                   fmt::format("--tables={}", tables), fmt::format("--table-size={}", table_size), "prepare"},
                  {}, std::chrono::seconds(300)));
  if (output.exit_status != 0) return make_error("sysbench prepare failed: {}{}", output.out, output.err);
  return {};
}

Result<Process> start_sysbench(MariaDbServer& source, int tables, int table_size, int seconds, int threads,
                               const std::string& log_path) {
  ProcessOptions options;
  options.argv = {"sysbench",
                  "oltp_write_only",
                  "--db-driver=mysql",
                  "--mysql-socket=" + source.socket_path(),
                  "--mysql-user=root",
                  "--mysql-db=sbtest",
                  fmt::format("--tables={}", tables),
                  fmt::format("--table-size={}", table_size),
                  fmt::format("--time={}", seconds),
                  fmt::format("--threads={}", threads),
                  "--mysql-ignore-errors=all",
                  "--report-interval=0",
                  "run"};
  options.stdout_path = log_path;
  options.stderr_path = log_path;
  options.append_output = true;
  return Process::start(options);
}

}  // namespace brelay::testing
