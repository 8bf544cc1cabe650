// What the replication tests with real MariaDB servers share: a small table to write to on the
// source, and the check that a replica applied all of it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "tests/support/mariadb_server.h"
#include "tests/support/single_value.h"

namespace brelay::testing {

// app.t (id, v): create it on the source, then insert_app_rows() writes one transaction per row,
// of id i with a v of i % 200 bytes.
inline constexpr const char* kCreateAppTable =
    "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT)";

inline void insert_app_rows(MariaDbServer& source, int from, int count) {
  for (int i = from; i < from + count; ++i)
    ASSERT_TRUE(source.execute(fmt::format("INSERT INTO app.t VALUES ({}, REPEAT('x', {}))", i, i % 200)));
}

// Waits (up to `timeout`) until `replica` applied every transaction the source has logged
// (@@gtid_slave_pos equals its @@gtid_binlog_pos) or stopped on an error, then expects no
// replication error and CHECKSUM TABLE `tables` to be equal on both.
inline void expect_caught_up_with_equal_checksums(
    MariaDbServer& source, MariaDbServer& replica, const std::string& tables,
    std::chrono::milliseconds timeout = std::chrono::seconds(180)) {
  const std::string source_position = single_value(source, "SELECT @@gtid_binlog_pos");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::map<std::string, std::string> status;
  while (std::chrono::steady_clock::now() < deadline) {
    status = slave_status(replica);
    if (status["Last_IO_Errno"] != "0" || status["Last_SQL_Errno"] != "0") break;
    if (single_value(replica, "SELECT @@gtid_slave_pos") == source_position) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(single_value(replica, "SELECT @@gtid_slave_pos"), source_position);
  EXPECT_EQ(status["Slave_IO_Running"], "Yes") << status["Last_IO_Error"];
  EXPECT_EQ(status["Slave_SQL_Running"], "Yes") << status["Last_SQL_Error"];
  EXPECT_EQ(status["Last_IO_Errno"], "0") << status["Last_IO_Error"];
  EXPECT_EQ(status["Last_SQL_Errno"], "0") << status["Last_SQL_Error"];
  auto mine = replica.query("CHECKSUM TABLE " + tables);
  auto theirs = source.query("CHECKSUM TABLE " + tables);
  ASSERT_TRUE(mine && theirs);
  EXPECT_EQ(*mine, *theirs);
}

}  // namespace brelay::testing
