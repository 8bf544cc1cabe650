// The Debian package: cpack builds it from this build tree, dpkg installs it, and then the
// installed binary runs from /usr/bin, the systemd unit verifies and carries its hardening, the
// service account and data directory exist, the example configuration passes `check
// --config-only` as the service account, and the daemon started as that account (with a copy of the
// example configuration pointed at a temporary directory and free loopback ports) stops cleanly on
// SIGTERM. `dpkg --purge` then leaves the machine as it was.
//
// It changes the machine (a package, a system account), so it runs only as root, only when no
// binlog-relay package is installed already, and one at a time: CTest's RESOURCE_LOCK keeps it from
// itself within a run, and an flock on /run/lock/binlog-relay-package-test.lock keeps other runs
// on the same machine (other build trees) out.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPackage = "binlog-relay";
constexpr const char* kLockPath = "/run/lock/binlog-relay-package-test.lock";

bool package_installed() {
  auto status = run_command({"dpkg-query", "-W", "-f=${Status}", kPackage});
  return status && status->exit_status == 0 && status->out.find("installed") != std::string::npos &&
         status->out.find("not-installed") == std::string::npos;
}

bool account_exists() {
  return getpwnam(kPackage) != nullptr;
}

// dpkg refuses to run while another dpkg or apt holds its lock: wait for it a while.
Result<CommandOutput> dpkg(std::vector<std::string> args) {
  args.insert(args.begin(), "dpkg");
  for (int attempt = 0;; ++attempt) {
    BRELAY_ASSIGN_OR_RETURN(CommandOutput output, run_command(args, {}, std::chrono::seconds(300)));
    const bool locked = output.exit_status != 0 && output.err.find("lock") != std::string::npos;
    if (!locked || attempt == 60) return output;
    std::this_thread::sleep_for(2s);
  }
}

class DebianPackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "installing a package needs root";
    lock_fd_ = ::open(kLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(lock_fd_, 0) << kLockPath;
    ASSERT_EQ(::flock(lock_fd_, LOCK_EX), 0);
    if (package_installed()) GTEST_SKIP() << "a binlog-relay package is installed already; leaving it alone";
    had_account_ = account_exists();
    for (const char* path : {"/var/lib/binlog-relay", "/var/log/binlog-relay", "/etc/binlog-relay"})
      if (std::filesystem::exists(path)) existing_paths_.push_back(path);
    auto dir = TempDir::create("debian-package");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }

  void TearDown() override {
    if (installed_by_test_ && package_installed()) {
      auto purged = dpkg({"--purge", kPackage});
      EXPECT_TRUE(purged && purged->exit_status == 0) << (purged ? purged->err : purged.error().message());
    }
    if (installed_by_test_) {
      // The package keeps the data and log directories on purge (they may hold the only copy of
      // binlogs); this test made them, so it removes them.
      for (const char* path : {"/var/lib/binlog-relay", "/var/log/binlog-relay", "/etc/binlog-relay"}) {
        if (std::find(existing_paths_.begin(), existing_paths_.end(), path) == existing_paths_.end()) {
          std::error_code ec;
          std::filesystem::remove_all(path, ec);
        }
      }
      EXPECT_FALSE(std::filesystem::exists("/usr/bin/binlog-relay"));
      EXPECT_EQ(account_exists(), had_account_) << "the service account outlived the purge";
    }
    dir_.reset();
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  std::string build_package() {
    auto built = run_command(
        {"cpack", "-G", "DEB", "-B", dir_->file("cpack"), "--config", binary_dir() + "/CPackConfig.cmake"},
        {}, std::chrono::seconds(600));
    EXPECT_TRUE(built) << built.error().message();
    if (!built) return "";
    EXPECT_EQ(built->exit_status, 0) << built->out << built->err;
    for (const auto& entry : std::filesystem::directory_iterator(dir_->file("cpack"))) {
      if (entry.path().extension() == ".deb") return entry.path().string();
    }
    ADD_FAILURE() << "cpack made no .deb: " << built->out;
    return "";
  }

  int lock_fd_ = -1;
  bool had_account_ = false;
  bool installed_by_test_ = false;
  std::vector<std::string> existing_paths_;
  std::unique_ptr<TempDir> dir_;
};

