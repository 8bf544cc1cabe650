// The `binlog-relay run` daemon's life cycle: readiness, SIGHUP, SIGTERM, configuration errors, one
// writer per data directory, and the relay's own server_uuid kept across restarts.
#include <gtest/gtest.h>

#include <signal.h>

#include "storage/binlog_store.h"
#include "tests/support/process.h"
#include "tests/support/relay_process.h"

namespace brelay::testing {
namespace {

TestRelayConfig basic_config(const TempDir& dir) {
  TestRelayConfig config;
  config.data_dir = dir.file("data");
  config.source_port = free_loopback_port().value_or(1);  // nothing listens there
  return config;
}

TEST(Daemon, ReportsReadyReloadsOnSighupAndStopsCleanlyOnSigterm) {
  auto dir = TempDir::create("daemon");
  ASSERT_TRUE(dir);
  auto relay = RelayProcess::start(basic_config(*dir));
  ASSERT_TRUE(relay) << relay.error().message();
  (*relay)->signal(SIGHUP);
  ASSERT_TRUE((*relay)->wait_for_notification("RELOADING=1", std::chrono::seconds(10)));
  ASSERT_TRUE((*relay)->wait_for_notification("READY=1", std::chrono::seconds(10)));
  auto status = (*relay)->stop();
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(*status, 0) << (*relay)->log();
  EXPECT_NE((*relay)->log().find("received SIGTERM"), std::string::npos) << (*relay)->log();
  EXPECT_NE((*relay)->log().find("binlog-relay stopped"), std::string::npos);
}

TEST(Daemon, SigintStopsItToo) {
  auto dir = TempDir::create("daemon");
  ASSERT_TRUE(dir);
  auto relay = RelayProcess::start(basic_config(*dir));
  ASSERT_TRUE(relay) << relay.error().message();
  (*relay)->signal(SIGINT);
  ASSERT_TRUE((*relay)->wait_for_notification("STOPPING=1", std::chrono::seconds(10)));
  auto status = (*relay)->wait(std::chrono::seconds(30));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
}

TEST(Daemon, ConfigurationErrorsExitWithTheFileLineAndKey) {
  auto dir = TempDir::create("daemon");
  ASSERT_TRUE(dir);
  TestRelayConfig config = basic_config(*dir);
  config.storage_extra = "retention_tim = \"7d\"\n";
  ASSERT_TRUE(write_file(dir->file("relay.toml"), config.to_toml()));
  auto output = run_command({binlog_relay_path(), "run", "--config", dir->file("relay.toml")});
  ASSERT_TRUE(output);
  EXPECT_EQ(output->exit_status, 2);
  EXPECT_NE(output->err.find(dir->file("relay.toml") + ":"), std::string::npos) << output->err;
  EXPECT_NE(output->err.find("[storage] unknown key 'retention_tim'"), std::string::npos) << output->err;
}

TEST(Daemon, OneRelayPerDataDirectory) {
  auto dir = TempDir::create("daemon");
  ASSERT_TRUE(dir);
  auto first = RelayProcess::start(basic_config(*dir));
  ASSERT_TRUE(first) << first.error().message();
  TestRelayConfig second_config = basic_config(*dir);
  auto second = RelayProcess::start(second_config, std::chrono::seconds(30));
  ASSERT_FALSE(second) << "a second relay opened the same store";
  EXPECT_NE(second.error().message().find("cannot start"), std::string::npos) << second.error().message();
  EXPECT_TRUE((*first)->running());
}

TEST(Daemon, ServerUuidIsGeneratedOnceAndKept) {
  auto dir = TempDir::create("daemon");
  ASSERT_TRUE(dir);
  auto read_uuid = [&]() -> std::string {
    storage::StoreOptions options;
    options.read_only = true;
    auto store = storage::BinlogStore::open(dir->file("data"), options);
    EXPECT_TRUE(store) << store.error().message();
    if (!store) return "";
    auto uuid = (*store)->get_meta("relay_server_uuid");
    EXPECT_TRUE(uuid && *uuid);
    return uuid && *uuid ? std::string(as_text(**uuid)) : "";
  };
  std::string first_uuid;
  for (int run = 0; run < 2; ++run) {
    auto relay = RelayProcess::start(basic_config(*dir));
    ASSERT_TRUE(relay) << relay.error().message();
    auto status = (*relay)->stop();
    ASSERT_TRUE(status);
    ASSERT_EQ(*status, 0);
    const std::string uuid = read_uuid();
    EXPECT_EQ(uuid.size(), 36u) << uuid;
    if (run == 0)
      first_uuid = uuid;
    else
      EXPECT_EQ(uuid, first_uuid);
  }
}

}  // namespace
}  // namespace brelay::testing
