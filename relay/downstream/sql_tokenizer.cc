#include "relay/downstream/sql_tokenizer.h"

#include "relay/downstream/mysql_errors.h"

namespace brelay::relay::downstream {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
// Characters of an unquoted identifier (ASCII letters, digits, _ and $; bytes >= 0x80 for UTF-8).
bool is_word_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '$' || u >= 0x80;
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// The statements the relay answers take a few dozen tokens (a long SELECT of @@variables a few
// hundred). A token costs far more memory and time than its bytes of text: a statement of
// max_allowed_packet bytes of '(' or ',' is refused here, after a few milliseconds, rather than
// turned into tens of millions of tokens.
constexpr std::size_t kMaxTokens = 4096;

Error syntax_error(std::string_view sql, std::size_t at, std::string_view what) {
  return parse_error(sql, at, what);
}

class Tokenizer {
 public:
  explicit Tokenizer(std::string_view sql) : sql_(sql) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> tokens;
    while (true) {
      BRELAY_TRY(skip_space_and_comments());
      if (at_ >= sql_.size()) break;
      if (tokens.size() == kMaxTokens) {
        return parser_exhausted(
            sql_, at_, fmt::format("binlog-relay reads statements of at most {} tokens", kMaxTokens));
      }
      BRELAY_ASSIGN_OR_RETURN(Token token, next());
      tokens.push_back(std::move(token));
    }
    Token end;
    end.begin = end.end = sql_.size();
    tokens.push_back(end);
    return tokens;
  }

 private:
  char peek(std::size_t ahead = 0) const { return at_ + ahead < sql_.size() ? sql_[at_ + ahead] : '\0'; }

  Status skip_space_and_comments() {
    while (at_ < sql_.size()) {
      const char c = sql_[at_];
      if (is_space(c)) {
        ++at_;
      } else if (c == '#' || (c == '-' && peek(1) == '-' && (is_space(peek(2)) || peek(2) == '\0'))) {
        while (at_ < sql_.size() && sql_[at_] != '\n')
          ++at_;
      } else if (c == '/' && peek(1) == '*') {
        BRELAY_TRY(comment());
      } else if (c == '*' && peek(1) == '/' && executable_depth_ > 0) {
        // The end of an executable comment whose contents were read as code.
        --executable_depth_;
        at_ += 2;
      } else {
        break;
      }
    }
    return {};
  }

  Status comment() {
    const std::size_t start = at_;
    at_ += 2;
    // /*! ... */, /*!50100 ... */ and MariaDB's /*M! ... */, /*M!100100 ... */: code.
    if (peek() == '!' || (peek() == 'M' && peek(1) == '!')) {
      at_ += peek() == 'M' ? 2 : 1;
      while (is_digit(peek()))
        ++at_;
      ++executable_depth_;
      return {};
    }
    const auto close = sql_.find("*/", at_);
    if (close == std::string_view::npos) return syntax_error(sql_, start, "an unterminated /* comment");
    at_ = close + 2;
    return {};
  }

