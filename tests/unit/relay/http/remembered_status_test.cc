#include "relay/http/remembered_status.h"

#include <gtest/gtest.h>

#include <limits>

#include <fmt/format.h>

namespace brelay::relay {
namespace {

downstream::RememberedReplica replica(std::uint32_t server_id, std::optional<std::uint32_t> connection,
                                      std::optional<std::int64_t> protected_until) {
  downstream::RememberedReplica replica;
  replica.record.server_id = server_id;
  replica.record.account = "repl";
  replica.record.host = "10.0.0.7:51000";
  replica.record.file = "mysql-bin.000004";
  replica.record.position = 1234;
  replica.record.last_seen = 1'700'000'000;
  replica.connection_id = connection;
  replica.protected_until = protected_until;
  replica.headroom_seconds = 3600;
  return replica;
}

std::string value_of(const StatusRows& rows, const std::string& name) {
  for (const auto& [row_name, value] : rows)
    if (row_name == name) return value;
  return "<no " + name + ">";
}

TEST(RememberedStatus, DisconnectedReplicasHaveARowConnectedOnesOnlyCount) {
  StatusRows rows;
  add_remembered_replica_rows(rows,
                              {replica(7, std::nullopt, 1'700'000'000 + 604800), replica(8, 12, std::nullopt),
                               replica(9, std::nullopt, 1'700'000'003)},
                              true, 1'700'000'010);
  EXPECT_EQ(value_of(rows, "Remembered_Replicas"), "3 (2 disconnected); protect_replicas on");
  EXPECT_EQ(value_of(rows, "Disconnected_Replica_7"),
            "user repl from 10.0.0.7:51000 at mysql-bin.000004:1234, last seen 2023-11-14 22:13:20 UTC, kept "
            "until 2023-11-21 22:13:20 UTC, headroom 3600 s");
  EXPECT_EQ(value_of(rows, "Disconnected_Replica_8"), "<no Disconnected_Replica_8>");
  EXPECT_NE(value_of(rows, "Disconnected_Replica_9").find("grace over since 2023-11-14 22:13:23 UTC"),
            std::string::npos);
  EXPECT_EQ(rows.size(), 3u);
}

TEST(RememberedStatus, WithoutProtectionNothingIsKeptAndTheRowsAreCapped) {
  std::vector<downstream::RememberedReplica> replicas;
  for (std::uint32_t id = 1; id <= kRememberedRows + 5; ++id)
    replicas.push_back(replica(id, std::nullopt, std::nullopt));
  replicas.back().headroom_seconds = std::numeric_limits<double>::infinity();
  StatusRows rows;
  add_remembered_replica_rows(rows, replicas, false, 1'700'000'010);
  EXPECT_EQ(rows.size(), 1 + kRememberedRows + 1);
  EXPECT_NE(value_of(rows, "Disconnected_Replica_1").find("not kept (protect_replicas is off)"),
            std::string::npos);
  EXPECT_EQ(value_of(rows, "Disconnected_Replicas_Not_Shown"), "5 (SHOW RELAY REPLICAS lists them)");
  EXPECT_EQ(value_of(rows, "Remembered_Replicas"), fmt::format("{} ({} disconnected); protect_replicas off",
                                                               kRememberedRows + 5, kRememberedRows + 5));
}

}  // namespace
}  // namespace brelay::relay
