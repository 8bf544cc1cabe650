#include "relay/downstream/like_pattern.h"

namespace brelay::relay::downstream {
namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// One element of a pattern: a '%', a '_' or a (possibly escaped) literal character.
struct Element {
  enum class Kind { kAnyRun, kOne, kLiteral };
  Kind kind = Kind::kLiteral;
  char literal = 0;
  std::size_t width = 1;  // bytes of the pattern it takes (2 for an escaped character)
};

Element element_at(std::string_view pattern, std::size_t p) {
  const char c = pattern[p];
  if (c == '%') return {Element::Kind::kAnyRun, 0, 1};
  if (c == '_') return {Element::Kind::kOne, 0, 1};
  if (c == '\\' && p + 1 < pattern.size()) return {Element::Kind::kLiteral, pattern[p + 1], 2};
  return {Element::Kind::kLiteral, c, 1};
}

}  // namespace

// The greedy matcher for '*' and '?' wildcards: on a mismatch, go back to just after the last '%'
// seen and let that '%' take one more character of the text. Only the last '%' matters: whatever
// an earlier '%' would take more, the later one can take instead, so no other choice is retried.
LikeResult like_match(std::string_view pattern, std::string_view text) {
  LikeResult result;
  std::size_t p = 0;
  std::size_t t = 0;
  bool have_run = false;
  std::size_t resume_p = 0;  // the pattern just after the last '%'
  std::size_t resume_t = 0;  // where the text was when that '%' took nothing more
  while (t < text.size()) {
    ++result.steps;
    if (p < pattern.size()) {
      const Element element = element_at(pattern, p);
      if (element.kind == Element::Kind::kAnyRun) {
        p += element.width;
        have_run = true;
        resume_p = p;
        resume_t = t;
        continue;
      }
      if (element.kind == Element::Kind::kOne || lower(element.literal) == lower(text[t])) {
        p += element.width;
        ++t;
        continue;
      }
    }
    if (!have_run) return result;
    p = resume_p;
    t = ++resume_t;
  }
  while (p < pattern.size() && pattern[p] == '%') {
    ++result.steps;
    ++p;
  }
  result.matched = p == pattern.size();
  return result;
}

}  // namespace brelay::relay::downstream
