// Failed and refused logins in the relay: the metric series by reason, the rate limit on their log
// lines, the cut of client-chosen names in them, and [[users]] restrictions turned into net/'s
// accounts (hosts as ranges and resolved names, require_tls, limits, the admin's reserved slot).
#include <gtest/gtest.h>

#include "relay/downstream/downstream_accounts.h"
#include "relay/downstream/login_failures.h"

namespace brelay::relay::downstream {
namespace {

TEST(LogRateLimiter, AllowsABurstPerWindowAndCountsTheRest) {
  LogRateLimiter limiter(3, std::chrono::seconds(60));
  const auto start = LogRateLimiter::Clock::now();
  int allowed = 0;
  for (int i = 0; i < 500; ++i)
    if (limiter.allow(start + std::chrono::milliseconds(i))) ++allowed;
  EXPECT_EQ(allowed, 3);
  EXPECT_EQ(limiter.take_suppressed(), 497u);
  EXPECT_EQ(limiter.take_suppressed(), 0u);
  EXPECT_TRUE(limiter.allow(start + std::chrono::seconds(61)));
}

TEST(LoginFailureReporter, CountsByReasonFromZero) {
  MetricsRegistry metrics;
  LoginFailureReporter reporter(metrics);
  const std::string before = metrics.render();
  EXPECT_NE(before.find("binlog_relay_auth_failures_total{reason=\"bad_password\"} 0"), std::string::npos)
      << before;
  EXPECT_NE(before.find("binlog_relay_connections_refused_total{reason=\"max_connections\"} 0"),
            std::string::npos);
  const std::string long_name(10'000, 'u');
  net::LoginRefusalEvent event;
  event.reason = net::LoginRefusal::kBadPassword;
  event.user = long_name;
  event.address = "192.0.2.1";
  for (int i = 0; i < 100; ++i)
    reporter.on_refused(event);
  event.reason = net::LoginRefusal::kBlocked;
  reporter.on_refused(event);
  const std::string after = metrics.render();
  EXPECT_NE(after.find("binlog_relay_auth_failures_total{reason=\"bad_password\"} 100"), std::string::npos)
      << after;
  EXPECT_NE(after.find("binlog_relay_auth_failures_total{reason=\"blocked\"} 1"), std::string::npos);
}

TEST(LoginFailureReporter, ClientNamesAreCutAndEscaped) {
  EXPECT_EQ(printable_cut("repl"), "repl");
  EXPECT_EQ(printable_cut("a\nb\\"), "a\\x0ab\\x5c");
  EXPECT_EQ(printable_cut(std::string(100, 'x'), 4), "xxxx...(100 bytes)");
}

TEST(DownstreamAccounts, RestrictionsBecomeNetAccounts) {
  std::vector<UserConfig> users(2);
  users[0].name = "repl";
  users[0].password = "pw";
  users[0].hosts = {"10.0.0.0/8", "replica.example", "unresolved.example"};
  users[0].require_tls = true;
  users[0].max_connections = 2;
  users[1].name = "ops";
  users[1].password = "pw";
  users[1].role = Role::kAdmin;
  users[1].hosts = {"%"};
  EXPECT_EQ(account_host_names(users), (std::vector<std::string>{"replica.example", "unresolved.example"}));
  HostAddresses resolved;
  resolved["replica.example"] = {*net::parse_ip("192.0.2.10"), *net::parse_ip("2001:db8::10")};
  auto store = make_account_store(users, resolved);
  ASSERT_TRUE(store) << store.error().message();
  auto repl = (*store)->find("repl");
  ASSERT_TRUE(repl);
  EXPECT_TRUE(repl->require_tls);
  EXPECT_EQ(repl->max_connections, 2u);
  EXPECT_FALSE(repl->reserved_connection);
  EXPECT_TRUE(repl->host_allowed("10.9.9.9"));
  EXPECT_TRUE(repl->host_allowed("::ffff:192.0.2.10"));
  EXPECT_TRUE(repl->host_allowed("2001:db8::10"));
  EXPECT_FALSE(repl->host_allowed("192.0.2.11"));
  EXPECT_FALSE(repl->host_allowed("127.0.0.1"));
  auto ops = (*store)->find("ops");
  ASSERT_TRUE(ops);
  EXPECT_TRUE(ops->reserved_connection);
  EXPECT_TRUE(ops->host_allowed("203.0.113.1"));

  // Only names that do not resolve: nobody, not anybody.
  users[0].hosts = {"unresolved.example"};
  auto nobody = make_account_store(users, {});
  ASSERT_TRUE(nobody);
  EXPECT_FALSE((*nobody)->find("repl")->host_allowed("127.0.0.1"));
  // localhost resolves (at start, off the loop thread in a reload).
  auto local = resolve_host_names({"localhost"});
  ASSERT_TRUE(local.contains("localhost"));
  EXPECT_FALSE(local["localhost"].empty());
}

}  // namespace
}  // namespace brelay::relay::downstream
