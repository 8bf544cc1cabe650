// The schema forwarder without a source (security review findings 2 and 8): the queue is fair per
// account, a source that cannot be reached is reported without its address, and the statement
// time limit is set in the source's own flavour.
#include "relay/downstream/schema_forwarder.h"

#include <gtest/gtest.h>

#include <optional>

#include "tests/support/temp_dir.h"

namespace brelay::relay::downstream {
namespace {

using Answer = std::optional<Result<net::QueryResult>>;

TEST(SchemaForwarder, StatementTimeLimitIsSetInTheSourcesFlavour) {
  const std::chrono::milliseconds limit{30'000};
  EXPECT_EQ(SchemaForwarder::statement_time_sql("10.11.6-MariaDB-log", limit),
            "SET SESSION max_statement_time = 30.000");
  EXPECT_EQ(SchemaForwarder::statement_time_sql("5.5.5-10.6.16-MariaDB", std::chrono::milliseconds(1500)),
            "SET SESSION max_statement_time = 1.500");
  EXPECT_EQ(SchemaForwarder::statement_time_sql("8.0.36", limit), "SET SESSION max_execution_time = 30000");
  EXPECT_EQ(SchemaForwarder::statement_time_sql("5.7.8-log", limit),
            "SET SESSION max_execution_time = 30000");
  EXPECT_EQ(SchemaForwarder::statement_time_sql("5.7.7", limit), std::nullopt);
  EXPECT_EQ(SchemaForwarder::statement_time_sql("5.6.51", limit), std::nullopt);
  EXPECT_EQ(SchemaForwarder::statement_time_sql("8.0.36", std::chrono::milliseconds(0)), std::nullopt);
}

TEST(SchemaForwarder, OneAccountCannotFillTheQueue) {
  net::EventLoop loop;
  SourceConfig source;
  source.host = "127.0.0.1";
  source.port = 9;  // the loop never runs: nothing is answered while the queue fills
  std::vector<Answer> greedy(SchemaForwarder::kMaxQueuedPerAccount + 1);
  Answer other;
  {
    SchemaForwarder forwarder(loop, source);
    for (Answer& answer : greedy)
      forwarder.forward("greedy", "SHOW DATABASES",
                        [&answer](Result<net::QueryResult> r) { answer = std::move(r); });
    forwarder.forward("other", "SHOW DATABASES",
                      [&other](Result<net::QueryResult> r) { other = std::move(r); });
    for (std::size_t i = 0; i < SchemaForwarder::kMaxQueuedPerAccount; ++i)
      EXPECT_FALSE(greedy[i].has_value()) << i << " is waiting";
    ASSERT_TRUE(greedy.back().has_value()) << "the account's query past its share is refused at once";
    ASSERT_FALSE(*greedy.back());
    EXPECT_EQ(greedy.back()->error().code(), 1226) << greedy.back()->error().message();
    EXPECT_FALSE(other.has_value()) << "another account still has room";
  }
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(*other) << "shut down with the forwarder";
  (void)loop.run();
}

TEST(SchemaForwarder, AnUnreachableSourceIsReportedWithoutItsAddress) {
  auto port = testing::free_loopback_port();  // nothing listens there
  ASSERT_TRUE(port) << port.error().message();
  net::EventLoop loop;
  SourceConfig source;
  source.host = "127.0.0.1";
  source.port = *port;
  SchemaForwarder forwarder(loop, source);
  Answer answer;
  forwarder.forward("cdc", "SHOW DATABASES", [&](Result<net::QueryResult> r) {
    answer = std::move(r);
    loop.stop();
  });
  ASSERT_TRUE(loop.run());
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(*answer);
  const std::string message = answer->error().message();
  EXPECT_EQ(answer->error().code(), 1429) << message;
  EXPECT_EQ(message.find("127.0.0.1"), std::string::npos) << message;
  EXPECT_EQ(message.find(std::to_string(*port)), std::string::npos) << message;
  EXPECT_NE(message.find("relay's log"), std::string::npos) << message;
}

}  // namespace
}  // namespace brelay::relay::downstream
