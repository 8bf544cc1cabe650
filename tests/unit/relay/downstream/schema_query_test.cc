// The allow-list of schema queries forwarded to the source (schema_query.h): what readers ask is
// recognized and rendered anew; data queries, writes, other tables, functions, variables,
// comments, subqueries, unions and multi-statements are refused; bound parameters cannot leave
// their string literal.
#include "relay/downstream/schema_query.h"

#include <gtest/gtest.h>

namespace brelay::relay::downstream {
namespace {

std::string rendered(std::string_view sql, std::string_view database = "") {
  auto query = recognize_schema_query(sql, database);
  EXPECT_TRUE(query) << sql << ": " << query.error().message();
  if (!query) return "";
  std::string text;
  for (std::size_t i = 0; i < query->pieces.size(); ++i)
    text += (i == 0 ? "" : "?") + query->pieces[i];
  return text;
}

TEST(SchemaQuery, ZongjisPreparedColumnsQueryIsRecognizedWithItsPlaceholders) {
  const std::string sql =
      "SELECT\n  COLUMN_NAME, COLLATION_NAME, CHARACTER_SET_NAME,\n  COLUMN_COMMENT, COLUMN_TYPE\n  FROM "
      "INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA=? AND TABLE_NAME=?\n  ORDER BY ORDINAL_POSITION";
  auto query = recognize_schema_query(sql, "");
  ASSERT_TRUE(query) << query.error().message();
  EXPECT_EQ(query->parameter_count(), 2u);
  auto bound = bind_schema_query(*query, {*sql_string_literal("sbtest"), *sql_string_literal("cdc")});
  ASSERT_TRUE(bound);
  EXPECT_EQ(
      *bound,
      "SELECT `COLUMN_NAME` , `COLLATION_NAME` , `CHARACTER_SET_NAME` , `COLUMN_COMMENT` , `COLUMN_TYPE` "
      "FROM `information_schema`.`COLUMNS` WHERE `TABLE_SCHEMA` = 'sbtest' AND `TABLE_NAME` = 'cdc' "
      "ORDER BY `ORDINAL_POSITION`");
  EXPECT_FALSE(bind_schema_query(*query, {"1"})) << "the wrong number of values";
}

TEST(SchemaQuery, JoinsAliasesFunctionsAndLimitsAreRendered) {
  EXPECT_EQ(
      rendered("select t.table_name, count(*) as n from information_schema.tables t join "
               "information_schema.columns c on c.table_name = t.table_name where t.table_schema <> 'x' "
               "group by t.table_name limit 5;"),
      "SELECT `t`.`table_name` , COUNT( * ) AS `n` FROM `information_schema`.`TABLES` `t` JOIN "
      "`information_schema`.`COLUMNS` `c` ON `c`.`table_name` = `t`.`table_name` WHERE "
      "`t`.`table_schema` <> 'x' GROUP BY `t`.`table_name` LIMIT 5");
  EXPECT_EQ(
      rendered("SELECT LOWER(SCHEMA_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'a\\_%'"),
      "SELECT LOWER( `SCHEMA_NAME` ) FROM `information_schema`.`SCHEMATA` WHERE `SCHEMA_NAME` LIKE "
      "'a\\\\_%'");
}

TEST(SchemaQuery, ShowStatementsAreQualifiedWithTheSessionDatabase) {
  EXPECT_EQ(rendered("SHOW FULL COLUMNS FROM `cdc`", "sbtest"), "SHOW FULL COLUMNS FROM `cdc` FROM `sbtest`");
  EXPECT_EQ(rendered("show fields in db.t like 'a%'"), "SHOW COLUMNS FROM `t` FROM `db` LIKE 'a%'");
  EXPECT_EQ(rendered("SHOW CREATE TABLE t", "d`b"), "SHOW CREATE TABLE `d``b`.`t`");
  EXPECT_EQ(rendered("SHOW DATABASES"), "SHOW DATABASES");
  EXPECT_EQ(rendered("SHOW SCHEMAS LIKE ?"), "SHOW DATABASES LIKE ?");
  EXPECT_EQ(rendered("SHOW FULL TABLES IN sbtest WHERE Table_type = 'BASE TABLE'"),
            "SHOW FULL TABLES FROM `sbtest` WHERE `Table_type` = 'BASE TABLE'");
  EXPECT_EQ(rendered("SHOW KEYS FROM t FROM d WHERE Key_name = 'PRIMARY'"),
            "SHOW INDEX FROM `t` FROM `d` WHERE `Key_name` = 'PRIMARY'");
  auto no_database = recognize_schema_query("SHOW TABLES", "");
  ASSERT_FALSE(no_database);
  EXPECT_EQ(no_database.error().code(), 1046);
}

TEST(SchemaQuery, EverythingElseIsRefused) {
  for (std::string_view sql : {
           "SELECT * FROM sbtest.cdc",
           "SELECT user FROM mysql.user",
           "SELECT TABLE_NAME FROM information_schema.PROCESSLIST",
           "SELECT TABLE_NAME FROM COLUMNS",
           "SELECT TABLE_NAME FROM information_schema.TABLES, mysql.user",
           "SELECT TABLE_NAME FROM information_schema.TABLES JOIN mysql.user ON 1 = 1",
           "SELECT TABLE_NAME FROM information_schema.TABLES UNION SELECT 1",
           "SELECT (SELECT 1) FROM information_schema.TABLES",
           "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_NAME IN (SELECT user FROM "
           "mysql.user)",
           "SELECT SLEEP(5) FROM information_schema.TABLES",
           "SELECT BENCHMARK(9, 1) FROM information_schema.TABLES",
           "SELECT `sleep`(5) FROM information_schema.TABLES",
           "SELECT TABLE_NAME FROM information_schema.TABLES WHERE x.f(1)",
           "SELECT @@hostname FROM information_schema.TABLES",
           "SELECT @a := 1 FROM information_schema.TABLES",
           "SELECT TABLE_NAME FROM information_schema.TABLES INTO OUTFILE '/tmp/x'",
           "SELECT TABLE_NAME INTO @x FROM information_schema.TABLES",
           "SELECT TABLE_NAME FROM information_schema.TABLES FOR UPDATE",
           "SELECT TABLE_NAME FROM information_schema.TABLES LOCK IN SHARE MODE",
           "SELECT TABLE_NAME FROM information_schema.TABLES; DROP TABLE t",
           "SELECT TABLE_NAME FROM information_schema.TABLES /* hidden */",
           "SELECT TABLE_NAME FROM information_schema.TABLES /*!99999 , mysql.user */",
           "SELECT TABLE_NAME FROM information_schema.TABLES -- x",
           "SELECT TABLE_NAME FROM information_schema.TABLES # x",
           "SELECT password FROM information_schema.TABLES",
           "SELECT TABLE_NAME FROM information_schema.TABLES WHERE ((((((((((((((((((1))))))))))))))))))",
           "SELECT a.TABLE_NAME FROM information_schema.TABLES a JOIN information_schema.TABLES b ON 1 = 1 "
           "JOIN "
           "information_schema.TABLES c ON 1 = 1 JOIN information_schema.TABLES d ON 1 = 1",
           "SELECT LEFT(TABLE_NAME, 2) FROM information_schema.TABLES",
           "SELECT TABLE_NAME FROM information_schema.TABLES PARTITION (p0)",
           "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_NAME = _latin1'x'",
           "SHOW GRANTS",
           "SHOW FULL DATABASES",
           "SHOW CREATE USER root",
           "SHOW CREATE TABLE t; DROP TABLE t",
           "SHOW COLUMNS FROM t FROM d WHERE SLEEP(1)",
           "SHOW COLUMNS FROM t FROM d WHERE Field IN (SELECT 1)",
           "SHOW TABLES FROM d WHERE Tables_in_d = @@hostname",
           "DELETE FROM information_schema.TABLES",
           "UPDATE information_schema.TABLES SET x = 1",
       }) {
    auto query = recognize_schema_query(sql, "d");
    EXPECT_FALSE(query) << sql << " was accepted";
    if (!query) {
      EXPECT_NE(query.error().code(), 0) << sql;
    }
  }
  auto refused = recognize_schema_query("SELECT * FROM sbtest.cdc", "");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), 1235);
  EXPECT_NE(refused.error().message().find("information_schema"), std::string::npos);
}

