// OK / ERR / EOF and text result sets: round trips, the DEPRECATE_EOF ending, NULLs, and
// truncation at every byte.
#include "net/mysql_packets.h"

#include <gtest/gtest.h>

#include "common/byte_reader.h"

namespace brelay::net {
namespace {

TEST(OkPacket, RoundTripsWithLargeCounters) {
  OkPacket ok;
  ok.affected_rows = 1ull << 40;
  ok.last_insert_id = 300;
  ok.status_flags = server_status::kAutocommit | server_status::kInTransaction;
  ok.warnings = 2;
  ok.info = "Rows matched: 1";
  const Bytes wire = encode_ok(ok);
  auto decoded = decode_ok(wire, 0);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->affected_rows, ok.affected_rows);
  EXPECT_EQ(decoded->last_insert_id, 300u);
  EXPECT_EQ(decoded->status_flags, ok.status_flags);
  EXPECT_EQ(decoded->warnings, 2);
  EXPECT_EQ(decoded->info, ok.info);
  for (std::size_t cut = 1; cut < 1 + 9 + 3; ++cut)
    EXPECT_FALSE(decode_ok(ByteView(wire).first(cut), 0)) << cut;
}

TEST(OkPacket, SessionTrackInfoIsLengthEncoded) {
  const Bytes wire = {0x00, 0x00, 0x00, 0x02, 0x40, 0x00, 0x00, 0x03, 'a',
                      'b',  'c',  0x05, 0x01, 0x02, 0x03, 0x04, 0x05};
  auto decoded = decode_ok(wire, capability::kSessionTrack);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->info, "abc");
}

TEST(ErrPacket, RoundTripsAndReadsPre41Errors) {
  const ErrPacket err{1236, "HY000", "Could not find first log file name in binary log index file"};
  const Bytes wire = encode_err(err);
  EXPECT_EQ(wire[0], 0xff);
  EXPECT_EQ(wire[3], '#');
  auto decoded = decode_err(wire);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->code, 1236);
  EXPECT_EQ(decoded->sql_state, "HY000");
  EXPECT_EQ(decoded->message, err.message);
  auto old = decode_err(Bytes{0xff, 0x15, 0x04, 'n', 'o'});
  ASSERT_TRUE(old);
  EXPECT_EQ(old->code, 1045);
  EXPECT_EQ(old->sql_state, "");
  EXPECT_EQ(old->message, "no");
  EXPECT_FALSE(decode_err(Bytes{0xff, 0x15}));
  EXPECT_FALSE(decode_err(Bytes{0xff, 0x15, 0x04, '#', '2', '8'}));
}

TEST(EofPacket, RoundTripsAndIsTellableFromRows) {
  const Bytes wire = encode_eof({1, server_status::kMoreResultsExist});
  ASSERT_EQ(wire.size(), 5u);
  EXPECT_TRUE(is_eof_packet(wire));
  auto decoded = decode_eof(wire);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->warnings, 1);
  EXPECT_EQ(decoded->status_flags, server_status::kMoreResultsExist);
  // A row starting with 0xFE (an 8-byte length) is longer than an EOF.
  Bytes row(20, 0x00);
  row[0] = 0xfe;
  EXPECT_FALSE(is_eof_packet(row));
}

TEST(ColumnDefinition, RoundTrips) {
  ColumnDefinition column = ColumnDefinition::unsigned_integer("Position");
  column.schema = "s";
  column.table = "t";
  auto decoded = decode_column_definition(encode_column_definition(column));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->name, "Position");
  EXPECT_EQ(decoded->schema, "s");
  EXPECT_EQ(decoded->table, "t");
  EXPECT_EQ(decoded->type, ColumnType::kLongLong);
  EXPECT_EQ(decoded->flags, column.flags);
  EXPECT_EQ(decoded->charset, charset::kBinary);
  const Bytes wire = encode_column_definition(ColumnDefinition::text("File"));
  for (std::size_t cut = 0; cut < wire.size(); ++cut)
    EXPECT_FALSE(decode_column_definition(ByteView(wire).first(cut))) << cut;
}

TEST(TextRow, RoundTripsNullsAndEmptyStringsAndLongValues) {
  const TextRow row = {std::string("mysql-bin.000001"), std::nullopt, std::string(""),
                       std::string(70000, 'v')};
  const Bytes wire = encode_text_row(row);
  auto decoded = decode_text_row(wire, row.size());
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(*decoded, row);
  EXPECT_FALSE(decode_text_row(wire, row.size() - 1)) << "leftover bytes are an error";
  EXPECT_FALSE(decode_text_row(wire, row.size() + 1));
  for (std::size_t cut = 0; cut < 30; ++cut)
    EXPECT_FALSE(decode_text_row(ByteView(wire).first(cut), row.size())) << cut;
}

TEST(ResultSet, EncodesBothEndings) {
  ResultSet result;
  result.columns = {ColumnDefinition::text("Log_name"), ColumnDefinition::unsigned_integer("File_size")};
  result.rows = {{std::string("mysql-bin.000001"), std::string("4")},
                 {std::string("mysql-bin.000002"), std::nullopt}};
  const auto classic = encode_result_set(result, false);
  ASSERT_EQ(classic.size(), 1u + 2 + 1 + 2 + 1);
  EXPECT_EQ(classic[0], Bytes{2});
  EXPECT_TRUE(is_eof_packet(classic[3]));
  EXPECT_TRUE(is_eof_packet(classic.back()));
  const auto modern = encode_result_set(result, true);
  ASSERT_EQ(modern.size(), 1u + 2 + 2 + 1);
  EXPECT_TRUE(is_result_set_end(modern.back()));
  EXPECT_EQ(modern.back()[0], 0xfe);
  EXPECT_TRUE(decode_ok(modern.back(), 0));
  auto row = decode_text_row(modern[4], 2);
  ASSERT_TRUE(row);
  EXPECT_EQ(*row, result.rows[1]);
}

}  // namespace
}  // namespace brelay::net
