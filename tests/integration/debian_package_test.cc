// The Debian package: cpack builds it from this build tree, dpkg installs it, and then the
// installed binary runs from /usr/bin, the systemd unit verifies and carries its hardening, the
// service account and data directory exist, the example configuration passes `check
// --config-only` as the service account, and the daemon started as that account (with a copy of the
// example configuration pointed at a temporary directory and free loopback ports) stops cleanly on
// SIGTERM. `dpkg --purge` then leaves the machine as it was. A newer build (the same package
// repacked with dpkg-deb under a higher version) installs over it with `dpkg -i`, keeping the
// operator's edited configuration and the data directory. The package passes `lintian` with no
// errors and ships the man pages, the Debian changelog and a DEP-5 copyright file.
//
// It changes the machine (a package, a system account), so it runs only as root, only when no
// binlog-relay package is installed already, and one at a time: CTest's RESOURCE_LOCK keeps it from
// itself within a run, and an flock on /run/lock/binlog-relay-package-test.lock keeps other runs
// on the same machine (other build trees) out. The lintian check needs no root and runs anyway.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
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

// cpack's .deb from this build tree, in <dir>/cpack; "" (and a failure) when there is none.
std::string build_package(TempDir& dir) {
  auto built = run_command(
      {"cpack", "-G", "DEB", "-B", dir.file("cpack"), "--config", binary_dir() + "/CPackConfig.cmake"}, {},
      std::chrono::seconds(600));
  EXPECT_TRUE(built) << built.error().message();
  if (!built) return "";
  EXPECT_EQ(built->exit_status, 0) << built->out << built->err;
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("cpack"))) {
    if (entry.path().extension() == ".deb") return entry.path().string();
  }
  ADD_FAILURE() << "cpack made no .deb: " << built->out;
  return "";
}

// `deb` repacked as version `version` into <dir>/<version>.deb, its example configuration with
// `config_suffix` appended: a newer build of the same package, without building again.
std::string repack(TempDir& dir, const std::string& deb, const std::string& version,
                   const std::string& config_suffix) {
  const std::string tree = dir.file("tree-" + version);
  auto extracted = run_command({"dpkg-deb", "-R", deb, tree});
  EXPECT_TRUE(extracted && extracted->exit_status == 0) << (extracted ? extracted->err : "");
  auto control = read_file(tree + "/DEBIAN/control");
  EXPECT_TRUE(control);
  if (!control) return "";
  EXPECT_TRUE(
      write_file(tree + "/DEBIAN/control",
                 std::regex_replace(*control, std::regex("\nVersion: [^\n]*"), "\nVersion: " + version)));
  if (!config_suffix.empty()) {
    const std::string example = tree + "/etc/binlog-relay/binlog-relay.toml";
    EXPECT_TRUE(write_file(example, read_file(example).value_or("") + config_suffix));
  }
  const std::string out = dir.file(version + ".deb");
  auto built =
      run_command({"dpkg-deb", "--root-owner-group", "-Zxz", "-b", tree, out}, {}, std::chrono::seconds(300));
  EXPECT_TRUE(built && built->exit_status == 0)
      << (built ? built->out + built->err : built.error().message());
  return out;
}

std::string installed_version() {
  auto version = run_command({"dpkg-query", "-W", "-f=${Version}", kPackage});
  return version && version->exit_status == 0 ? version->out : "";
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

  int lock_fd_ = -1;
  bool had_account_ = false;
  bool installed_by_test_ = false;
  std::vector<std::string> existing_paths_;
  std::unique_ptr<TempDir> dir_;
};