  Result<Token> next() {
    Token token;
    token.begin = at_;
    const char c = sql_[at_];
    if (c == '\'' || c == '"') {
      token.kind = TokenKind::kString;
      BRELAY_ASSIGN_OR_RETURN(token.text, quoted(c));
    } else if (c == '`') {
      token.kind = TokenKind::kQuotedName;
      BRELAY_ASSIGN_OR_RETURN(token.text, quoted('`'));
    } else if (c == '@' && peek(1) == '@') {
      at_ += 2;
      token.kind = TokenKind::kSystemVariable;
      BRELAY_ASSIGN_OR_RETURN(token.text, variable_name());
      if (peek() == '.' &&
          (equals_ignore_case(token.text, "global") || equals_ignore_case(token.text, "session") ||
           equals_ignore_case(token.text, "local"))) {
        token.scope =
            equals_ignore_case(token.text, "global") ? VariableScope::kGlobal : VariableScope::kSession;
        ++at_;
        BRELAY_ASSIGN_OR_RETURN(token.text, variable_name());
      }
    } else if (c == '@') {
      ++at_;
      token.kind = TokenKind::kUserVariable;
      if (peek() == '\'' || peek() == '"' || peek() == '`') {
        BRELAY_ASSIGN_OR_RETURN(token.text, quoted(peek()));
      } else {
        BRELAY_ASSIGN_OR_RETURN(token.text, variable_name());
      }
    } else if (is_digit(c) || (c == '.' && is_digit(peek(1)))) {
      token.kind = TokenKind::kNumber;
      number();
      token.text = std::string(sql_.substr(token.begin, at_ - token.begin));
      if (is_word_char(peek())) {
        // "1abc" is an identifier in MySQL; such names do not occur in what the relay answers.
        return syntax_error(sql_, token.begin, "a number followed by letters");
      }
    } else if (is_word_char(c)) {
      token.kind = TokenKind::kWord;
      while (is_word_char(peek()))
        ++at_;
      token.text = std::string(sql_.substr(token.begin, at_ - token.begin));
    } else if (c == ':' && peek(1) == '=') {
      token.kind = TokenKind::kSymbol;
      token.text = ":=";
      at_ += 2;
    } else if ((c == '<' || c == '>' || c == '!') && peek(1) == '=') {
      token.kind = TokenKind::kSymbol;
      token.text = std::string(sql_.substr(at_, 2));
      at_ += 2;
    } else if (std::string_view("=,();.*+-/<>%?").find(c) != std::string_view::npos) {
      token.kind = TokenKind::kSymbol;
      token.text = std::string(1, c);
      ++at_;
    } else {
      return syntax_error(sql_, at_, fmt::format("an unexpected character '{}'", c));
    }
    token.end = at_;
    return token;
  }

  Result<std::string> variable_name() {
    const std::size_t start = at_;
    while (is_word_char(peek()))
      ++at_;
    if (at_ == start) return syntax_error(sql_, start, "a variable without a name");
    return std::string(sql_.substr(start, at_ - start));
  }

  void number() {
    while (is_digit(peek()))
      ++at_;
    if (peek() == '.' && is_digit(peek(1))) {
      ++at_;
      while (is_digit(peek()))
        ++at_;
    } else if (peek() == '.' && !is_word_char(peek(1))) {
      ++at_;  // "1." is a number
    }
    if ((peek() == 'e' || peek() == 'E') &&
        (is_digit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && is_digit(peek(2))))) {
      at_ += 2;
      while (is_digit(peek()))
        ++at_;
    }
  }

  // Reads a quoted text starting at the opening quote; a doubled quote is one quote, and in
  // strings a backslash escapes the next character (\n, \t, \0, \\ ...).
  Result<std::string> quoted(char quote) {
    const std::size_t start = at_;
    ++at_;
    std::string text;
    while (true) {
      if (at_ >= sql_.size()) {
        return syntax_error(sql_, start,
                            quote == '`' ? "an unterminated `quoted name`" : "an unterminated string");
      }
      // Plain characters in bulk: a string may be megabytes long.
      std::size_t stop = at_;
      while (stop < sql_.size() && sql_[stop] != quote && (sql_[stop] != '\\' || quote == '`'))
        ++stop;
      text.append(sql_.substr(at_, stop - at_));
      at_ = stop;
      if (at_ >= sql_.size()) continue;
      const char c = sql_[at_++];
      if (c == quote) {
        if (peek() == quote) {
          text.push_back(quote);
          ++at_;
          continue;
        }
        return text;
      }
      if (c == '\\' && quote != '`' && at_ < sql_.size()) {
        const char escaped = sql_[at_++];
        switch (escaped) {
          case 'n': text.push_back('\n'); break;
          case 't': text.push_back('\t'); break;
          case 'r': text.push_back('\r'); break;
          case 'b': text.push_back('\b'); break;
          case '0': text.push_back('\0'); break;
          case 'Z': text.push_back('\x1a'); break;
          case '%':
          case '_':
            // Kept with the backslash, as in MySQL, so that LIKE patterns can escape wildcards.
            text.push_back('\\');
            text.push_back(escaped);
            break;
          default: text.push_back(escaped); break;
        }
        continue;
      }
      text.push_back(c);
    }
  }

  std::string_view sql_;
  std::size_t at_ = 0;
  int executable_depth_ = 0;
};

}  // namespace

bool Token::is_word(std::string_view keyword) const {
  return kind == TokenKind::kWord && equals_ignore_case(text, keyword);
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = lower(c);
  return out;
}

Result<std::vector<Token>> tokenize(std::string_view sql) {
  return Tokenizer(sql).run();
}

}  // namespace brelay::relay::downstream
