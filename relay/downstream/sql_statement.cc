#include "relay/downstream/sql_statement.h"

#include <charconv>

#include "relay/downstream/mysql_errors.h"

namespace brelay::relay::downstream {
namespace {

Error not_supported(std::string_view sql) {
  std::string shown(sql.substr(0, 80));
  for (char& c : shown)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return Error(
      fmt::format("binlog-relay does not answer '{}': it serves binary logs and answers the statements "
                  "replicas and binlog readers send (SELECT of @@variables, SHOW VARIABLES, SHOW MASTER "
                  "STATUS, SHOW BINARY LOGS, SHOW BINLOG EVENTS, ...)",
                  shown),
      mysql_error::kNotSupportedYet);
}

// How deep expressions may nest: parentheses and function calls, each a level of the parser's
// recursion (and of the evaluation and destruction that follow). Replicas and clients nest a few
// levels; the bound keeps hostile statements far from the loop thread's stack.
constexpr int kMaxExpressionDepth = 256;

// MySQL's parser runs out of its stack on deep nesting (ER_PARSE_ERROR "memory exhausted near ...",
// see parser_exhausted()); the relay refuses at a much smaller depth with the same answer.
Error nesting_too_deep(std::string_view sql, std::size_t at) {
  return parser_exhausted(
      sql, at, fmt::format("binlog-relay reads expressions nested at most {} deep", kMaxExpressionDepth));
}

// Words that end a SELECT item instead of naming its alias.
bool is_clause_keyword(const Token& token) {
  for (std::string_view keyword :
       {"from", "limit", "where", "order", "group", "having", "into", "for", "union"})
    if (token.is_word(keyword)) return true;
  return false;
}

class Parser {
 public:
  Parser(std::string_view sql, std::vector<Token> tokens) : sql_(sql), tokens_(std::move(tokens)) {}

  Result<Statement> statement() {
    const Token& first = peek();
    if (first.kind == TokenKind::kEnd || first.is_symbol(";")) {
      return Error("Query was empty", mysql_error::kEmptyQuery);
    }
    Result<Statement> parsed = dispatch();
    if (!parsed) return parsed;
    if (peek().is_symbol(";")) advance();
    if (peek().kind != TokenKind::kEnd) return expected("the end of the statement");
    return parsed;
  }

 private:
  Result<Statement> dispatch() {
    const Token& first = peek();
    if (first.is_word("select")) return wrap(select());
    if (first.is_word("set")) return wrap(set());
    if (first.is_word("show")) return show();
    if (first.is_word("kill")) return wrap(kill());
    if (first.is_word("purge")) return wrap(purge());
    if (first.is_word("flush") && peek(1).is_word("hosts")) {
      advance();
      advance();
      return Statement(FlushHostsStatement{});
    }
    if (first.is_word("release") && peek(1).is_word("hazard")) {
      advance();
      advance();
      BRELAY_ASSIGN_OR_RETURN(std::string key, string_literal("a GTID or 'file:position'"));
      return Statement(ReleaseHazardStatement{key});
    }
    if (first.is_word("forget") && peek(1).is_word("replica")) {
      advance();
      advance();
      BRELAY_ASSIGN_OR_RETURN(std::uint64_t server_id, unsigned_number("a server_id"));
      return Statement(ForgetReplicaStatement{server_id});
    }
    if (first.is_word("use")) {
      advance();
      BRELAY_ASSIGN_OR_RETURN(std::string name, identifier("a database name"));
      return Statement(UseStatement{name});
    }
    if (first.is_word("begin") || first.is_word("commit") || first.is_word("rollback")) {
      advance();
      if (peek().is_word("work")) advance();
      return Statement(NoOpStatement{});
    }
    if (first.is_word("start") && peek(1).is_word("transaction")) {
      advance();
      advance();
      while (peek().kind == TokenKind::kWord || peek().is_symbol(","))
        advance();
      return Statement(NoOpStatement{});
    }
    return not_supported(sql_);
  }

