// The pieces of net/'s login hardening that need no socket: address ranges for account hosts
// (IPv4, IPv6, IPv4-mapped IPv6) and the failed-login table behind max_connect_errors (counts,
// growing delays, blocking, reset on success, FLUSH HOSTS, bounded memory).
#include <gtest/gtest.h>

#include "net/accounts.h"
#include "net/connect_errors.h"
#include "net/ip_range.h"

namespace brelay::net {
namespace {

IpRange range(std::string_view text) {
  auto parsed = IpRange::parse(text);
  EXPECT_TRUE(parsed) << text << ": " << (parsed ? "" : parsed.error().message());
  return parsed ? *parsed : IpRange::parse("::/128").value();
}

TEST(IpRange, Ipv4Cidr) {
  const IpRange ten = range("10.0.0.0/8");
  EXPECT_TRUE(ten.contains("10.1.2.3"));
  EXPECT_TRUE(ten.contains("10.255.255.255"));
  EXPECT_FALSE(ten.contains("11.0.0.1"));
  EXPECT_FALSE(ten.contains("127.0.0.1"));
  EXPECT_EQ(ten.to_string(), "10.0.0.0/8");
  EXPECT_EQ(range("10.9.8.7/8").to_string(), "10.0.0.0/8");  // host bits dropped
  const IpRange odd = range("192.168.5.64/27");
  EXPECT_TRUE(odd.contains("192.168.5.95"));
  EXPECT_FALSE(odd.contains("192.168.5.96"));
  EXPECT_TRUE(range("0.0.0.0/0").contains("8.8.8.8"));
  EXPECT_TRUE(range("127.0.0.1").contains("127.0.0.1"));
  EXPECT_FALSE(range("127.0.0.1").contains("127.0.0.2"));
}

TEST(IpRange, Ipv6Cidr) {
  const IpRange doc = range("2001:db8::/32");
  EXPECT_TRUE(doc.contains("2001:db8::1"));
  EXPECT_TRUE(doc.contains("2001:db8:ffff::1"));
  EXPECT_FALSE(doc.contains("2001:db9::1"));
  EXPECT_FALSE(doc.contains("10.0.0.1"));
  EXPECT_TRUE(range("::1").contains("::1"));
  EXPECT_FALSE(range("::1").contains("127.0.0.1"));
  EXPECT_TRUE(range("fe80::/10").contains("febf::1"));
  EXPECT_FALSE(range("fe80::/10").contains("fec0::1"));
}

TEST(IpRange, MappedIpv4MatchesIpv4Ranges) {
  EXPECT_TRUE(range("10.0.0.0/8").contains("::ffff:10.1.2.3"));
  EXPECT_FALSE(range("10.0.0.0/8").contains("::ffff:11.1.2.3"));
  EXPECT_TRUE(range("127.0.0.1").contains("::ffff:127.0.0.1"));
  EXPECT_TRUE(range("::ffff:10.0.0.0/104").contains("10.200.0.1"));
  EXPECT_EQ(canonical_ip("::ffff:127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(canonical_ip("2001:DB8::1"), "2001:db8::1");
  EXPECT_EQ(canonical_ip("not-an-address"), "not-an-address");
}

TEST(IpRange, BadTextIsAnError) {
  for (std::string_view bad : {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.256",
                               "replica.example", "", "10.0.0.0/8/8", "::1/-1"}) {
    EXPECT_FALSE(IpRange::parse(bad)) << bad;
  }
}

TEST(IpRange, AccountHosts) {
  Account anywhere = Account::from_password("pw", "replica");
  EXPECT_TRUE(anywhere.host_allowed("203.0.113.9"));
  Account restricted = anywhere;
  restricted.hosts = {range("20.0.0.0/8"), range("2001:db8::/32")};
  EXPECT_TRUE(restricted.host_allowed("20.1.1.1"));
  EXPECT_TRUE(restricted.host_allowed("::ffff:20.1.1.1"));
  EXPECT_TRUE(restricted.host_allowed("2001:db8::7"));
  EXPECT_FALSE(restricted.host_allowed("127.0.0.1"));
  EXPECT_FALSE(restricted.host_allowed("::1"));
  EXPECT_FALSE(restricted.host_allowed("garbage"));
}

TEST(ConnectErrorTable, BlocksAfterMaxErrorsWithGrowingDelays) {
  ConnectErrorTable table(5);
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(table.blocked("198.51.100.7")) << i;
    delays.push_back(table.record_failure("198.51.100.7"));
  }
  EXPECT_TRUE(table.blocked("198.51.100.7"));
  EXPECT_TRUE(table.blocked("::ffff:198.51.100.7"));  // the same client through a dual-stack listener
  EXPECT_FALSE(table.blocked("198.51.100.8"));
  EXPECT_EQ(table.errors("198.51.100.7"), 5u);
  EXPECT_EQ(delays[0].count(), 0);
  EXPECT_EQ(delays[1].count(), 0);
  EXPECT_EQ(delays[2].count(), 250);
  EXPECT_EQ(delays[3].count(), 500);
  EXPECT_EQ(delays[4].count(), 1000);
  EXPECT_EQ(ConnectErrorTable::delay_for(1000), ConnectErrorTable::kMaxDelay);
  for (std::uint64_t n = 1; n < 100; ++n)
    EXPECT_LE(ConnectErrorTable::delay_for(n), ConnectErrorTable::delay_for(n + 1));
}

TEST(ConnectErrorTable, SuccessResetsAndFlushUnblocks) {
  ConnectErrorTable table(3);
  table.record_failure("10.0.0.1");
  table.record_failure("10.0.0.1");
  table.record_success("10.0.0.1");
  EXPECT_EQ(table.errors("10.0.0.1"), 0u);
  for (int i = 0; i < 3; ++i)
    table.record_failure("10.0.0.1");
  table.record_failure("10.0.0.2");
  EXPECT_TRUE(table.blocked("10.0.0.1"));
  EXPECT_EQ(table.flush(), 1u);
  EXPECT_FALSE(table.blocked("10.0.0.1"));
  EXPECT_EQ(table.size(), 0u);
}

TEST(ConnectErrorTable, MemoryIsBoundedByEvictingTheLeastRecentlyTouched) {
  ConnectErrorTable table(3, 100);
  table.record_failure("10.0.0.1");
  for (int i = 0; i < 10'000; ++i) {
    table.record_failure(fmt::format("2001:db8:{:x}::1", i));
    if (i % 50 == 0) table.record_failure("10.0.0.9");  // kept by its own failures
  }
  EXPECT_EQ(table.size(), 100u);
  EXPECT_EQ(table.errors("10.0.0.9"), 3u);  // blocked after 3
  EXPECT_TRUE(table.blocked("10.0.0.9"));
  EXPECT_EQ(table.errors("10.0.0.1"), 0u);       // evicted long ago
  EXPECT_EQ(table.errors("2001:db8:0::1"), 0u);  // likewise
  EXPECT_EQ(table.errors("2001:db8:270f::1"), 1u);
}

TEST(ConnectErrorTable, AnIpv6Slash64IsOneClientAndIpv4IsByAddress) {
  EXPECT_EQ(address_group("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_group("2001:DB8:1:2::ffff"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_group("::ffff:198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(address_group("198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(address_group("::1"), "0:0:0:0::/64");
  EXPECT_EQ(address_group("not-an-ip"), "not-an-ip");

  ConnectErrorTable table(5);
  for (int i = 0; i < 5; ++i)  // an attacker rotating through its /64
    table.record_failure(fmt::format("2001:db8:1:2:{:x}:{:x}::1", i * 7919, i));
  EXPECT_TRUE(table.blocked("2001:db8:1:2::9"));
  EXPECT_FALSE(table.blocked("2001:db8:1:3::1"));  // the next /64 is someone else
  EXPECT_EQ(table.size(), 1u);
  for (int i = 0; i < 4; ++i)  // IPv4 neighbours are not one client
    table.record_failure(fmt::format("198.51.100.{}", i));
  EXPECT_FALSE(table.blocked("198.51.100.0"));
  for (int i = 0; i < 4; ++i)
    table.record_failure("::ffff:198.51.100.0");
  EXPECT_TRUE(table.blocked("198.51.100.0"));
}

TEST(ConnectErrorTable, BlockedClientsAreNeverEvictedAndAFullTableOfThemAdmitsNoNewcomer) {
  ConnectErrorTable table(2, 10);
  for (int i = 0; i < 9; ++i) {
    table.record_failure(fmt::format("10.0.0.{}", i));
    table.record_failure(fmt::format("10.0.0.{}", i));
  }
  EXPECT_EQ(table.blocked_count(), 9u);
  // Newcomers take the one free place in turn: the oldest that is not blocked goes.
  for (int i = 0; i < 50; ++i)
    table.record_failure(fmt::format("192.0.2.{}", i));
  EXPECT_EQ(table.size(), 10u);
  for (int i = 0; i < 9; ++i)
    EXPECT_TRUE(table.blocked(fmt::format("10.0.0.{}", i))) << i;
  EXPECT_EQ(table.errors("192.0.2.49"), 1u);
  EXPECT_TRUE(table.admits("203.0.113.1"));
  // The last place blocked too: newcomers are refused, every block is kept.
  table.record_failure("192.0.2.49");
  EXPECT_EQ(table.blocked_count(), 10u);
  EXPECT_FALSE(table.admits("203.0.113.1"));
  EXPECT_TRUE(table.admits("10.0.0.3"));  // known (and blocked: refused as such)
  EXPECT_EQ(table.record_failure("203.0.113.1"), ConnectErrorTable::kMaxDelay);
  EXPECT_EQ(table.size(), 10u);
  for (int i = 0; i < 9; ++i)
    EXPECT_TRUE(table.blocked(fmt::format("10.0.0.{}", i))) << i;
  // A success frees a place; FLUSH HOSTS frees them all.
  table.record_success("10.0.0.0");
  EXPECT_TRUE(table.admits("203.0.113.1"));
  EXPECT_EQ(table.flush(), 9u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(AccountFailureBudget, RotatingAddressesSpendOneAccountsBudget) {
  using Clock = AccountFailureBudget::Clock;
  AccountFailureBudget budget(3, std::chrono::seconds(2));
  const Clock::time_point t0 = Clock::now();
  budget.record_success("repl", "10.1.1.1");  // the replica's own address
  for (int i = 0; i < 3; ++i) {
    const std::string address = fmt::format("2001:db8:{:x}::1", i);
    EXPECT_TRUE(budget.allows("repl", address, t0)) << i;
    budget.record_failure("repl", t0);
  }
  EXPECT_EQ(budget.left("repl", t0), 0u);
  EXPECT_FALSE(budget.allows("repl", "2001:db8:99::1", t0));
  EXPECT_FALSE(budget.allows("repl", "192.0.2.1", t0));
  EXPECT_TRUE(budget.allows("repl", "10.1.1.1", t0));         // a group that logged in to it
  EXPECT_TRUE(budget.allows("other", "2001:db8:99::1", t0));  // other accounts are not touched
  // One failure given back per refill period.
  EXPECT_FALSE(budget.allows("repl", "192.0.2.1", t0 + std::chrono::milliseconds(1999)));
  EXPECT_TRUE(budget.allows("repl", "192.0.2.1", t0 + std::chrono::seconds(2)));
  budget.record_failure("repl", t0 + std::chrono::seconds(2));
  EXPECT_FALSE(budget.allows("repl", "192.0.2.1", t0 + std::chrono::seconds(3)));
  EXPECT_EQ(budget.left("repl", t0 + std::chrono::seconds(60)), 3u);
  budget.record_failure("repl", t0 + std::chrono::seconds(60));
  budget.flush();
  EXPECT_EQ(budget.left("repl", t0 + std::chrono::seconds(60)), 3u);
}

}  // namespace
}  // namespace brelay::net
