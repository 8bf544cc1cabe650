#include "relay/checks/grants.h"

#include <algorithm>
#include <cctype>

namespace brelay::relay {
namespace {

std::string upper_single_spaced(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

// The position of `word` in `text` as a whole word outside quotes (`...`, '...', "..."), or npos.
std::size_t find_keyword(std::string_view text, std::string_view word, std::size_t from = 0) {
  char quote = 0;
  for (std::size_t i = from; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '`' || c == '\'' || c == '"') {
      quote = c;
      continue;
    }
    if (i + word.size() > text.size()) return std::string_view::npos;
    if ((i == 0 || text[i - 1] == ' ') && (i + word.size() == text.size() || text[i + word.size()] == ' ') &&
        text.substr(i, word.size()) == word) {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

bool GlobalPrivileges::has(std::string_view privilege) const {
  return all || granted.contains(std::string(privilege));
}

GlobalPrivileges parse_global_privileges(const std::vector<std::string>& show_grants_lines) {
  GlobalPrivileges privileges;
  for (const std::string& raw : show_grants_lines) {
    // Keep the original text for role names; compare keywords in upper case.
    const std::string line = upper_single_spaced(raw);
    if (line.rfind("GRANT ", 0) != 0) continue;
    const std::size_t on = find_keyword(line, "ON", 6);
    const std::size_t to = find_keyword(line, "TO", 6);
    if (to == std::string::npos) continue;
    if (on == std::string::npos || on > to) {
      // GRANT `role` TO `user`: name the role as printed.
      const std::string original = [&] {
        std::string spaced;
        bool space = false;
        for (char c : raw) {
          if (std::isspace(static_cast<unsigned char>(c)) != 0) {
            space = !spaced.empty();
            continue;
          }
          if (space) spaced.push_back(' ');
          space = false;
          spaced.push_back(c);
        }
        return spaced;
      }();
      privileges.roles.push_back(original.substr(6, to - 7));
      continue;
    }
    const std::size_t target_end = to;
    std::string target = line.substr(on + 3, target_end - on - 4);
    if (target != "*.*") continue;
    const std::string list = line.substr(6, on - 7);
    std::size_t start = 0;
    while (start <= list.size()) {
      std::size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      std::string privilege = upper_single_spaced(std::string_view(list).substr(start, comma - start));
      if (privilege == "ALL" || privilege == "ALL PRIVILEGES") {
        privileges.all = true;
      } else if (!privilege.empty()) {
        privileges.granted.insert(privilege);
      }
      start = comma + 1;
    }
  }
  return privileges;
}

}  // namespace brelay::relay
