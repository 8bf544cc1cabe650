#include "relay/binlog/ddl_statement.h"

#include <algorithm>
#include <cctype>

namespace brelay::binlog {
namespace {

bool word_char(unsigned char c) {
  return std::isalnum(c) != 0 || c == '_' || c == '$' || c >= 0x80;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

struct Token {
  enum class Kind { kEnd, kWord, kQuoted, kString, kSymbol };
  Kind kind = Kind::kEnd;
  std::string_view text;  // kQuoted: between the backquotes, `` not yet undoubled

  bool is_word(std::string_view keyword) const { return kind == Kind::kWord && iequals(text, keyword); }
  bool is_symbol(char c) const { return kind == Kind::kSymbol && text.size() == 1 && text[0] == c; }
  bool is_name() const { return kind == Kind::kWord || kind == Kind::kQuoted; }
};

// One pass over the text, a token at a time; every step moves forward, so reading is linear.
class Lexer {
 public:
  explicit Lexer(std::string_view sql) : sql_(sql) {}

  Token next() {
    skip_space_and_comments();
    if (at_ >= sql_.size()) return {};
    const char c = sql_[at_];
    if (c == '`') return quoted('`', Token::Kind::kQuoted);
    if (c == '\'' || c == '"') return quoted(c, Token::Kind::kString);
    if (word_char(static_cast<unsigned char>(c))) {
      const std::size_t begin = at_;
      while (at_ < sql_.size() && word_char(static_cast<unsigned char>(sql_[at_])))
        ++at_;
      return {Token::Kind::kWord, sql_.substr(begin, at_ - begin)};
    }
    return {Token::Kind::kSymbol, sql_.substr(at_++, 1)};
  }

 private:
  bool starts(std::string_view text) const { return sql_.substr(at_, text.size()) == text; }

  void skip_to_line_end() {
    while (at_ < sql_.size() && sql_[at_] != '\n')
      ++at_;
  }

  void skip_space_and_comments() {
    while (at_ < sql_.size()) {
      const auto c = static_cast<unsigned char>(sql_[at_]);
      if (std::isspace(c) != 0) {
        ++at_;
      } else if (c == '#' ||
                 (starts("--") &&
                  (at_ + 2 >= sql_.size() || std::isspace(static_cast<unsigned char>(sql_[at_ + 2])) != 0))) {
        skip_to_line_end();
      } else if (starts("/*!") || starts("/*M!")) {
        // An executable comment: its contents are code; its closing */ is skipped below.
        at_ += starts("/*!") ? 3 : 4;
        while (at_ < sql_.size() && std::isdigit(static_cast<unsigned char>(sql_[at_])) != 0)
          ++at_;
        ++executable_open_;
      } else if (starts("*/") && executable_open_ > 0) {
        at_ += 2;
        --executable_open_;
      } else if (starts("/*")) {
        const std::size_t end = sql_.find("*/", at_ + 2);
        at_ = end == std::string_view::npos ? sql_.size() : end + 2;
      } else {
        return;
      }
    }
  }

  Token quoted(char quote, Token::Kind kind) {
    const std::size_t begin = ++at_;
    while (at_ < sql_.size()) {
      const char c = sql_[at_];
      if (c == '\\' && kind == Token::Kind::kString) {
        at_ += 2;
      } else if (c == quote) {
        if (at_ + 1 < sql_.size() && sql_[at_ + 1] == quote) {
          at_ += 2;
        } else {
          break;
        }
      } else {
        ++at_;
      }
    }
    const std::size_t end = std::min(at_, sql_.size());
    at_ = std::min(at_ + 1, sql_.size());
    return {kind, sql_.substr(begin, end - begin)};
  }

  std::string_view sql_;
  std::size_t at_ = 0;
  std::size_t executable_open_ = 0;
};

std::string name_text(const Token& token) {
  if (token.kind != Token::Kind::kQuoted) return std::string(token.text);
  std::string out;
  out.reserve(token.text.size());
  for (std::size_t i = 0; i < token.text.size(); ++i) {
    out.push_back(token.text[i]);
    if (token.text[i] == '`' && i + 1 < token.text.size() && token.text[i + 1] == '`') ++i;
  }
  return out;
}

class DdlParser {
 public:
  explicit DdlParser(std::string_view sql) : lexer_(sql) { advance(); }

  DdlStatement parse() {
    if (accept("create")) {
      create_table();
    } else if (accept("alter")) {
      alter_table();
    } else if (accept("drop")) {
      drop_table();
    } else if (accept("rename")) {
      rename_table();
    }
    return std::move(ddl_);
  }

 private:
  void advance() {
    previous_ = current_;
    current_ = lexer_.next();
  }
  bool accept(std::string_view keyword) {
    if (!current_.is_word(keyword)) return false;
    advance();
    return true;
  }
  void skip_if_exists(bool not_exists) {
    if (!current_.is_word("if")) return;
    advance();
    if (not_exists) accept("not");
    accept("exists");
  }
  // A table name ([schema.]name) into `out`; false when the next token is not a name.
  bool table_name(std::vector<DdlTableName>& out) {
    if (!current_.is_name()) return false;
    DdlTableName name{"", name_text(current_)};
    advance();
    if (current_.is_symbol('.')) {
      advance();
      if (!current_.is_name()) return false;
      name.schema = std::move(name.name);
      name.name = name_text(current_);
      advance();
    }
    if (out.size() < kMaxDdlTables) out.push_back(std::move(name));
    return true;
  }
  // PRIMARY KEY and PARTITION BY: the word before this one.
  bool after(std::string_view before, std::string_view word) const {
    return current_.is_word(word) && previous_.is_word(before);
  }

  void create_table() {
    if (accept("or")) accept("replace");
    ddl_.temporary = accept("temporary");
    if (!accept("table")) return;
    skip_if_exists(true);
    if (!table_name(ddl_.tables)) return;
    ddl_.kind = DdlStatement::Kind::kCreateTable;
    int depth = 0;
    for (; current_.kind != Token::Kind::kEnd; advance()) {
      if (current_.is_symbol('(')) {
        ++depth;
      } else if (current_.is_symbol(')')) {
        depth = depth > 0 ? depth - 1 : 0;
      } else if (depth <= 1 && current_.is_word("like") && ddl_.like.empty() &&
                 (depth == 0 || previous_.is_symbol('('))) {
        advance();
        table_name(ddl_.like);
        if (current_.kind == Token::Kind::kEnd) break;
      }
      if (depth >= 1 && after("primary", "key")) ddl_.defines_primary_key = true;
      if (depth == 0 && after("partition", "by")) ddl_.partitioned = true;
    }
  }

  void alter_table() {
    while (accept("online") || accept("offline") || accept("ignore")) {
    }
    if (!accept("table")) return;
    skip_if_exists(false);
    if (!table_name(ddl_.tables)) return;
    ddl_.kind = DdlStatement::Kind::kAlterTable;
    int depth = 0;
    std::string_view verb;  // the first word of the current alter specification
    bool spec_start = true;
    for (; current_.kind != Token::Kind::kEnd; advance()) {
      if (spec_start && current_.kind == Token::Kind::kWord) verb = current_.text;
      const bool first_word = spec_start;
      spec_start = false;
      if (current_.is_symbol('(')) {
        ++depth;
      } else if (current_.is_symbol(')')) {
        depth = depth > 0 ? depth - 1 : 0;
      } else if (depth == 0 && current_.is_symbol(',')) {
        spec_start = true;
        verb = {};
      }
      const bool adds = iequals(verb, "add");
      const bool changes = iequals(verb, "modify") || iequals(verb, "change");
      if ((adds || changes) && after("primary", "key")) ddl_.defines_primary_key = true;
      if ((adds || changes) && current_.is_word("auto_increment")) ddl_.auto_increment_column = true;
      if (iequals(verb, "drop") && after("primary", "key")) ddl_.drops_primary_key = true;
      if (depth == 0 && after("partition", "by")) ddl_.partitioned = true;
      if (first_word && current_.is_word("rename")) {
        advance();
        if (current_.is_word("column") || current_.is_word("index") || current_.is_word("key")) continue;
        if (!accept("to")) accept("as");
        table_name(ddl_.renamed_to);
        if (ddl_.renamed_to.size() > 1) ddl_.renamed_to.pop_back();  // the first RENAME counts
        if (current_.kind == Token::Kind::kEnd) break;
        if (current_.is_symbol(',')) spec_start = true;
      }
    }
  }

  void drop_table() {
    ddl_.temporary = accept("temporary");
    if (!accept("table") && !accept("tables")) return;
    skip_if_exists(false);
    ddl_.kind = DdlStatement::Kind::kDropTable;
    while (table_name(ddl_.tables)) {
      if (!current_.is_symbol(',')) break;
      advance();
    }
  }

  void rename_table() {
    if (!accept("table") && !accept("tables")) return;
    ddl_.kind = DdlStatement::Kind::kRenameTable;
    while (table_name(ddl_.tables)) {
      if (!accept("to") || !table_name(ddl_.tables)) break;
      if (!current_.is_symbol(',')) break;
      advance();
    }
    if (ddl_.tables.size() % 2 != 0) ddl_.tables.pop_back();
  }

  Lexer lexer_;
  Token current_;
  Token previous_;
  DdlStatement ddl_;
};

}  // namespace

DdlStatement parse_ddl_statement(std::string_view sql) {
  if (sql.size() > kMaxDdlBytes) {
    // Only the first keyword is read (within a short prefix): a long INSERT is not a long DDL.
    const Token first = Lexer(sql.substr(0, 4096)).next();
    DdlStatement too_long;
    if (first.is_word("create") || first.is_word("alter") || first.is_word("drop") || first.is_word("rename"))
      too_long.kind = DdlStatement::Kind::kTooLong;
    return too_long;
  }
  return DdlParser(sql).parse();
}

}  // namespace brelay::binlog
