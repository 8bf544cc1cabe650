// `binlog-relay dump` and `binlog-relay export`: stored binlogs out of a store opened read-only.
#include <algorithm>
#include <filesystem>
#include <ostream>

#include <fmt/format.h>

#include "relay/app/commands.h"
#include "relay/app/progress.h"
#include "relay/core/config_to_layers.h"
#include "relay/tools/binlog_dump.h"
#include "relay/tools/binlog_export.h"
#include "storage/binlog_store.h"

namespace brelay::relay {
namespace {

Result<std::unique_ptr<storage::BinlogStore>> open_read_only(const std::string& data_dir,
                                                             const std::string& key_file) {
  if (!std::filesystem::exists(data_dir + "/data.mdb")) {
    return make_error("{} holds no binlog-relay store (no data.mdb): give the relay's [storage] data_dir",
                      data_dir);
  }
  storage::StoreOptions options;
  options.read_only = true;
  BRELAY_ASSIGN_OR_RETURN(options.master_keys, load_store_keys(key_file));
  auto store = storage::BinlogStore::open(data_dir, options);
  if (!store && key_file.empty() && store.error().message().find("master key id") != std::string::npos)
    return std::move(store).error().with_context("give the key file with --key-file");
  return store;
}

// What exporting `names` reads: their stored bytes (0 when the list cannot be read).
std::uint64_t stored_bytes(storage::BinlogStore& store, const std::vector<std::string>& names) {
  auto files = store.list_files();
  if (!files) return 0;
  std::uint64_t total = 0;
  for (const storage::FileInfo& file : *files) {
    if (std::find(names.begin(), names.end(), file.name) != names.end()) total += file.stored_bytes();
  }
  return total;
}

}  // namespace

int run_dump(const DumpCommandOptions& options, std::ostream& out, std::ostream& err) {
  DumpOptions dump;
  dump.gtid_column = options.gtid;
  dump.limit = options.limit;
  if (!options.from.empty()) {
    auto from = parse_file_position(options.from);
    if (!from) {
      err << "binlog-relay dump: " << from.error().message() << "\n";
      return 1;
    }
    dump.from_file = from->first;
    dump.from_position = from->second;
  }
  auto store = open_read_only(options.data_dir, options.key_file);
  if (!store) {
    err << "binlog-relay dump: " << store.error().message() << "\n";
    return 1;
  }
  auto listed = dump_events(**store, dump, out);
  out.flush();
  if (!listed) {
    err << "binlog-relay dump: " << listed.error().message() << "\n";
    return 1;
  }
  return 0;
}

int run_export(const ExportCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto store = open_read_only(options.data_dir, options.key_file);
  if (!store) {
    err << "binlog-relay export: " << store.error().message() << "\n";
    return 1;
  }
  std::vector<std::string> names = options.files;
  if (names.empty()) {
    auto files = (*store)->list_files();
    if (!files) {
      err << "binlog-relay export: " << files.error().message() << "\n";
      return 1;
    }
    for (const storage::FileInfo& file : *files)
      names.push_back(file.name);
  }
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) {
    err << fmt::format("binlog-relay export: cannot create {}: {}\n", options.out_dir, ec.message());
    return 1;
  }
  ProgressMeter progress(
      err, "export: ", stored_bytes(**store, names),
      {progress_wanted(options.quiet), std::chrono::milliseconds(options.progress_interval_ms)});
  int status = 0;
  for (const std::string& name : names) {
    if (name.find('/') != std::string::npos || name == "." || name == "..") {
      progress.break_line();
      err << fmt::format("binlog-relay export: {} is not a plain file name; skipped\n", name);
      status = 1;
      continue;
    }
    const std::string path = (std::filesystem::path(options.out_dir) / name).string();
    if (!options.overwrite && std::filesystem::exists(path)) {
      progress.break_line();
      err << fmt::format("binlog-relay export: {} exists; not replaced (use --overwrite)\n", path);
      status = 1;
      continue;
    }
    auto exported =
        export_file(**store, name, path, [&progress](std::uint64_t bytes) { progress.add(bytes); });
    if (!exported) {
      progress.break_line();
      err << "binlog-relay export: " << exported.error().message() << "\n";
      status = 1;
      continue;
    }
    out << fmt::format("{}\t{} bytes\t{} events\t{}\n", exported->path, exported->size, exported->events,
                       std::string(exported->closed ? "complete" : "open (up to the durable end)") +
                           (exported->partial ? "; stored from a later position: magic, FDE, then the stored "
                                                "events (offsets differ from the source's)"
                                              : ""));
  }
  progress.finish();
  return status;
}

}  // namespace brelay::relay
