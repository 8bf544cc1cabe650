// Prepared statements on the wire (binary_protocol.h): COM_STMT_PREPARE_OK, COM_STMT_EXECUTE
// parameters (cut at every byte: an error, never a crash), binary rows with the NULL bitmap at
// offset 2 and each type in its binary form (MySQL's page_protocol_binary_resultset).
#include "net/binary_protocol.h"

#include <gtest/gtest.h>

#include "common/byte_writer.h"

namespace brelay::net {
namespace {

ColumnDefinition column(std::string name, std::uint8_t type, std::uint16_t flags = 0) {
  ColumnDefinition c = ColumnDefinition::text(std::move(name));
  c.type = static_cast<ColumnType>(type);
  c.flags = flags;
  return c;
}

TEST(BinaryProtocol, PrepareOkNamesTheStatementAndItsParameters) {
  StmtPrepareOk ok;
  ok.statement_id = 7;
  ok.parameter_count = 2;
  auto packets = encode_stmt_prepare_ok(ok, false);
  ASSERT_EQ(packets.size(), 4u);  // header, two parameters, EOF
  EXPECT_EQ(packets[0], (Bytes{0x00, 7, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0}));
  EXPECT_TRUE(is_eof_packet(packets[3]));
  EXPECT_EQ(encode_stmt_prepare_ok(ok, true).size(), 3u) << "no EOF under CLIENT_DEPRECATE_EOF";
  ok.parameter_count = 0;
  EXPECT_EQ(encode_stmt_prepare_ok(ok, false).size(), 1u);
}

Bytes execute_packet(bool with_types) {
  ByteWriter w;
  w.u8(command::kStmtExecute).u32(9).u8(0).u32(1);
  w.u8(0b100);  // third parameter NULL
  w.u8(with_types ? 1 : 0);
  if (with_types) w.u8(0xfd).u8(0).u8(0x08).u8(0x80).u8(0x06).u8(0);  // VAR_STRING, unsigned LONGLONG, NULL
  w.lenenc_text("sb'test").u64(~std::uint64_t{0});
  return std::move(w).take();
}

TEST(BinaryProtocol, ExecuteParametersAreReadByType) {
  auto execute = decode_stmt_execute(execute_packet(true), 3, {});
  ASSERT_TRUE(execute) << execute.error().message();
  EXPECT_EQ(execute->statement_id, 9u);
  ASSERT_EQ(execute->parameters.size(), 3u);
  EXPECT_EQ(execute->parameters[0].kind, BoundParameter::Kind::kString);
  EXPECT_EQ(execute->parameters[0].text, "sb'test");
  EXPECT_EQ(execute->parameters[1].kind, BoundParameter::Kind::kNumber);
  EXPECT_EQ(execute->parameters[1].text, "18446744073709551615");
  EXPECT_EQ(execute->parameters[2].kind, BoundParameter::Kind::kNull);
  // Without types, those of the previous execution; with none, an error.
  auto again = decode_stmt_execute(execute_packet(false), 3, execute->types);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->parameters[0].text, "sb'test");
  EXPECT_FALSE(decode_stmt_execute(execute_packet(false), 3, {}));
}

TEST(BinaryProtocol, ExecuteCutAtEveryByteIsAnError) {
  const Bytes whole = execute_packet(true);
  for (std::size_t size = 0; size < whole.size(); ++size)
    EXPECT_FALSE(decode_stmt_execute(ByteView(whole).first(size), 3, {})) << size;
  ByteWriter signed_tiny;
  signed_tiny.u8(command::kStmtExecute).u32(1).u8(0).u32(1).u8(0).u8(1).u8(0x01).u8(0).u8(0xff);
  auto tiny = decode_stmt_execute(std::move(signed_tiny).take(), 1, {});
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->parameters[0].text, "-1");
}

TEST(BinaryProtocol, RowsHaveTheNullBitmapAtOffsetTwoAndBinaryValues) {
  const std::vector<ColumnDefinition> columns = {column("id", 0x08, column_flag::kUnsigned),
                                                 column("name", 0xfd),
                                                 column("missing", 0xfd),
                                                 column("at", 0x0c),
                                                 column("short", 0x02),
                                                 column("d", 0x05),
                                                 column("t", 0x0b)};
  auto row = encode_binary_row(columns, {"18446744073709551615", "ab", std::nullopt,
                                         "2024-01-02 03:04:05.000678", "-2", "1.5", "-25:00:01"});
  ASSERT_TRUE(row) << row.error().message();
  ByteWriter expected;
  expected.u8(0x00);
  expected.u8(1 << 4).u8(0);  // column 2 is NULL: bit 2 + 2
  expected.u64(~std::uint64_t{0});
  expected.lenenc_text("ab");
  expected.u8(11).u16(2024).u8(1).u8(2).u8(3).u8(4).u8(5).u32(678);
  expected.u16(0xfffe);
  expected.u64(0x3ff8000000000000);
  expected.u8(8).u8(1).u32(1).u8(1).u8(0).u8(1);
  EXPECT_EQ(*row, std::move(expected).take());
  auto date_only = encode_binary_row({column("day", 0x0a)}, {"2024-02-29"});
  ASSERT_TRUE(date_only);
  EXPECT_EQ(*date_only, (Bytes{0x00, 0x00, 4, 0xe8, 0x07, 2, 29}));
  EXPECT_FALSE(encode_binary_row({column("n", 0x03)}, {"not a number"}));
  EXPECT_FALSE(encode_binary_row({column("n", 0x03)}, {}));
}

TEST(BinaryProtocol, ResultSetEndsAsTextResultSetsDo) {
  ResultSet result;
  result.columns = {column("n", 0x08)};
  result.rows = {{"1"}, {std::nullopt}};
  auto packets = encode_binary_result_set(result, false);
  ASSERT_TRUE(packets);
  ASSERT_EQ(packets->size(), 6u);  // count, definition, EOF, two rows, EOF
  EXPECT_EQ((*packets)[4], (Bytes{0x00, 0b100}));
  EXPECT_TRUE(is_eof_packet((*packets)[5]));
  auto deprecate = encode_binary_result_set(result, true);
  ASSERT_TRUE(deprecate);
  EXPECT_EQ(deprecate->size(), 5u);
}

}  // namespace
}  // namespace brelay::net
