// GipkHazardTracker: which of the source's tables have a primary key, and which DDL statements
// will stop an Azure Database for MySQL replica that generates invisible primary keys (GIPK:
// sql_generate_invisible_primary_key = ON, the default there): a table created without a primary
// key gets the invisible column my_row_id as its key on the target, so
//  - ALTER TABLE ... ADD PRIMARY KEY on such a table fails with ERROR 1068;
//  - ALTER TABLE ... ADD / MODIFY / CHANGE a column with AUTO_INCREMENT fails with ERROR 1075;
//  - a partitioned table without a primary key (CREATE or ALTER ... PARTITION BY) is unsupported.
// An ALTER TABLE on a table with a primary key is never flagged.
//
// The table states are seeded from the source's information_schema at connect (seed(); what the
// stream has changed since wins) and kept current from the DDL in QUERY events (CREATE TABLE with
// or without a PRIMARY KEY or LIKE another, ALTER ADD / DROP PRIMARY KEY and RENAME, DROP TABLE,
// RENAME TABLE; binlog/ddl_statement.h reads them). A table the relay knows nothing of (the
// source's account may not see it in information_schema) is treated as one without a key: a
// hazard there cannot be ruled out. At most kMaxTables tables are kept (further ones stay
// unknown). Names compare case-insensitively (Azure runs with lower_case_table_names = 1).
// Loop thread only (the upstream's).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "relay/binlog/ddl_statement.h"
#include "relay/core/target_hazards.h"

namespace brelay::relay {

class GipkHazardTracker {
 public:
  static constexpr std::size_t kMaxTables = 200'000;

  enum class KeyState {
    kPrimaryKey,    // an explicit primary key
    kInvisibleKey,  // created without one: a GIPK target gave it my_row_id
    kNoKey,         // its explicit primary key was dropped: the target has none either
  };

  struct Flag {
    HazardKind kind = HazardKind::kAddPrimaryKey;
    std::string table;  // "schema.table" as written
  };

  // A table the source's information_schema lists; ignored when the stream changed it since.
  void seed(std::string_view schema, std::string_view table, bool has_primary_key);
  // A QUERY event's statement, with its default schema: the hazards it causes (none for almost
  // every statement), after which the table states follow it.
  std::vector<Flag> on_statement(std::string_view default_schema, std::string_view sql);

  std::optional<KeyState> state(std::string_view schema, std::string_view table) const;
  std::size_t table_count() const { return tables_.size(); }

 private:
  struct Entry {
    KeyState state = KeyState::kInvisibleKey;
    bool from_stream = false;
  };
  static std::string key(std::string_view default_schema, const binlog::DdlTableName& name);
  void set(const std::string& key, KeyState state);
  std::optional<KeyState> find(const std::string& key) const;
  void on_create(std::string_view schema, const binlog::DdlStatement& ddl, std::vector<Flag>& flags);
  void on_alter(std::string_view schema, const binlog::DdlStatement& ddl, std::vector<Flag>& flags);
  void move(const std::string& from, const std::string& to);

  std::unordered_map<std::string, Entry> tables_;  // "schema.table" in lower case
};

}  // namespace brelay::relay
