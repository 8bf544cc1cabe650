#include "relay/core/source_identity.h"

#include <gtest/gtest.h>

namespace brelay::relay {
namespace {

TEST(SourceIdentity, FlavourFromTheGreetingVersion) {
  EXPECT_EQ(flavor_of_version("8.0.36"), Flavor::kMysql);
  EXPECT_EQ(flavor_of_version("5.7.44-log"), Flavor::kMysql);
  EXPECT_EQ(flavor_of_version("5.5.5-10.11.19-MariaDB-0+deb12u1-log"), Flavor::kMariadb);
  EXPECT_EQ(flavor_of_version("11.4.2-MariaDB"), Flavor::kMariadb);
  EXPECT_EQ(strip_compatibility_prefix("5.5.5-10.11.19-MariaDB"), "10.11.19-MariaDB");
  EXPECT_EQ(strip_compatibility_prefix("5.5.5-not-maria"), "5.5.5-not-maria");
}

TEST(SourceIdentity, EncodingRoundTripsEveryField) {
  SourceIdentity identity;
  identity.flavor = Flavor::kMariadb;
  identity.version = "5.5.5-10.11.19-MariaDB-0+deb12u1";
  identity.server_id = 4294967295u;
  identity.server_uuid = "";
  identity.checksum = binlog::ChecksumAlgorithm::kOff;
  identity.variables = {{"binlog_format", "ROW"}, {"version_comment", "line\\one\nline two"}};
  auto decoded = decode_source_identity(encode_source_identity(identity));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(*decoded, identity);
}

TEST(SourceIdentity, BadStoredValuesAreErrors) {
  EXPECT_FALSE(decode_source_identity(to_bytes("flavor=oracle\n")));
  EXPECT_FALSE(decode_source_identity(to_bytes("server_id=12x\n")));
  EXPECT_FALSE(decode_source_identity(to_bytes("no equals sign\n")));
  EXPECT_TRUE(decode_source_identity(to_bytes("future_key=1\n"))) << "keys from a newer relay are ignored";
}

}  // namespace
}  // namespace brelay::relay
