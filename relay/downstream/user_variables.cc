#include "relay/downstream/user_variables.h"

#include <charconv>

#include "relay/downstream/sql_tokenizer.h"

namespace brelay::relay::downstream {

std::optional<std::int64_t> UserValue::as_integer() const {
  if (type == Type::kNull) return std::nullopt;
  std::string_view digits = text;
  while (!digits.empty() && (digits.front() == ' ' || digits.front() == '\t'))
    digits.remove_prefix(1);
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) return digits.starts_with('-') ? INT64_MIN : INT64_MAX;
  if (ec != std::errc()) return 0;
  (void)ptr;
  return value;
}

void UserVariables::set(std::string_view name, UserValue value) {
  values_[to_lower(name)] = std::move(value);
}

const UserValue* UserVariables::find(std::string_view name) const {
  const auto it = values_.find(to_lower(name));
  return it == values_.end() ? nullptr : &it->second;
}

const UserValue* UserVariables::find_any(std::initializer_list<std::string_view> names) const {
  for (std::string_view name : names)
    if (const UserValue* value = find(name)) return value;
  return nullptr;
}

}  // namespace brelay::relay::downstream
