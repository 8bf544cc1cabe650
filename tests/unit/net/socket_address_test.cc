#include "net/socket_address.h"

#include <gtest/gtest.h>

namespace brelay::net {
namespace {

TEST(SocketAddress, ParsesHostPortForms) {
  auto v4 = parse_host_port("0.0.0.0:3306");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "0.0.0.0");
  EXPECT_EQ(v4->port, 3306);
  auto v6 = parse_host_port("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  auto name = parse_host_port("db.internal:13306");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->host, "db.internal");
  for (const char* bad :
       {"", "3306", "::1:3306", "[::1]", "[::1]3306", "host:", "host:65536", "host:33x", ":3306"})
    EXPECT_FALSE(parse_host_port(bad)) << bad;
}

TEST(SocketAddress, NumericAddressesAndFormatting) {
  EXPECT_TRUE(is_ip_literal("127.0.0.1"));
  EXPECT_TRUE(is_ip_literal("::1"));
  EXPECT_FALSE(is_ip_literal("localhost"));
  auto v4 = numeric_address("127.0.0.1", 3306);
  ASSERT_TRUE(v4);
  EXPECT_EQ(format_address(reinterpret_cast<const sockaddr*>(&*v4)), "127.0.0.1:3306");
  auto v6 = numeric_address("::1", 3307);
  ASSERT_TRUE(v6);
  EXPECT_EQ(format_address(reinterpret_cast<const sockaddr*>(&*v6)), "[::1]:3307");
  EXPECT_EQ(format_host(reinterpret_cast<const sockaddr*>(&*v6)), "::1");
  EXPECT_FALSE(numeric_address("localhost", 1));
}

}  // namespace
}  // namespace brelay::net
