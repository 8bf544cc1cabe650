// DdlStatement: what a DDL statement read from a QUERY event does to the primary keys of tables, as
// far as the GIPK hazard guard needs it (relay/upstream/gipk_hazard_tracker.h): CREATE TABLE (with
// or without a PRIMARY KEY, partitioned or not, LIKE another table), ALTER TABLE (ADD / DROP
// PRIMARY KEY, a column added or changed to AUTO_INCREMENT, PARTITION BY, RENAME), DROP TABLE and
// RENAME TABLE. Anything else is kOther.
//
// The text is the source's, not a client's, but it is still bounded: statements longer than
// kMaxDdlBytes are kTooLong (not read), a statement is read in one linear pass by a small tokenizer
// (identifiers, `quoted` names, strings, numbers, symbols; comments skipped; the contents of
// MySQL's executable comments /*!NNNNN ... */ read as code) and at most kMaxDdlTables names are
// kept. No recursion. Pure; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace brelay::binlog {

inline constexpr std::size_t kMaxDdlBytes = 1 << 20;
inline constexpr std::size_t kMaxDdlTables = 256;

struct DdlTableName {
  std::string schema;  // "" = the statement's default schema
  std::string name;
  friend bool operator==(const DdlTableName&, const DdlTableName&) = default;
};

struct DdlStatement {
  enum class Kind { kOther, kTooLong, kCreateTable, kAlterTable, kDropTable, kRenameTable };
  Kind kind = Kind::kOther;
  // kCreateTable, kAlterTable: the table; kDropTable: the tables dropped; kRenameTable: pairs
  // (from, to) one after the other.
  std::vector<DdlTableName> tables;
  bool temporary = false;                // CREATE / DROP TEMPORARY TABLE
  bool defines_primary_key = false;      // CREATE with a PRIMARY KEY; ALTER ... ADD ... PRIMARY KEY
  bool drops_primary_key = false;        // ALTER ... DROP PRIMARY KEY
  bool auto_increment_column = false;    // ALTER: ADD / MODIFY / CHANGE a column with AUTO_INCREMENT
  bool partitioned = false;              // PARTITION BY
  std::vector<DdlTableName> like;        // CREATE TABLE t LIKE other: {other}
  std::vector<DdlTableName> renamed_to;  // ALTER TABLE t RENAME [TO|AS] u: {u}
};

DdlStatement parse_ddl_statement(std::string_view sql);

}  // namespace brelay::binlog
