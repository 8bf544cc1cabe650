// The upstream when the stream from the source is damaged: a fault-injecting TCP proxy
// (tests/support/fault_proxy.h) between the source and the relay flips a byte inside an event, drops
// the connection in the middle of a transaction, or flips a byte at an arbitrary offset of the
// stream. The corrupt event is never stored (its CRC does not match), the half transaction is
// dropped, the relay reconnects and resumes at the last boundary, and in the end every stored file
// is byte-identical to the source's.
#include <gtest/gtest.h>

#include "tests/integration/upstream_harness.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

std::string padded(std::string_view marker, std::size_t size) {
  std::string text(marker);
  while (text.size() < size)
    text += static_cast<char>('a' + text.size() % 26);
  return text;
}

TEST(UpstreamFaults, ACorruptEventIsNeverStoredAndAHalfTransactionIsDropped) {
  auto dir = TempDir::create("upstream-faults");
  ASSERT_TRUE(dir);
  MariaDbOptions options;
  options.max_binlog_size = 1 << 20;
  auto started = MariaDbServer::start(options);
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;
  ASSERT_TRUE(source.execute("CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, payload LONGTEXT)"));

  // Connection 0: a byte flipped inside the events that carry the first marker. Connection 1: dropped
  // in the middle of the transaction that carries the second.
  auto proxy = FaultProxy::start(source.host(), source.port(),
                                 {FaultPlan{FaultPlan::Action::kFlipByte, 0, "FLIP-THIS-EVENT", 200},
                                  FaultPlan{FaultPlan::Action::kDrop, 1, "DROP-THIS-TRANSACTION", 300}});
  ASSERT_TRUE(proxy) << proxy.error().message();

  TestRelayConfig config;
  config.data_dir = dir->file("data");
  config.source_port = (*proxy)->port();
  config.source_extra = "heartbeat_period = \"500ms\"\nreconnect_max_delay = \"1s\"\n";
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();

  ASSERT_TRUE(source.execute("INSERT INTO f.t VALUES (1, 'before')"));
  ASSERT_TRUE(wait_for_catch_up(source, config.data_dir, 30s, relay->get()));
  const std::string flip = padded("FLIP-THIS-EVENT", 4000);
  const std::string drop = padded("DROP-THIS-TRANSACTION", 4000);
  ASSERT_TRUE(source.execute(
      fmt::format("BEGIN; INSERT INTO f.t VALUES (2, 'first of three'); INSERT INTO f.t VALUES (3, '{}'); "
                  "INSERT INTO f.t VALUES (4, 'third of three'); COMMIT",
                  flip)));
  ASSERT_TRUE(wait_for_catch_up(source, config.data_dir, 30s, relay->get()));
  ASSERT_TRUE(source.execute(
      fmt::format("BEGIN; INSERT INTO f.t VALUES (5, 'first'); INSERT INTO f.t VALUES (6, '{}'); "
                  "INSERT INTO f.t VALUES (7, 'after'); COMMIT; INSERT INTO f.t VALUES (8, 'last')",
                  drop)));
  ASSERT_TRUE(flush_and_catch_up(source, config.data_dir, 30s, relay->get()));

  EXPECT_EQ((*proxy)->faults_applied(), 2u);
  EXPECT_GE((*proxy)->connections_accepted(), 3u);
  const std::string log = (*relay)->log();
  EXPECT_NE(log.find("checksum"), std::string::npos) << log;
  EXPECT_NE(log.find("reconnecting"), std::string::npos) << log;

  auto comparison = compare_closed_files(source, config.data_dir, dir->path());
  ASSERT_TRUE(comparison) << comparison.error().message();
  EXPECT_GE(comparison->compared, 1u);
  EXPECT_TRUE(comparison->differences.empty())
      << fmt::format("{}", fmt::join(comparison->differences, "\n")) << relay_log_tail(relay->get());
}

TEST(UpstreamFaults, AByteFlippedAnywhereInTheStreamEndsInTheSameFiles) {
  auto dir = TempDir::create("upstream-faults-any");
  ASSERT_TRUE(dir);
  auto started = MariaDbServer::start({});
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;
  ASSERT_TRUE(source.execute("CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, payload TEXT)"));
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(source.execute(fmt::format("INSERT INTO f.t VALUES ({}, '{}')", i, padded("row", 300))));
  }
  // Offsets into the whole server-to-client stream of three connections in a row: the greeting and
  // the setup replies come first, then the dump.
  auto proxy = FaultProxy::start(source.host(), source.port(),
                                 {FaultPlan{FaultPlan::Action::kFlipByte, 0, "", 1500},
                                  FaultPlan{FaultPlan::Action::kFlipByte, 1, "", 6000},
                                  FaultPlan{FaultPlan::Action::kFlipByte, 2, "", 12000}});
  ASSERT_TRUE(proxy) << proxy.error().message();
  TestRelayConfig config;
  config.data_dir = dir->file("data");
  config.source_port = (*proxy)->port();
  config.source_extra = "heartbeat_period = \"250ms\"\nreconnect_max_delay = \"1s\"\n";
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  {
    auto caught_up = flush_and_catch_up(source, config.data_dir, 90s, relay->get());
    ASSERT_TRUE(caught_up) << caught_up.error().message();
  }
  EXPECT_EQ((*proxy)->faults_applied(), 3u);
  auto comparison = compare_closed_files(source, config.data_dir, dir->path());
  ASSERT_TRUE(comparison) << comparison.error().message();
  EXPECT_EQ(comparison->compared, 1u);
  EXPECT_TRUE(comparison->differences.empty())
      << fmt::format("{}", fmt::join(comparison->differences, "\n")) << relay_log_tail(relay->get());
}

}  // namespace
}  // namespace brelay::testing
