#include "relay/upstream/gipk_hazard_tracker.h"

#include <cctype>

#include <fmt/format.h>

namespace brelay::relay {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string display(std::string_view default_schema, const binlog::DdlTableName& name) {
  return fmt::format("{}.{}", name.schema.empty() ? default_schema : std::string_view(name.schema),
                     name.name);
}

// The first word, case-insensitively, without reading the statement: most QUERY events are BEGIN,
// COMMIT or statement-based DML and are not parsed at all.
bool may_be_table_ddl(std::string_view sql) {
  std::size_t at = 0;
  while (at < sql.size() && (std::isspace(static_cast<unsigned char>(sql[at])) != 0))
    ++at;
  if (at < sql.size() && sql[at] == '/') return true;  // a comment first: let the parser read it
  const std::string_view rest = sql.substr(at, 6);
  const std::string word = lower(rest);
  return word.starts_with("create") || word.starts_with("alter") || word.starts_with("drop") ||
         word.starts_with("rename");
}

}  // namespace

std::string GipkHazardTracker::key(std::string_view default_schema, const binlog::DdlTableName& name) {
  return lower(display(default_schema, name));
}

void GipkHazardTracker::seed(std::string_view schema, std::string_view table, bool has_primary_key) {
  const std::string k = lower(fmt::format("{}.{}", schema, table));
  auto found = tables_.find(k);
  if (found != tables_.end()) {
    if (!found->second.from_stream)
      found->second.state = has_primary_key ? KeyState::kPrimaryKey : KeyState::kInvisibleKey;
    return;
  }
  if (tables_.size() >= kMaxTables) return;
  tables_.emplace(k, Entry{has_primary_key ? KeyState::kPrimaryKey : KeyState::kInvisibleKey, false});
}

void GipkHazardTracker::set(const std::string& k, KeyState state) {
  auto found = tables_.find(k);
  if (found != tables_.end()) {
    found->second = Entry{state, true};
  } else if (tables_.size() < kMaxTables) {
    tables_.emplace(k, Entry{state, true});
  }
}

std::optional<GipkHazardTracker::KeyState> GipkHazardTracker::find(const std::string& k) const {
  auto found = tables_.find(k);
  if (found == tables_.end()) return std::nullopt;
  return found->second.state;
}

std::optional<GipkHazardTracker::KeyState> GipkHazardTracker::state(std::string_view schema,
                                                                    std::string_view table) const {
  return find(lower(fmt::format("{}.{}", schema, table)));
}

void GipkHazardTracker::move(const std::string& from, const std::string& to) {
  const std::optional<KeyState> state = find(from);
  tables_.erase(from);
  if (state) {
    set(to, *state);
  } else {
    tables_.erase(to);
  }
}

void GipkHazardTracker::on_create(std::string_view schema, const binlog::DdlStatement& ddl,
                                  std::vector<Flag>& flags) {
  const std::string k = key(schema, ddl.tables.front());
  if (!ddl.like.empty()) {
    const std::optional<KeyState> like = find(key(schema, ddl.like.front()));
    if (like) {
      set(k, *like);
    } else {
      tables_.erase(k);
    }
    return;
  }
  set(k, ddl.defines_primary_key ? KeyState::kPrimaryKey : KeyState::kInvisibleKey);
  if (!ddl.defines_primary_key && ddl.partitioned)
    flags.push_back({HazardKind::kPartitionedWithoutKey, display(schema, ddl.tables.front())});
}

void GipkHazardTracker::on_alter(std::string_view schema, const binlog::DdlStatement& ddl,
                                 std::vector<Flag>& flags) {
  const std::string k = key(schema, ddl.tables.front());
  const std::string table = display(schema, ddl.tables.front());
  const std::optional<KeyState> before = find(k);
  // Unknown counts as the invisible key: the source accepted ADD PRIMARY KEY, so it had none.
  const bool invisible_key = !before || *before == KeyState::kInvisibleKey;
  if (ddl.defines_primary_key && !ddl.drops_primary_key && invisible_key) {
    flags.push_back({HazardKind::kAddPrimaryKey, table});
  } else if (ddl.auto_increment_column && !ddl.defines_primary_key && invisible_key) {
    flags.push_back({HazardKind::kAutoIncrementKey, table});
  }
  if (ddl.partitioned && !ddl.defines_primary_key && invisible_key)
    flags.push_back({HazardKind::kPartitionedWithoutKey, table});
  if (ddl.defines_primary_key) {
    set(k, KeyState::kPrimaryKey);
  } else if (ddl.drops_primary_key) {
    set(k, KeyState::kNoKey);
  }
  if (!ddl.renamed_to.empty()) move(k, key(schema, ddl.renamed_to.front()));
}

std::vector<GipkHazardTracker::Flag> GipkHazardTracker::on_statement(std::string_view default_schema,
                                                                     std::string_view sql) {
  std::vector<Flag> flags;
  if (!may_be_table_ddl(sql)) return flags;
  const binlog::DdlStatement ddl = binlog::parse_ddl_statement(sql);
  if (ddl.temporary) return flags;
  switch (ddl.kind) {
    case binlog::DdlStatement::Kind::kOther:
    case binlog::DdlStatement::Kind::kTooLong: break;
    case binlog::DdlStatement::Kind::kCreateTable: on_create(default_schema, ddl, flags); break;
    case binlog::DdlStatement::Kind::kAlterTable: on_alter(default_schema, ddl, flags); break;
    case binlog::DdlStatement::Kind::kDropTable:
      for (const auto& name : ddl.tables)
        tables_.erase(key(default_schema, name));
      break;
    case binlog::DdlStatement::Kind::kRenameTable:
      for (std::size_t i = 0; i + 1 < ddl.tables.size(); i += 2)
        move(key(default_schema, ddl.tables[i]), key(default_schema, ddl.tables[i + 1]));
      break;
  }
  return flags;
}

}  // namespace brelay::relay