  template <typename T>
  static Result<Statement> wrap(Result<T> parsed) {
    if (!parsed) return std::move(parsed).error();
    return Statement(std::move(*parsed));
  }

  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(position_ + ahead, tokens_.size() - 1)];
  }
  const Token& advance() {
    const Token& token = peek();
    if (position_ < tokens_.size() - 1) ++position_;
    return token;
  }
  bool accept_word(std::string_view keyword) {
    if (!peek().is_word(keyword)) return false;
    advance();
    return true;
  }
  bool accept_symbol(std::string_view symbol) {
    if (!peek().is_symbol(symbol)) return false;
    advance();
    return true;
  }
  Error expected(std::string_view what) const { return parse_error(sql_, peek().begin, what); }
  Status expect_word(std::string_view keyword) {
    if (accept_word(keyword)) return {};
    return expected(keyword);
  }
  Status expect_symbol(std::string_view symbol) {
    if (accept_symbol(symbol)) return {};
    return expected(fmt::format("'{}'", symbol));
  }

  Result<std::string> identifier(std::string_view what) {
    const Token& token = peek();
    if (token.kind != TokenKind::kWord && token.kind != TokenKind::kQuotedName) return expected(what);
    advance();
    return token.text;
  }

  Result<std::uint64_t> unsigned_number(std::string_view what) {
    const Token& token = peek();
    std::uint64_t value = 0;
    if (token.kind != TokenKind::kNumber) return expected(what);
    const auto [ptr, ec] = std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
    if (ec != std::errc() || ptr != token.text.data() + token.text.size()) return expected(what);
    advance();
    return value;
  }

  Result<std::string> string_literal(std::string_view what) {
    if (peek().kind != TokenKind::kString) return expected(what);
    return take_text();
  }

  // The current token's text, moved out (the parser never reads a token twice), and advances.
  std::string take_text() {
    std::string text = std::move(tokens_[std::min(position_, tokens_.size() - 1)].text);
    advance();
    return text;
  }

  // A value: literals, variables, function calls, parentheses. `bare_words` reads an unquoted word
  // as a string (SET autocommit = ON); in a SELECT a bare word would be a column, which the relay
  // has none of. Nested at most kMaxExpressionDepth deep.
  Result<Expression> expression(bool bare_words) {
    if (depth_ >= kMaxExpressionDepth) return nesting_too_deep(sql_, peek().begin);
    ++depth_;
    Result<Expression> value = expression_here(bare_words);
    --depth_;
    return value;
  }

  Result<Expression> expression_here(bool bare_words) {
    const Token& token = peek();
    Expression value;
    if (token.is_symbol("(")) {
      advance();
      BRELAY_ASSIGN_OR_RETURN(value, expression(bare_words));
      BRELAY_TRY(expect_symbol(")"));
      return value;
    }
    if (token.is_symbol("-") || token.is_symbol("+")) {
      const bool negative = token.is_symbol("-");
      advance();
      if (peek().kind != TokenKind::kNumber) return expected("a number");
      BRELAY_ASSIGN_OR_RETURN(value, expression(bare_words));
      value.negative = negative != value.negative;
      return value;
    }
    switch (token.kind) {
      case TokenKind::kString:
        value.kind = Expression::Kind::kString;
        value.text = take_text();  // a string may be megabytes long: moved, not copied
        return value;
      case TokenKind::kNumber:
        value.kind = token.text.find_first_of(".eE") == std::string::npos ? Expression::Kind::kInteger
                                                                          : Expression::Kind::kDecimal;
        value.text = token.text;
        advance();
        return value;
      case TokenKind::kUserVariable:
        value.kind = Expression::Kind::kUserVariable;
        value.text = token.text;
        advance();
        return value;
      case TokenKind::kSystemVariable:
        value.kind = Expression::Kind::kSystemVariable;
        value.text = token.text;
        value.scope = token.scope;
        advance();
        return value;
      case TokenKind::kWord: {
        if (token.is_word("null")) {
          advance();
          return value;
        }
        if (token.is_word("true") || token.is_word("false")) {
          value.kind = Expression::Kind::kInteger;
          value.text = token.is_word("true") ? "1" : "0";
          advance();
          return value;
        }
        if (token.is_word("default") && bare_words) {
          value.kind = Expression::Kind::kDefault;
          advance();
          return value;
        }
        if (peek(1).is_symbol("(")) return function_call();
        // Functions MySQL lets you call without parentheses.
        for (std::string_view name : {"current_user", "current_timestamp", "now", "localtime"}) {
          if (token.is_word(name) && !bare_words) {
            value.kind = Expression::Kind::kFunction;
            value.text = to_lower(token.text);
            advance();
            return value;
          }
        }
        if (bare_words) {
          value.kind = Expression::Kind::kString;
          value.text = token.text;
          advance();
          return value;
        }
        return not_supported(sql_);
      }
      default: return expected("a value");
    }
  }

