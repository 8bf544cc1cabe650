// Semi-synchronous replication from a real MariaDB source (rpl_semi_sync_master_enabled = ON) to
// the relay ([source] semi_sync = true):
//  - every commit on the source waits for the relay's acknowledgement (Rpl_semi_sync_master_yes_tx
//    counts them, no_tx stays 0), and when a commit returns, the relay's store already holds the
//    transaction durably;
//  - the acknowledgement comes after the durable commit, not on receipt: with the relay's disk
//    full, the relay receives the transaction but cannot commit it, so it never acknowledges it and
//    the source's commit waits until its semi-sync timeout (no_tx counts it). Once there is room
//    again the relay stores it and acknowledges again.
// The disk-full part mounts a small tmpfs for the relay's data directory and needs root (CI runs
// the tests as root).
#include <gtest/gtest.h>

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/upstream_harness.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kSemiSyncTimeoutMs = 4000;

Result<std::uint64_t> semi_sync_status(MariaDbServer& source, const std::string& name) {
  BRELAY_ASSIGN_OR_RETURN(Rows rows, source.query(fmt::format("SHOW GLOBAL STATUS LIKE '{}'", name)));
  if (rows.empty()) return make_error("no status variable {}", name);
  if (rows[0][1] == "ON") return std::uint64_t{1};
  if (rows[0][1] == "OFF") return std::uint64_t{0};
  return static_cast<std::uint64_t>(std::stoull(rows[0][1]));
}

Status wait_for_status(MariaDbServer& source, const std::string& name, std::uint64_t value,
                       std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t now, semi_sync_status(source, name));
    if (now == value) return {};
    if (Clock::now() > deadline) return make_error("{} stayed {} (waited for {})", name, now, value);
    std::this_thread::sleep_for(100ms);
  }
}

// A size-limited tmpfs mounted for the test's lifetime.
class TmpfsMount {
 public:
  static Result<std::unique_ptr<TmpfsMount>> create(const std::string& path, std::uint64_t bytes) {
    std::filesystem::create_directories(path);
    const std::string options = fmt::format("size={},mode=0700", bytes);
    if (::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      return make_error("mounting a tmpfs on {}: {}", path, std::strerror(errno));
    }
    return std::unique_ptr<TmpfsMount>(new TmpfsMount(path));
  }
  ~TmpfsMount() { ::umount2(path_.c_str(), MNT_DETACH); }

 private:
  explicit TmpfsMount(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

std::uint64_t free_bytes(const std::string& path) {
  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0) return 0;
  return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
}

Status fill(const std::string& path, std::uint64_t bytes) {
  std::ofstream out(path, std::ios::binary);
  const std::string chunk(1 << 16, 'f');
  for (std::uint64_t written = 0; written < bytes; written += chunk.size()) {
    out.write(chunk.data(),
              static_cast<std::streamsize>(std::min<std::uint64_t>(chunk.size(), bytes - written)));
  }
  out.flush();
  if (!out) return make_error("writing the filler {}", path);
  return {};
}

MariaDbOptions semi_sync_source() {
  MariaDbOptions options;
  options.semi_sync_master = true;
  options.semi_sync_master_timeout_ms = kSemiSyncTimeoutMs;
  return options;
}

TEST(UpstreamSemiSync, EveryCommitWaitsForTheRelaysAcknowledgementOfItsDurableCopy) {
  auto dir = TempDir::create("upstream-semisync");
  ASSERT_TRUE(dir);
  auto started = MariaDbServer::start(semi_sync_source());
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;
  ASSERT_TRUE(source.execute("CREATE DATABASE s; CREATE TABLE s.t (id INT PRIMARY KEY, v INT)"));

  TestRelayConfig config;
  config.data_dir = dir->file("data");
  config.source_port = source.port();
  config.source_extra = "semi_sync = true\nheartbeat_period = \"500ms\"\n";
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  ASSERT_TRUE(wait_for_status(source, "Rpl_semi_sync_master_clients", 1, 30s))
      << relay_log_tail(relay->get());
  ASSERT_TRUE(wait_for_status(source, "Rpl_semi_sync_master_status", 1, 30s));
  auto yes_before = semi_sync_status(source, "Rpl_semi_sync_master_yes_tx");
  auto no_before = semi_sync_status(source, "Rpl_semi_sync_master_no_tx");
  ASSERT_TRUE(yes_before && no_before);

  constexpr int kCommits = 20;
  for (int i = 0; i < kCommits; ++i) {
    ASSERT_TRUE(source.execute(fmt::format("INSERT INTO s.t VALUES ({0}, {0})", i)));
    // The commit returned: the source had the relay's acknowledgement, so the relay's store holds
    // the transaction durably now.
    auto position = master_status(source);
    ASSERT_TRUE(position);
    auto end = stored_end(config.data_dir);
    ASSERT_TRUE(end && *end);
    EXPECT_EQ((*end)->file, position->first);
    EXPECT_GE((*end)->position, position->second) << "commit " << i << " returned before the relay stored it";
  }
  auto yes_after = semi_sync_status(source, "Rpl_semi_sync_master_yes_tx");
  auto no_after = semi_sync_status(source, "Rpl_semi_sync_master_no_tx");
  ASSERT_TRUE(yes_after && no_after);
  EXPECT_EQ(*yes_after - *yes_before, static_cast<std::uint64_t>(kCommits));
  EXPECT_EQ(*no_after, *no_before);
  EXPECT_NE((*relay)->log().find("semi-sync"), std::string::npos);
}

TEST(UpstreamSemiSync, NoAcknowledgementWithoutTheDurableCommit) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root (CI runs the tests as root)";
  auto dir = TempDir::create("upstream-semisync-full");
  ASSERT_TRUE(dir);
  // The writer resumes once 64 MiB are free: the filesystem must be larger than that.
  auto mounted = TmpfsMount::create(dir->file("fs"), 96 << 20);
  ASSERT_TRUE(mounted) << mounted.error().message();
  auto started = MariaDbServer::start(semi_sync_source());
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;
  ASSERT_TRUE(source.execute("CREATE DATABASE s; CREATE TABLE s.t (id INT PRIMARY KEY, v LONGTEXT)"));

