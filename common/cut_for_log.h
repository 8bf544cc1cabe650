// Values a peer chose (SQL text, user variables, connect attributes, replica uuids, error messages
// quoting them) go into log lines and error messages cut to a sane length, so that one 100 KB
// @slave_connect_state cannot become one 100 KB log line. Pure; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace brelay {

inline constexpr std::size_t kLogValueLimit = 256;

// `text` when it has at most `limit` bytes; else its first `limit` bytes (backed off to the start
// of a UTF-8 character) followed by "... (N bytes)".
std::string cut_for_log(std::string_view text, std::size_t limit = kLogValueLimit);

}  // namespace brelay
