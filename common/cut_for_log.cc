#include "common/cut_for_log.h"

#include <fmt/format.h>

namespace brelay {

std::string cut_for_log(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  std::size_t end = limit;
  // Not in the middle of a UTF-8 character (continuation bytes are 10xxxxxx; a character has at
  // most three of them, so binary text is not backed off further).
  for (int i = 0; i < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80; ++i)
    --end;
  return fmt::format("{}... ({} bytes)", text.substr(0, end), text.size());
}

}  // namespace brelay