TEST(SchemaQuery, ParametersStayInsideTheirLiteral) {
  auto query =
      recognize_schema_query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", "");
  ASSERT_TRUE(query);
  const std::vector<std::string> hostiles = {
      "x' OR 1=1 -- ", "x\\' UNION SELECT 1 #", std::string("a\0b';", 5), "\\", "'", "x\x1a\n\r"};
  for (const std::string& hostile : hostiles) {
    auto literal = sql_string_literal(hostile);
    ASSERT_TRUE(literal) << literal.error().message();
    auto bound = bind_schema_query(*query, {*literal});
    ASSERT_TRUE(bound);
    // The bound text reads back as the same statement with one string literal.
    auto again = recognize_schema_query(*bound, "");
    ASSERT_TRUE(again) << *bound << ": " << again.error().message();
    EXPECT_EQ(again->parameter_count(), 0u);
    EXPECT_EQ(again->pieces[0], *bound);
  }
  EXPECT_EQ(*sql_string_literal(std::string_view("a'b\\c\0", 6)), "'a\\'b\\\\c\\0'");
}

// Security review finding 2: at most one JOIN, and only on column equalities between the two tables
// or USING: no cartesian products of information_schema tables on the source.
TEST(SchemaQuery, JoinsNeedAConditionBetweenTheirTables) {
  EXPECT_EQ(
      rendered("SELECT t.TABLE_NAME FROM information_schema.TABLES t LEFT JOIN information_schema.COLUMNS c "
               "USING (TABLE_SCHEMA, TABLE_NAME) WHERE t.TABLE_SCHEMA = 'd'"),
      "SELECT `t`.`TABLE_NAME` FROM `information_schema`.`TABLES` `t` LEFT JOIN "
      "`information_schema`.`COLUMNS` `c` USING ( `TABLE_SCHEMA` , `TABLE_NAME` ) WHERE "
      "`t`.`TABLE_SCHEMA` = 'd'");
  EXPECT_TRUE(recognize_schema_query(
      "SELECT t.TABLE_NAME FROM information_schema.TABLES t JOIN information_schema.COLUMNS c ON "
      "c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME ORDER BY t.TABLE_NAME",
      ""));
  for (std::string_view sql : {
           "SELECT a.TABLE_NAME FROM information_schema.TABLES a JOIN information_schema.TABLES b",
           "SELECT a.TABLE_NAME FROM information_schema.TABLES a JOIN information_schema.TABLES b WHERE 1",
           "SELECT a.TABLE_NAME FROM information_schema.TABLES a CROSS JOIN information_schema.TABLES b",
           "SELECT a.TABLE_NAME FROM information_schema.TABLES a JOIN information_schema.TABLES b ON 1 = 1",
           "SELECT a.TABLE_NAME FROM information_schema.TABLES a JOIN information_schema.TABLES b ON "
           "a.TABLE_NAME = a.TABLE_NAME",
           "SELECT a.TABLE_NAME FROM information_schema.TABLES a JOIN information_schema.TABLES b ON "
           "a.TABLE_NAME = b.TABLE_NAME OR 1 = 1",
           "SELECT a.TABLE_NAME FROM information_schema.TABLES a JOIN information_schema.TABLES b ON "
           "a.TABLE_NAME <> b.TABLE_NAME",
           "SELECT a.TABLE_NAME FROM information_schema.TABLES a JOIN information_schema.TABLES b USING ()",
           "SELECT a.TABLE_NAME FROM information_schema.TABLES a JOIN information_schema.COLUMNS b ON "
           "a.TABLE_NAME = b.TABLE_NAME JOIN information_schema.STATISTICS c ON c.TABLE_NAME = b.TABLE_NAME",
       }) {
    auto query = recognize_schema_query(sql, "d");
    EXPECT_FALSE(query) << sql << " was accepted";
    if (!query) {
      EXPECT_EQ(query.error().code(), 1235) << sql;
    }
  }
}

