// MySQL GTID sets: the server's text forms (canonical output, tolerant input, tags), the binary
// encoding (plain and tagged) with the server's rejection rules, and set algebra checked against
// hand-computed cases.
#include <gtest/gtest.h>

#include "common/byte_writer.h"
#include "relay/binlog/gtid_set.h"
#include "relay/binlog/serialization_varlen.h"

namespace brelay::binlog {
namespace {

constexpr const char* kA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
constexpr const char* kB = "76f3e7be-6720-11ed-9cad-0242ac110002";

GtidSet set_of(std::string_view text) {
  auto set = GtidSet::parse(text);
  EXPECT_TRUE(set) << text << ": " << set.error().message();
  return set ? *set : GtidSet();
}

Tsid tsid(const char* uuid, std::string_view tag = {}) {
  return Tsid{*Uuid::parse(uuid), *GtidTag::parse(tag)};
}

TEST(GtidSetText, PrintsTheServersCanonicalForm) {
  // Unsorted, upper-case, overlapping and adjacent input with spaces.
  GtidSet set = set_of(
      " 76F3E7BE-6720-11ED-9CAD-0242AC110002:5-7:1-3 ,\n 3e11fa47-71ca-11e1-9e33-c80aa9429562:9:4:10 ");
  EXPECT_EQ(set.to_string(), std::string(kA) + ":4:9-10,\n" + kB + ":1-3:5-7");
  EXPECT_EQ(set.to_single_line(), std::string(kA) + ":4:9-10," + kB + ":1-3:5-7");
  EXPECT_EQ(set_of(std::string(kB) + ":1-3:4-4").to_string(), std::string(kB) + ":1-4");
  EXPECT_EQ(set_of("").to_string(), "");
  EXPECT_TRUE(set_of("  ").empty());
  // A uuid with no intervals adds nothing.
  EXPECT_TRUE(set_of(kA).empty());
}

TEST(GtidSetText, TagsFollowTheUntaggedIntervalsOfTheirUuid) {
  GtidSet set = set_of(std::string(kA) + ":Beta:3:alpha:1-2," + kA + ":7");
  EXPECT_EQ(set.to_string(), std::string(kA) + ":7:alpha:1-2:beta:3");
  EXPECT_TRUE(set.contains(Gtid{tsid(kA, "alpha"), 2}));
  EXPECT_FALSE(set.contains(Gtid{tsid(kA), 2}));
  auto gtid = Gtid::parse(std::string(kA) + ":alpha:2");
  ASSERT_TRUE(gtid);
  EXPECT_TRUE(set.contains(*gtid));
  EXPECT_EQ(gtid->to_string(), std::string(kA) + ":alpha:2");
}

TEST(GtidSetText, RejectsMalformedText) {
  for (std::string text :
       {std::string("not-a-uuid:1"), std::string(kA) + ":0", std::string(kA) + ":5-3",
        std::string(kA) + ":1-", std::string(kA) + ":-1", std::string(kA) + ":1:", std::string(kA) + ";1",
        std::string(kA) + ":9223372036854775807", std::string(kA) + ":1tag:1",
        std::string(kA) + ":" + std::string(33, 'a') + ":1", std::string(kA).substr(0, 35) + "g:1"}) {
    auto set = GtidSet::parse(text);
    EXPECT_FALSE(set) << text;
    if (!set) {
      EXPECT_NE(set.error().message().find("GTID"), std::string::npos) << set.error().message();
    }
  }
  EXPECT_TRUE(GtidSet::parse(std::string(kA) + ":9223372036854775806"));
}

TEST(GtidSetBinary, RoundTripsPlainAndTaggedSets) {
  for (std::string text :
       {std::string(""), std::string(kA) + ":1-5:7:9-100", std::string(kA) + ":1," + kB + ":1-3:5",
        std::string(kA) + ":1-3:tag_1:5-9:zz:1," + kB + ":x:4"}) {
    GtidSet set = set_of(text);
    const Bytes encoded = set.encode();
    auto decoded = GtidSet::decode(encoded);
    ASSERT_TRUE(decoded) << text << ": " << decoded.error().message();
    EXPECT_EQ(*decoded, set) << text;
    EXPECT_EQ(decoded->to_string(), set.to_string());
  }
}

TEST(GtidSetBinary, EncodingMatchesTheServersLayout) {
  GtidSet set = set_of(std::string(kB) + ":1-10");
  ByteWriter expected;
  expected.u64(1).bytes(Uuid::parse(kB)->bytes).u64(1).i64(1).i64(11);
  EXPECT_EQ(set.encode(), expected.data());

  GtidSet tagged = set_of(std::string(kB) + ":ab:2");
  ByteWriter expected_tagged;
  expected_tagged.u64(0x0100000000000101ULL).bytes(Uuid::parse(kB)->bytes);
  expected_tagged.u8(2 << 1).text("ab");  // varlen length 2: one byte, value shifted past the 0 marker bit
  expected_tagged.u64(1).i64(2).i64(3);
  EXPECT_EQ(tagged.encode(), expected_tagged.data());
}

Bytes plain_encoding(std::initializer_list<std::pair<std::int64_t, std::int64_t>> intervals,
                     std::uint64_t n_sids = 1, std::optional<std::uint64_t> n_intervals = {}) {
  ByteWriter writer;
  writer.u64(n_sids).bytes(Uuid::parse(kA)->bytes).u64(n_intervals.value_or(intervals.size()));
  for (auto [start, end] : intervals)
    writer.i64(start).i64(end);
  return std::move(writer).take();
}

TEST(GtidSetBinary, AppliesTheServersRejectionRules) {
  EXPECT_TRUE(GtidSet::decode(plain_encoding({{1, 3}, {5, 6}})));
  struct Case {
    const char* why;
    Bytes encoding;
  };
  const Case cases[] = {
      {"shorter than the count", Bytes{1, 0, 0}},
      {"start 0", plain_encoding({{0, 3}})},
      {"negative start", plain_encoding({{-5, 3}})},
      {"empty interval", plain_encoding({{3, 3}})},
      {"end before start", plain_encoding({{5, 3}})},
      {"overlapping intervals", plain_encoding({{1, 5}, {4, 8}})},
      {"adjacent intervals (start == previous end)", plain_encoding({{1, 5}, {5, 8}})},
      {"unordered intervals", plain_encoding({{5, 8}, {1, 3}})},
      {"more intervals than bytes", plain_encoding({{1, 3}}, 1, 2)},
      {"huge interval count", plain_encoding({{1, 3}}, 1, UINT64_MAX)},
      {"more sids than bytes", plain_encoding({{1, 3}}, 2)},
      {"unknown format byte", plain_encoding({{1, 3}}, (std::uint64_t{2} << 56) | 1)},
  };
  for (const auto& c : cases) {
    auto decoded = GtidSet::decode(c.encoding);
    EXPECT_FALSE(decoded) << c.why;
    if (!decoded) {
      EXPECT_NE(decoded.error().message().find("malformed GTID set encoding"), std::string::npos);
    }
  }
  Bytes trailing = plain_encoding({{1, 3}});
  trailing.push_back(0);
  EXPECT_FALSE(GtidSet::decode(trailing)) << "trailing bytes";
  // The same uuid twice is merged, as the server does.
  ByteWriter twice;
  twice.u64(2)
      .bytes(Uuid::parse(kA)->bytes)
      .u64(1)
      .i64(1)
      .i64(3)
      .bytes(Uuid::parse(kA)->bytes)
      .u64(1)
      .i64(3)
      .i64(5);
  auto merged = GtidSet::decode(twice.data());
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->to_string(), std::string(kA) + ":1-4");
  // Cutting a valid encoding anywhere gives an error, never a crash or a partial set.
  const Bytes whole = set_of(std::string(kA) + ":1-3:tag:5," + kB + ":7").encode();
  for (std::size_t cut = 0; cut < whole.size(); ++cut)
    EXPECT_FALSE(GtidSet::decode(ByteView(whole).first(cut))) << "cut at " << cut;
}

TEST(GtidSetAlgebra, UnionDifferenceIntersectionByHand) {
  const GtidSet a = set_of(std::string(kA) + ":1-10:20-30," + kB + ":1-5");
  const GtidSet b = set_of(std::string(kA) + ":5-25," + kB + ":6-7:tag:1");
  EXPECT_EQ(GtidSet::union_of(a, b).to_single_line(), std::string(kA) + ":1-30," + kB + ":1-7:tag:1");
  EXPECT_EQ(GtidSet::difference(a, b).to_single_line(), std::string(kA) + ":1-4:26-30," + kB + ":1-5");
  EXPECT_EQ(GtidSet::difference(b, a).to_single_line(), std::string(kA) + ":11-19," + kB + ":6-7:tag:1");
  EXPECT_EQ(GtidSet::intersection(a, b).to_single_line(), std::string(kA) + ":5-10:20-25");
  EXPECT_TRUE(a.intersects(b));
  EXPECT_FALSE(set_of(std::string(kA) + ":1-4").intersects(set_of(std::string(kA) + ":5-9")));
  EXPECT_EQ(a.count(), 10u + 11u + 5u);
  EXPECT_EQ(a.last_gno(tsid(kA)), 30);
  EXPECT_EQ(a.last_gno(tsid(kB, "tag")), 0);
  // Difference down to nothing removes the uuid.
  EXPECT_TRUE(GtidSet::difference(a, a).empty());
  EXPECT_EQ(GtidSet::difference(a, set_of(std::string(kB) + ":1-5")).to_single_line(),
            std::string(kA) + ":1-10:20-30");
  // Splitting an interval in the middle.
  EXPECT_EQ(GtidSet::difference(set_of(std::string(kA) + ":1-10"), set_of(std::string(kA) + ":4-6"))
                .to_single_line(),
            std::string(kA) + ":1-3:7-10");
}

TEST(GtidSetAlgebra, SubsetAndContainsAsAutoPositioningUsesThem) {
  const GtidSet previous = set_of(std::string(kB) + ":1-10");
  const GtidSet replica = set_of(std::string(kB) + ":1-12," + kA + ":1-3");
  EXPECT_TRUE(previous.is_subset_of(replica));
  EXPECT_FALSE(replica.is_subset_of(previous));
  EXPECT_TRUE(GtidSet().is_subset_of(previous));
  EXPECT_TRUE(previous.is_subset_of(previous));
  EXPECT_FALSE(set_of(std::string(kB) + ":1-10:12").is_subset_of(set_of(std::string(kB) + ":1-11")));
  EXPECT_FALSE(set_of(std::string(kB) + ":tag:1").is_subset_of(set_of(std::string(kB) + ":1")));
  EXPECT_TRUE(replica.contains(Gtid{tsid(kB), 12}));
  EXPECT_FALSE(replica.contains(Gtid{tsid(kB), 13}));
  EXPECT_FALSE(replica.contains(Gtid{tsid(kB), 0}));
  // "Replica has more GTIDs than the source": the replica's set minus the source's, for the source uuid.
  const GtidSet source_executed = set_of(std::string(kB) + ":1-11");
  const GtidSet extra = GtidSet::difference(replica, source_executed);
  EXPECT_EQ(extra.to_single_line(), std::string(kA) + ":1-3," + kB + ":12");
  // "Purged": gtid_purged must be a subset of the replica's set; the missing part is the difference.
  const GtidSet purged = set_of(std::string(kB) + ":1-20");
  EXPECT_FALSE(purged.is_subset_of(replica));
  EXPECT_EQ(GtidSet::difference(purged, replica).to_single_line(), std::string(kB) + ":13-20");
}

TEST(SerializationVarlen, RoundTripsAtEveryWidth) {
  for (std::uint64_t value :
       std::initializer_list<std::uint64_t>{0ull, 1ull, 127ull, 128ull, 16383ull, 16384ull, (1ull << 56) - 1,
                                            1ull << 56, (1ull << 63), UINT64_MAX}) {
    ByteWriter writer;
    write_varlen_unsigned(writer, value);
    ByteReader reader(writer.data());
    auto read = read_varlen_unsigned(reader, "v");
    ASSERT_TRUE(read) << value;
    EXPECT_EQ(*read, value);
    EXPECT_TRUE(reader.at_end()) << value;
  }
  for (std::int64_t value : std::initializer_list<std::int64_t>{0ll, 1ll, -1ll, 65535ll, -65535ll, -65536ll,
                                                                INT64_MAX, INT64_MIN}) {
    ByteWriter writer;
    write_varlen_signed(writer, value);
    ByteReader reader(writer.data());
    auto read = read_varlen_signed(reader, "v");
    ASSERT_TRUE(read) << value;
    EXPECT_EQ(*read, value);
  }
  // The readme's examples: 65535 unsigned is "07 ff fb" big-endian, i.e. fb ff 07 on the wire.
  ByteWriter writer;
  write_varlen_unsigned(writer, 65535);
  EXPECT_EQ(writer.data(), (Bytes{0xfb, 0xff, 0x07}));
  ByteWriter negative;
  write_varlen_signed(negative, -65535);
  EXPECT_EQ(negative.data(), (Bytes{0xeb, 0xff, 0x0f}));
  // Truncated: the reader's position does not move.
  const Bytes cut = {0xfb, 0xff};
  ByteReader reader(cut);
  EXPECT_FALSE(read_varlen_unsigned(reader, "v"));
  EXPECT_EQ(reader.position(), 0u);
}

}  // namespace
}  // namespace brelay::binlog