  Result<Expression> function_call() {
    Expression call;
    call.kind = Expression::Kind::kFunction;
    call.text = to_lower(advance().text);
    BRELAY_TRY(expect_symbol("("));
    if (!peek().is_symbol(")")) {
      while (true) {
        BRELAY_ASSIGN_OR_RETURN(Expression argument, expression(false));
        call.arguments.push_back(std::move(argument));
        if (!accept_symbol(",")) break;
      }
    }
    BRELAY_TRY(expect_symbol(")"));
    return call;
  }

  Result<SelectStatement> select() {
    advance();
    SelectStatement select;
    while (peek().is_word("sql_no_cache") || peek().is_word("sql_cache") ||
           peek().is_word("sql_calc_found_rows"))
      advance();
    while (true) {
      const std::size_t begin = peek().begin;
      if (peek().is_symbol("*")) return not_supported(sql_);
      BRELAY_ASSIGN_OR_RETURN(Expression value, expression(false));
      std::size_t end = tokens_[position_ - 1].end;
      SelectItem item;
      item.expression = std::move(value);
      // As MySQL names an expression's column: by its text, at most MAX_ALIAS_NAME (256) bytes.
      item.column_name = std::string(sql_.substr(begin, std::min<std::size_t>(end - begin, 256)));
      if (accept_word("as")) {
        const Token& alias = peek();
        if (alias.kind != TokenKind::kWord && alias.kind != TokenKind::kQuotedName &&
            alias.kind != TokenKind::kString)
          return expected("an alias");
        item.column_name = alias.text;
        advance();
      } else if ((peek().kind == TokenKind::kWord && !is_clause_keyword(peek())) ||
                 peek().kind == TokenKind::kQuotedName || peek().kind == TokenKind::kString) {
        item.column_name = advance().text;
      }
      select.items.push_back(std::move(item));
      if (!accept_symbol(",")) break;
    }
    if (accept_word("from")) {
      if (!accept_word("dual")) return not_supported(sql_);
    }
    if (accept_word("limit")) {
      BRELAY_ASSIGN_OR_RETURN(std::uint64_t first, unsigned_number("a row count"));
      if (accept_symbol(",")) {
        BRELAY_ASSIGN_OR_RETURN(std::uint64_t count, unsigned_number("a row count"));
        select.limit = first > 0 ? 0 : count;  // one row at most: an offset past it leaves none
      } else {
        select.limit = first;
        if (accept_word("offset")) {
          BRELAY_ASSIGN_OR_RETURN(std::uint64_t offset, unsigned_number("an offset"));
          if (offset > 0) select.limit = 0;
        }
      }
    }
    if (peek().kind == TokenKind::kWord) return not_supported(sql_);
    return select;
  }