// Security review finding 3: what is forwarded is UTF-8 (the forwarding connection is utf8mb4), so
// no multi-byte character can swallow an escaping backslash.
TEST(SchemaQuery, TextThatIsNotUtf8IsRefused) {
  EXPECT_TRUE(is_valid_utf8("plain \xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80"));
  for (std::string_view bad :
       {std::string_view("\xbf'"), std::string_view("\xc0\xa7"), std::string_view("\xe0\x80\xaf"),
        std::string_view("\xed\xa0\x80"), std::string_view("\xf4\x90\x80\x80"), std::string_view("\xc3"),
        std::string_view("\xf8\x88\x80\x80\x80")})
    EXPECT_FALSE(is_valid_utf8(bad)) << bad.size();
  // A GBK-style 0xbf 0x5c (which a GBK connection reads as one character) is not UTF-8 at all.
  auto literal = sql_string_literal("\xbf\\' OR 1=1 -- ");
  ASSERT_FALSE(literal);
  EXPECT_EQ(literal.error().code(), 1300);
  auto statement = recognize_schema_query(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_NAME = '\xbf\\' OR 1=1", "");
  ASSERT_FALSE(statement);
  EXPECT_EQ(statement.error().code(), 1300);
  auto name = recognize_schema_query("SELECT `\xff` FROM information_schema.TABLES", "");
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error().code(), 1300);
  auto database = recognize_schema_query("SHOW TABLES", "db\xc0");
  ASSERT_FALSE(database);
  EXPECT_EQ(database.error().code(), 1300);
  EXPECT_TRUE(sql_string_literal("\xc3\xa9'"));
}

TEST(SchemaQuery, PlaceholdersAndLengthAreBounded) {
  std::string many = "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_NAME IN (?";
  for (std::size_t i = 1; i <= kMaxSchemaQueryParameters; ++i)
    many += ", ?";
  many += ")";
  auto refused = recognize_schema_query(many, "");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), 1390);
  const std::string long_query = "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_NAME = '" +
                                 std::string(kMaxSchemaQueryBytes, 'x') + "'";
  EXPECT_FALSE(recognize_schema_query(long_query, ""));
}

TEST(SchemaQuery, LooksLikeSchemaQuery) {
  EXPECT_TRUE(looks_like_schema_query("SELECT a FROM b"));
  EXPECT_TRUE(looks_like_schema_query("show full columns from t"));
  EXPECT_FALSE(looks_like_schema_query("SELECT 1"));
  EXPECT_FALSE(looks_like_schema_query("SHOW MASTER STATUS"));
  EXPECT_FALSE(looks_like_schema_query("SET @a = 1"));
}

}  // namespace
}  // namespace brelay::relay::downstream
