// SQL LIKE as SHOW VARIABLES / SHOW STATUS ... LIKE and WHERE Variable_name LIKE use it: '%' matches
// any run of characters (also none), '_' exactly one, '\' makes the next character literal (a '\'
// at the end is itself literal); letters compare ASCII case-insensitively (the names compared are
// ASCII). Client patterns are hostile: the matcher keeps only the last '%' to resume from instead of
// backtracking recursively, so its work is at most (text + 1) * (pattern + 1) steps whatever the
// input (MySQL's my_wildcmp recurses per '%' and may take exponential time on patterns such as
// '%_%_%_..._#'). Pure; any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace brelay::relay::downstream {

struct LikeResult {
  bool matched = false;
  std::size_t steps = 0;  // loop iterations spent; at most like_step_bound(pattern, text)
};

LikeResult like_match(std::string_view pattern, std::string_view text);

inline bool like_matches(std::string_view pattern, std::string_view text) {
  return like_match(pattern, text).matched;
}

// The most steps like_match() takes for a pattern and a text of these sizes.
inline std::size_t like_step_bound(std::size_t pattern_size, std::size_t text_size) {
  return (text_size + 1) * (pattern_size + 1) + pattern_size;
}

}  // namespace brelay::relay::downstream