TEST_F(DebianPackageTest, BuildsInstallsRunsAndPurgesCleanly) {
  const std::string deb = build_package();
  ASSERT_FALSE(deb.empty());
  auto installed = dpkg({"-i", deb});
  ASSERT_TRUE(installed) << installed.error().message();
  installed_by_test_ = true;
  ASSERT_EQ(installed->exit_status, 0) << installed->out << installed->err;
  ASSERT_TRUE(package_installed());

  // The binary.
  auto version = run_command({"/usr/bin/binlog-relay", "--version"});
  ASSERT_TRUE(version);
  EXPECT_EQ(version->exit_status, 0) << version->err;
  EXPECT_EQ(version->out.rfind("binlog-relay ", 0), 0u) << version->out;

  // The unit: systemd accepts it, and it runs as the service account with its hardening.
  const std::string unit = "/lib/systemd/system/binlog-relay.service";
  auto unit_text = read_file(unit);
  ASSERT_TRUE(unit_text) << unit_text.error().message();
  for (const char* line : {"Type=notify", "User=binlog-relay",
                           "ExecStart=/usr/bin/binlog-relay run --config /etc/binlog-relay/binlog-relay.toml",
                           "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "NoNewPrivileges=yes",
                           "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                           "ReadWritePaths=/var/lib/binlog-relay /var/log/binlog-relay"}) {
    EXPECT_NE(unit_text->find(std::string(line) + "\n"), std::string::npos) << line;
  }
  if (std::filesystem::exists("/usr/bin/systemd-analyze")) {
    auto verified = run_command({"systemd-analyze", "verify", unit});
    ASSERT_TRUE(verified);
    EXPECT_EQ(verified->exit_status, 0) << verified->out << verified->err;
  }

  // The service account and its directories.
  const passwd* account = getpwnam("binlog-relay");
  ASSERT_NE(account, nullptr);
  EXPECT_LT(account->pw_uid, 1000u) << "a system account";
  EXPECT_STREQ(account->pw_dir, "/var/lib/binlog-relay");
  const uid_t uid = account->pw_uid;
  const gid_t gid = account->pw_gid;
  struct stat data_dir {};
  ASSERT_EQ(::stat("/var/lib/binlog-relay", &data_dir), 0);
  EXPECT_EQ(data_dir.st_uid, uid);
  EXPECT_EQ(data_dir.st_mode & 0777, 0750u);
  struct stat config {};
  ASSERT_EQ(::stat("/etc/binlog-relay/binlog-relay.toml", &config), 0);
  EXPECT_EQ(config.st_uid, 0u);
  EXPECT_EQ(config.st_gid, gid);
  EXPECT_EQ(config.st_mode & 0777, 0640u) << "the config may hold passwords";

  // The example configuration as installed, read by the service account.
  const std::vector<std::string> as_service = {"setpriv", "--reuid=binlog-relay", "--regid=binlog-relay",
                                               "--init-groups", "--"};
  std::vector<std::string> check = as_service;
  check.insert(check.end(), {"/usr/bin/binlog-relay", "check", "--config",
                             "/etc/binlog-relay/binlog-relay.toml", "--config-only"});
  auto checked = run_command(check);
  ASSERT_TRUE(checked);
  EXPECT_NE(checked->out.find("OK    config: /etc/binlog-relay/binlog-relay.toml is valid"),
            std::string::npos)
      << checked->out << checked->err;

  // The daemon as the service account, on a copy pointed at a temporary directory and free ports.
  auto example = read_file("/etc/binlog-relay/binlog-relay.toml");
  ASSERT_TRUE(example);
  const std::string run_dir = dir_->file("run");
  std::filesystem::create_directory(run_dir);
  ASSERT_EQ(::chown(run_dir.c_str(), uid, gid), 0);
  ASSERT_EQ(::chmod(dir_->path().c_str(), 0755), 0);
  std::string text = *example;
  text = std::regex_replace(text, std::regex("\ndata_dir *=[^\n]*"), "\ndata_dir = \"" + run_dir + "/data\"");
  text = std::regex_replace(text, std::regex("\nport *=[^\n]*"),
                            "\nport = " + std::to_string(free_loopback_port().value_or(1)));
  // [server] listen, then [metrics] listen, each on its own free port.
  const std::size_t metrics = text.find("\n[metrics]");
  ASSERT_NE(metrics, std::string::npos);
  const std::regex listen("\nlisten *=[^\n]*");
  const auto local_listen = [] {
    return "\nlisten = \"127.0.0.1:" + std::to_string(free_loopback_port().value_or(1)) + "\"";
  };
  text = std::regex_replace(text.substr(0, metrics), listen, local_listen()) +
         std::regex_replace(text.substr(metrics), listen, local_listen());
  const std::string config_copy = run_dir + "/binlog-relay.toml";
  ASSERT_TRUE(write_file(config_copy, text));
  ASSERT_EQ(::chown(config_copy.c_str(), uid, gid), 0);
  std::vector<std::string> run = as_service;
  run.insert(run.end(), {"/usr/bin/binlog-relay", "run", "--config", config_copy});
  ProcessOptions options;
  options.argv = run;
  options.stderr_path = dir_->file("relay.log");
  auto daemon = Process::start(options);
  ASSERT_TRUE(daemon) << daemon.error().message();
  bool ready = false;
  for (int i = 0; i < 300 && !ready && daemon->running(); ++i) {
    ready = read_file(dir_->file("relay.log")).value_or("").find("binlog-relay ready") != std::string::npos;
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ready) << read_file(dir_->file("relay.log")).value_or("");
  EXPECT_TRUE(std::filesystem::exists(run_dir + "/data/data.mdb"));
  auto stopped = daemon->stop(60s);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 0) << read_file(dir_->file("relay.log")).value_or("");
}

}  // namespace
}  // namespace brelay::testing
