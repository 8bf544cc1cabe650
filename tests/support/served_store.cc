#include "tests/support/served_store.h"

#include <filesystem>

#include "relay/tools/binlog_import.h"
#include "storage/binlog_store.h"
#include "tests/support/paths.h"

namespace brelay::testing {
namespace {

// Connector/C loads caching_sha2_password from here (Debian's libmariadb3).
constexpr const char* kClientPluginDir = "/usr/lib/x86_64-linux-gnu/libmariadb3/plugin";

}  // namespace

Status seed_store(const std::string& data_dir, const std::vector<std::string>& binlog_paths) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  storage::StoreOptions options;
  options.sync = storage::SyncMode::kNone;
  BRELAY_ASSIGN_OR_RETURN(auto store, storage::BinlogStore::open(data_dir, options));
  BRELAY_TRY(relay::import_files(*store, binlog_paths));
  return {};
}

Result<ServedStore> serve_binlogs(const std::vector<std::string>& binlog_paths, TestRelayConfig config) {
  ServedStore served;
  BRELAY_ASSIGN_OR_RETURN(TempDir dir, TempDir::create("served"));
  served.dir = std::make_unique<TempDir>(std::move(dir));
  served.data_dir = served.dir->file("data");
  BRELAY_TRY(seed_store(served.data_dir, binlog_paths));
  BRELAY_ASSIGN_OR_RETURN(served.port, free_loopback_port());
  config.data_dir = served.data_dir;
  config.listen = fmt::format("127.0.0.1:{}", served.port);
  if (config.source_port == 3306) config.source_port = free_loopback_port().value_or(1);  // no source there
  BRELAY_ASSIGN_OR_RETURN(served.relay, RelayProcess::start(config));
  return served;
}

Result<ServedStore> serve_source_binlogs(MariaDbServer& source, std::string& first_file,
                                         TestRelayConfig config) {
  BRELAY_ASSIGN_OR_RETURN(Rows files, source.query("SHOW BINARY LOGS"));
  if (files.empty()) return make_error("the source has no binlog");
  first_file = files.front().at(0);
  std::vector<std::string> paths;
  for (const auto& row : files)
    paths.push_back(source.binlog_path(row.at(0)));
  BRELAY_TRY(source.stop());
  BRELAY_ASSIGN_OR_RETURN(ServedStore served, serve_binlogs(paths, std::move(config)));
  BRELAY_TRY(source.restart());
  return served;
}

std::string test_binlog(const std::string& name) {
  return source_dir() + "/tests/data/binlogs/" + name;
}

Result<CommandOutput> mariadb_sql(std::uint16_t port, const std::string& user, const std::string& password,
                                  const std::string& sql, std::vector<std::string> extra_args) {
  std::vector<std::string> argv = {"mariadb",
                                   "--no-defaults",
                                   "--protocol=TCP",
                                   "--host=127.0.0.1",
                                   "--port=" + std::to_string(port),
                                   "--user=" + user,
                                   "--password=" + password,
                                   "--plugin-dir=" + std::string(kClientPluginDir),
                                   "--batch",
                                   "--skip-column-names",
                                   "--connect-timeout=10"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.push_back("-e");
  argv.push_back(sql);
  return run_command(argv, {}, std::chrono::seconds(60));
}

std::vector<std::string> mariadb_binlog_argv(std::uint16_t port, const std::string& user,
                                             const std::string& password) {
  return {"mariadb-binlog", "--no-defaults",          "--read-from-remote-server",
          "--protocol=TCP", "--host=127.0.0.1",       "--port=" + std::to_string(port),
          "--user=" + user, "--password=" + password, "--plugin-dir=" + std::string(kClientPluginDir)};
}

}  // namespace brelay::testing