  Result<SetStatement> set() {
    advance();
    SetStatement set;
    VariableScope statement_scope = VariableScope::kDefault;
    while (true) {
      Assignment assignment;
      VariableScope scope = statement_scope;
      if (peek().is_word("global") || peek().is_word("persist") || peek().is_word("persist_only")) {
        scope = VariableScope::kGlobal;
        advance();
      } else if (peek().is_word("session") || peek().is_word("local")) {
        scope = VariableScope::kSession;
        advance();
      }
      if (set.assignments.empty()) statement_scope = scope;
      const Token& target = peek();
      if (target.is_word("names")) {
        advance();
        assignment.target = Assignment::Target::kNames;
        if (accept_word("default")) {
          assignment.name = "default";
        } else {
          BRELAY_ASSIGN_OR_RETURN(Expression charset, expression(true));
          assignment.name = charset.text;
        }
        if (accept_word("collate")) BRELAY_TRY(expression(true));
      } else if ((target.is_word("character") && peek(1).is_word("set")) || target.is_word("charset")) {
        advance();
        if (target.is_word("character")) advance();
        assignment.target = Assignment::Target::kCharacterSet;
        BRELAY_ASSIGN_OR_RETURN(Expression charset, expression(true));
        assignment.name = charset.text;
      } else if (target.is_word("transaction")) {
        // SET [SESSION] TRANSACTION ISOLATION LEVEL ... / READ ONLY: nothing to do on a relay.
        advance();
        assignment.target = Assignment::Target::kTransaction;
        while (peek().kind == TokenKind::kWord || peek().is_symbol(",")) {
          if (peek().is_symbol(",") && !peek(1).is_word("isolation") && !peek(1).is_word("read")) break;
          advance();
        }
      } else {
        if (target.kind == TokenKind::kUserVariable) {
          assignment.target = Assignment::Target::kUserVariable;
          assignment.name = target.text;
          advance();
        } else if (target.kind == TokenKind::kSystemVariable) {
          assignment.target = Assignment::Target::kSystemVariable;
          assignment.name = target.text;
          assignment.scope = target.scope == VariableScope::kDefault ? scope : target.scope;
          advance();
        } else if (target.kind == TokenKind::kWord || target.kind == TokenKind::kQuotedName) {
          assignment.target = Assignment::Target::kSystemVariable;
          assignment.name = target.text;
          assignment.scope = scope;
          advance();
          if (accept_symbol(".")) {  // a component or plugin variable: SET x.y = 1
            BRELAY_ASSIGN_OR_RETURN(std::string rest, identifier("a variable name"));
            assignment.name += "." + rest;
          }
        } else {
          return expected("a variable to set");
        }
        if (!accept_symbol("=") && !accept_symbol(":=")) return expected("'='");
        BRELAY_ASSIGN_OR_RETURN(assignment.value,
                                expression(assignment.target != Assignment::Target::kUserVariable));
      }
      set.assignments.push_back(std::move(assignment));
      if (!accept_symbol(",")) break;
    }
    return set;
  }

  Result<Statement> show() {
    advance();
    VariableScope scope = VariableScope::kDefault;
    if (accept_word("global")) {
      scope = VariableScope::kGlobal;
    } else if (accept_word("session") || accept_word("local")) {
      scope = VariableScope::kSession;
    }
    if (peek().is_word("variables") || peek().is_word("status"))
      return show_variables(scope);  // not SHOW MASTER STATUS
    if (scope != VariableScope::kDefault) return expected("VARIABLES or STATUS");
    if (accept_word("master")) {
      if (accept_word("status")) return Statement(ShowMasterStatusStatement{});
      if (accept_word("logs")) return Statement(ShowBinaryLogsStatement{});
      return expected("STATUS or LOGS");
    }
    if (accept_word("binary")) {
      if (accept_word("logs")) return Statement(ShowBinaryLogsStatement{});
      BRELAY_TRY(expect_word("log"));
      BRELAY_TRY(expect_word("status"));
      return Statement(ShowMasterStatusStatement{});
    }
    if (accept_word("binlog")) {
      if (accept_word("status")) return Statement(ShowMasterStatusStatement{});
      BRELAY_TRY(expect_word("events"));
      return wrap(binlog_events());
    }
    if (accept_word("replicas")) return Statement(ShowReplicasStatement{true});
    if (accept_word("relay")) {
      if (accept_word("replicas")) return Statement(ShowRelayReplicasStatement{});
      BRELAY_TRY(expect_word("status"));
      return Statement(ShowRelayStatusStatement{});
    }
    if (accept_word("slave")) {
      BRELAY_TRY(expect_word("hosts"));
      return Statement(ShowReplicasStatement{false});
    }
    if (accept_word("grants")) return show_grants();
    if (peek().is_word("warnings") || peek().is_word("errors")) return show_warnings();
    return not_supported(sql_);
  }

