// A session's user variables (@name): what SET stores and SELECT @name returns, and where replicas
// leave the settings of their next dump (@master_binlog_checksum, @master_heartbeat_period,
// @slave_connect_state, @mariadb_slave_capability, @rpl_semi_sync_slave, @slave_uuid ...). Names
// compare case-insensitively, as in MySQL. One per session; loop thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace brelay::relay::downstream {

struct UserValue {
  enum class Type { kNull, kString, kInteger, kDecimal };
  Type type = Type::kNull;
  std::string text;

  static UserValue null() { return {}; }
  static UserValue string(std::string text) { return {Type::kString, std::move(text)}; }
  static UserValue integer(std::int64_t value) { return {Type::kInteger, std::to_string(value)}; }

  // The value as an integer, as MySQL converts it (a string's leading digits; NULL: nullopt).
  std::optional<std::int64_t> as_integer() const;
};

class UserVariables {
 public:
  void set(std::string_view name, UserValue value);
  // The variable, or nullptr when it was never set.
  const UserValue* find(std::string_view name) const;
  // The first of `names` that was set.
  const UserValue* find_any(std::initializer_list<std::string_view> names) const;

 private:
  std::map<std::string, UserValue, std::less<>> values_;  // by lower-case name
};

}  // namespace brelay::relay::downstream
