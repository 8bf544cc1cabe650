// The LIKE matcher fed arbitrary patterns and texts (input: pattern, a NUL byte, text), with a
// per-input time budget (CTest runs it with -timeout=2). Its step count must stay within
// like_step_bound() whatever the input, and its answer must agree with an independent dynamic
// programme over (pattern element, text position).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "relay/downstream/like_pattern.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool reference_like(std::string_view pattern, std::string_view text) {
  std::vector<bool> matches(text.size() + 1, false);
  matches[0] = true;
  std::vector<bool> next(text.size() + 1);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const bool any_run = c == '%';
    const bool one = c == '_';
    char literal = c;
    if (c == '\\' && i + 1 < pattern.size()) literal = pattern[++i];
    for (std::size_t j = 0; j <= text.size(); ++j) {
      if (any_run) {
        next[j] = matches[j] || (j > 0 && next[j - 1]);
      } else {
        next[j] = j > 0 && matches[j - 1] && (one || lower(literal) == lower(text[j - 1]));
      }
    }
    matches.swap(next);
  }
  return matches[text.size()];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace brelay::relay::downstream;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\0');
  const std::string_view pattern = input.substr(0, split);
  const std::string_view text =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 1);
  const LikeResult result = like_match(pattern, text);
  check(result.steps <= like_step_bound(pattern.size(), text.size()));
  if (pattern.size() * text.size() <= 250'000) check(result.matched == reference_like(pattern, text));
  return 0;
}