TEST_F(DebianPackageTest, BuildsInstallsRunsAndPurgesCleanly) {
  const std::string deb = build_package(*dir_);
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

TEST_F(DebianPackageTest, UpgradesInPlaceKeepingTheConfigurationAndTheData) {
  const std::string deb = build_package(*dir_);
  ASSERT_FALSE(deb.empty());
  auto old_version = run_command({"dpkg-deb", "-f", deb, "Version"});
  ASSERT_TRUE(old_version && old_version->exit_status == 0);
  const std::string base = old_version->out.substr(0, old_version->out.find_last_not_of("\n") + 1);
  // A newer build with the same example configuration, and one whose example changed.
  const std::string newer = repack(*dir_, deb, base + "+upgrade1", "");
  const std::string newest = repack(*dir_, deb, base + "+upgrade2", "# a line the newer example adds\n");
  ASSERT_FALSE(newer.empty());
  ASSERT_FALSE(newest.empty());

  auto installed = dpkg({"-i", deb});
  ASSERT_TRUE(installed) << installed.error().message();
  installed_by_test_ = true;
  ASSERT_EQ(installed->exit_status, 0) << installed->out << installed->err;
  ASSERT_EQ(installed_version(), base);

  // The operator's edits and the relay's data.
  const std::string config_path = "/etc/binlog-relay/binlog-relay.toml";
  auto example = read_file(config_path);
  ASSERT_TRUE(example);
  const std::string edited =
      std::regex_replace(*example, std::regex("\nlevel = \"info\""), "\nlevel = \"debug\"") +
      "# edited by the operator\n";
  ASSERT_NE(edited, *example + "# edited by the operator\n") << "the example has no [log] level line";
  ASSERT_TRUE(write_file(config_path, edited));
  const passwd* account = getpwnam(kPackage);
  ASSERT_NE(account, nullptr);
  const std::string data = "/var/lib/binlog-relay/data.mdb";
  const std::string events = "/var/lib/binlog-relay/events/mysql-bin.000001";
  std::filesystem::create_directories("/var/lib/binlog-relay/events");
  ASSERT_TRUE(write_file(data, "the relay's index"));
  ASSERT_TRUE(write_file(events, "the relay's events"));
  for (const std::string& path : {data, events, std::string("/var/lib/binlog-relay/events")})
    ASSERT_EQ(::chown(path.c_str(), account->pw_uid, account->pw_gid), 0);

  const auto check_kept = [&](const std::string& step) {
    SCOPED_TRACE(step);
    EXPECT_EQ(read_file(config_path).value_or(""), edited);
    struct stat config {};
    ASSERT_EQ(::stat(config_path.c_str(), &config), 0);
    EXPECT_EQ(config.st_mode & 0777, 0640u);
    EXPECT_EQ(config.st_gid, account->pw_gid);
    EXPECT_EQ(read_file(data).value_or(""), "the relay's index");
    EXPECT_EQ(read_file(events).value_or(""), "the relay's events");
    struct stat file {};
    ASSERT_EQ(::stat(events.c_str(), &file), 0);
    EXPECT_EQ(file.st_uid, account->pw_uid);
    EXPECT_EQ(getpwnam(kPackage)->pw_uid, account->pw_uid) << "the account was made again";
    auto version = run_command({"/usr/bin/binlog-relay", "--version"});
    ASSERT_TRUE(version);
    EXPECT_EQ(version->exit_status, 0);
  };

  // Same example configuration: plain `dpkg -i` keeps the edited one without asking.
  auto upgraded = dpkg({"-i", newer});
  ASSERT_TRUE(upgraded) << upgraded.error().message();
  ASSERT_EQ(upgraded->exit_status, 0) << upgraded->out << upgraded->err;
  EXPECT_EQ(installed_version(), base + "+upgrade1");
  check_kept("upgrade with the same example");
  EXPECT_FALSE(std::filesystem::exists(config_path + ".dpkg-dist"));

  // A changed example: dpkg would ask; --force-confold (what unattended upgrades pass) keeps the
  // operator's and leaves the new example beside it.
  upgraded = dpkg({"--force-confold", "-i", newest});
  ASSERT_TRUE(upgraded) << upgraded.error().message();
  ASSERT_EQ(upgraded->exit_status, 0) << upgraded->out << upgraded->err;
  EXPECT_EQ(installed_version(), base + "+upgrade2");
  check_kept("upgrade with a changed example");
  EXPECT_NE(read_file(config_path + ".dpkg-dist").value_or("").find("# a line the newer example adds"),
            std::string::npos);
}

// lintian on the package: no errors (warnings are listed in the log). Needs no root.
TEST(DebianPackageLintian, PassesLintianAndShipsManPagesChangelogAndCopyright) {
  auto dir = TempDir::create("debian-lintian");
  ASSERT_TRUE(dir);
  const std::string deb = build_package(*dir);
  ASSERT_FALSE(deb.empty());
  auto lintian = run_command({"lintian", "--no-tag-display-limit", deb}, {}, std::chrono::seconds(600));
  ASSERT_TRUE(lintian) << lintian.error().message() << " (scripts/install-deps installs lintian)";
  const std::string report = lintian->out + lintian->err;
  std::cout << "lintian:\n" << report;
  EXPECT_EQ(report.find("\nE: "), std::string::npos) << report;
  EXPECT_NE(report.rfind("E: ", 0), 0u) << report;
  EXPECT_EQ(lintian->exit_status, 0) << report;

  auto contents = run_command({"dpkg-deb", "-c", deb});
  ASSERT_TRUE(contents && contents->exit_status == 0);
  for (const char* path :
       {"./usr/share/man/man8/binlog-relay.8.gz", "./usr/share/man/man5/binlog-relay.toml.5.gz",
        "./usr/share/doc/binlog-relay/changelog.Debian.gz", "./usr/share/doc/binlog-relay/copyright",
        "./usr/bin/binlog-relay", "./usr/share/binlog-relay/binlog-relay-dashboard.json",
        "./usr/share/binlog-relay/binlog-relay-alerts.yml", "./usr/share/binlog-relay/README.md"}) {
    EXPECT_NE(contents->out.find(std::string(" ") + path + "\n"), std::string::npos) << path << "\n"
                                                                                     << contents->out;
  }
  // The monitoring files' own CI tests stay out of the package.
  EXPECT_EQ(contents->out.find("./usr/share/binlog-relay/tests"), std::string::npos) << contents->out;
  // The files, as installed.
  const std::string root = dir->file("root");
  auto extracted = run_command({"dpkg-deb", "-x", deb, root});
  ASSERT_TRUE(extracted && extracted->exit_status == 0);
  auto copyright = read_file(root + "/usr/share/doc/binlog-relay/copyright");
  ASSERT_TRUE(copyright);
  EXPECT_EQ(
      copyright->rfind("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n", 0),
      0u);
  for (const char* field :
       {"\nUpstream-Name: binlog-relay\n", "\nFiles: *\n", "\nCopyright: ", "\nLicense: "})
    EXPECT_NE(copyright->find(field), std::string::npos) << field;
  // The changelog's newest entry is this package's version.
  auto version = run_command({"dpkg-deb", "-f", deb, "Version"});
  ASSERT_TRUE(version && version->exit_status == 0);
  auto changelog = run_command(
      {"sh", "-c", "gzip -dc \"$0\" | head -1", root + "/usr/share/doc/binlog-relay/changelog.Debian.gz"});
  ASSERT_TRUE(changelog && changelog->exit_status == 0);
  EXPECT_EQ(
      changelog->out.rfind("binlog-relay (" + version->out.substr(0, version->out.find('\n')) + ") ", 0), 0u)
      << changelog->out << " (packaging/debian/changelog needs an entry for the project's version)";
  // man reads both pages without warnings.
  for (const char* page :
       {"/usr/share/man/man8/binlog-relay.8.gz", "/usr/share/man/man5/binlog-relay.toml.5.gz"}) {
    auto shown = run_command(
        {"sh", "-c", "MANWIDTH=80 man --warnings -E UTF-8 -l \"$0\" 2>&1 >/dev/null", root + page});
    ASSERT_TRUE(shown);
    EXPECT_EQ(shown->exit_status, 0) << page;
    EXPECT_EQ(shown->out, "") << page;
  }
}

}  // namespace
}  // namespace brelay::testing