  TestRelayConfig config;
  config.data_dir = dir->file("fs/data");
  config.source_port = source.port();
  config.source_extra = "semi_sync = true\nheartbeat_period = \"500ms\"\nreconnect_max_delay = \"1s\"\n";
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  ASSERT_TRUE(wait_for_status(source, "Rpl_semi_sync_master_clients", 1, 30s))
      << relay_log_tail(relay->get());
  ASSERT_TRUE(source.execute("INSERT INTO s.t VALUES (1, 'acknowledged')"));
  ASSERT_TRUE(wait_for_catch_up(source, config.data_dir, 30s, relay->get()));
  auto yes_before = semi_sync_status(source, "Rpl_semi_sync_master_yes_tx");
  auto no_before = semi_sync_status(source, "Rpl_semi_sync_master_no_tx");
  ASSERT_TRUE(yes_before && no_before);

  // Fill the relay's filesystem: the relay still receives the next transaction but cannot store it.
  const std::string filler = dir->file("fs/filler");
  ASSERT_TRUE(fill(filler, free_bytes(dir->file("fs")) - (256 << 10)));
  const auto commit_started = Clock::now();
  ASSERT_TRUE(source.execute("INSERT INTO s.t VALUES (2, REPEAT('x', 4 * 1048576))"));
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - commit_started);
  // The source gave up waiting for an acknowledgement that never came.
  EXPECT_GE(waited.count(), static_cast<std::int64_t>(kSemiSyncTimeoutMs) - 500)
      << relay_log_tail(relay->get());
  EXPECT_EQ(*semi_sync_status(source, "Rpl_semi_sync_master_yes_tx"), *yes_before);
  EXPECT_EQ(*semi_sync_status(source, "Rpl_semi_sync_master_no_tx"), *no_before + 1);
  const std::string log = (*relay)->log();
  EXPECT_NE(log.find("is full"), std::string::npos) << log;
  EXPECT_NE(log.find("pausing the pull"), std::string::npos) << log;

  // Room again: the writer resumes, the relay pulls the transaction again, stores it and
  // acknowledges the next commits.
  std::filesystem::remove(filler);
  ASSERT_TRUE(wait_for_catch_up(source, config.data_dir, 60s, relay->get()));
  ASSERT_TRUE(wait_for_status(source, "Rpl_semi_sync_master_status", 1, 30s)) << relay_log_tail(relay->get());
  ASSERT_TRUE(source.execute("INSERT INTO s.t VALUES (3, 'acknowledged again')"));
  EXPECT_EQ(*semi_sync_status(source, "Rpl_semi_sync_master_yes_tx"), *yes_before + 1);
  ASSERT_TRUE(flush_and_catch_up(source, config.data_dir, 30s, relay->get()));
  auto comparison = compare_closed_files(source, config.data_dir, dir->path());
  ASSERT_TRUE(comparison) << comparison.error().message();
  EXPECT_EQ(comparison->compared, 1u);
  EXPECT_TRUE(comparison->differences.empty()) << fmt::format("{}", fmt::join(comparison->differences, "\n"));
  ASSERT_EQ(*(*relay)->stop(), 0);
}

}  // namespace
}  // namespace brelay::testing