  // SHOW [GLOBAL | SESSION] VARIABLES | STATUS [LIKE ... | WHERE Variable_name ...], after the scope.
  Result<Statement> show_variables(VariableScope scope) {
    ShowVariablesStatement show;
    show.scope = scope;
    show.status = advance().is_word("status");
    if (accept_word("like")) {
      show.filter = ShowVariablesStatement::Filter::kLike;
      BRELAY_ASSIGN_OR_RETURN(std::string pattern, string_literal("a LIKE pattern"));
      show.values.push_back(pattern);
    } else if (accept_word("where")) {
      BRELAY_ASSIGN_OR_RETURN(std::string column, identifier("Variable_name"));
      if (!equals_ignore_case(column, "variable_name")) return not_supported(sql_);
      if (accept_symbol("=")) {
        show.filter = ShowVariablesStatement::Filter::kNameEquals;
        BRELAY_ASSIGN_OR_RETURN(std::string name, string_literal("a variable name"));
        show.values.push_back(name);
      } else if (accept_word("like")) {
        show.filter = ShowVariablesStatement::Filter::kNameLike;
        BRELAY_ASSIGN_OR_RETURN(std::string pattern, string_literal("a LIKE pattern"));
        show.values.push_back(pattern);
      } else if (accept_word("in")) {
        show.filter = ShowVariablesStatement::Filter::kNameIn;
        BRELAY_TRY(expect_symbol("("));
        while (true) {
          BRELAY_ASSIGN_OR_RETURN(std::string name, string_literal("a variable name"));
          show.values.push_back(name);
          if (!accept_symbol(",")) break;
        }
        BRELAY_TRY(expect_symbol(")"));
      } else {
        return not_supported(sql_);
      }
    }
    return Statement(show);
  }

  // SHOW GRANTS [FOR CURRENT_USER[()] | FOR user], after GRANTS.
  Result<Statement> show_grants() {
    ShowGrantsStatement grants;
    if (accept_word("for")) {
      if (accept_word("current_user")) {
        if (accept_symbol("(")) BRELAY_TRY(expect_symbol(")"));
      } else {
        const Token& user = peek();
        if (user.kind != TokenKind::kString && user.kind != TokenKind::kWord &&
            user.kind != TokenKind::kQuotedName)
          return expected("a user");
        grants.user = user.text;
        advance();
        if (peek().kind == TokenKind::kUserVariable) advance();  // 'user'@'host' reads as a user variable
      }
    }
    return Statement(grants);
  }

  // SHOW WARNINGS | ERRORS [LIMIT [offset,] count].
  Result<Statement> show_warnings() {
    ShowWarningsStatement warnings{advance().is_word("errors")};
    if (accept_word("limit")) {
      BRELAY_TRY(unsigned_number("a row count"));
      if (accept_symbol(",")) BRELAY_TRY(unsigned_number("a row count"));
    }
    return Statement(warnings);
  }

  Result<ShowBinlogEventsStatement> binlog_events() {
    ShowBinlogEventsStatement show;
    if (accept_word("in")) {
      BRELAY_ASSIGN_OR_RETURN(std::string file, string_literal("a binary log file name"));
      show.file = file;
    }
    if (accept_word("from")) {
      BRELAY_ASSIGN_OR_RETURN(std::uint64_t from, unsigned_number("a position"));
      show.from = from;
    }
    if (accept_word("limit")) {
      BRELAY_ASSIGN_OR_RETURN(std::uint64_t first, unsigned_number("a row count"));
      if (accept_symbol(",")) {
        BRELAY_ASSIGN_OR_RETURN(std::uint64_t count, unsigned_number("a row count"));
        show.offset = first;
        show.count = count;
      } else {
        show.count = first;
      }
    }
    return show;
  }

  Result<KillStatement> kill() {
    advance();
    KillStatement kill;
    if (accept_word("query")) {
      kill.query_only = true;
    } else {
      accept_word("connection");
    }
    BRELAY_ASSIGN_OR_RETURN(kill.connection_id, unsigned_number("a connection id"));
    return kill;
  }

  Result<PurgeStatement> purge() {
    advance();
    if (!accept_word("binary") && !accept_word("master")) return expected("BINARY LOGS");
    BRELAY_TRY(expect_word("logs"));
    PurgeStatement purge;
    if (accept_word("to")) {
      BRELAY_ASSIGN_OR_RETURN(purge.argument, string_literal("a binary log file name"));
      return purge;
    }
    BRELAY_TRY(expect_word("before"));
    purge.before = true;
    BRELAY_ASSIGN_OR_RETURN(purge.argument, string_literal("a date and time ('YYYY-MM-DD hh:mm:ss')"));
    return purge;
  }

  std::string_view sql_;
  std::vector<Token> tokens_;
  std::size_t position_ = 0;
  int depth_ = 0;  // expressions being read, one inside the other
};

}  // namespace

Result<Statement> parse_statement(std::string_view sql) {
  BRELAY_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(sql));
  return Parser(sql, std::move(tokens)).statement();
}

}  // namespace brelay::relay::downstream
