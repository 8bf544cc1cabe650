// The first column of the first row of a query on a test server: "" when the query fails (a
// non-fatal test failure naming the statement) or returns nothing.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tests/support/mariadb_server.h"

namespace brelay::testing {

inline std::string single_value(MariaDbServer& server, const std::string& sql) {
  auto rows = server.query(sql);
  EXPECT_TRUE(rows) << sql << ": " << rows.error().message();
  return rows && !rows->empty() && !rows->front().empty() ? rows->front()[0] : "";
}

}  // namespace brelay::testing
