#include "relay/downstream/schema_query.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "relay/downstream/mysql_errors.h"
#include "relay/downstream/sql_tokenizer.h"

namespace brelay::relay::downstream {
namespace {

// `bytes` as a single-quoted string for a connection with sql_mode '' (backslash escapes).
std::string escaped_literal(std::string_view bytes);

constexpr std::uint16_t kNoDatabaseSelected = 1046;      // ER_NO_DB_ERROR, 3D000
constexpr std::uint16_t kTooManyPlaceholders = 1390;     // ER_PS_MANY_PARAM, HY000
constexpr std::uint16_t kWrongArguments = 1210;          // ER_WRONG_ARGUMENTS, HY000
constexpr std::uint16_t kInvalidCharacterString = 1300;  // ER_INVALID_CHARACTER_STRING, HY000
constexpr std::size_t kMaxParenthesisDepth = 16;
// FROM and at most one JOIN, on column equalities (join_condition()): bounded work on the source,
// no cartesian products of the information_schema tables.
constexpr std::size_t kMaxTables = 2;

constexpr std::array<std::string_view, 5> kTables = {"columns", "tables", "statistics", "schemata",
                                                     "key_column_usage"};
constexpr std::array<std::string_view, 7> kFunctions = {"lower",    "upper", "concat", "ifnull",
                                                        "coalesce", "count", "length"};
constexpr std::array<std::string_view, 27> kKeywords = {
    "distinct", "from",   "as",     "where",   "and",   "or",    "not", "in",    "is",
    "null",     "like",   "escape", "between", "order", "group", "by",  "asc",   "desc",
    "limit",    "offset", "join",   "inner",   "left",  "outer", "on",  "using", "having"};
// Words that end a table reference instead of naming its alias.
constexpr std::array<std::string_view, 10> kAfterTable = {"where", "join",  "inner", "left",  "on",
                                                          "using", "order", "group", "limit", "having"};
// Words that are never forwarded, also not as aliases.
constexpr std::array<std::string_view, 17> kDenied = {
    "select", "into",      "union",  "for",    "lock",   "procedure", "window",   "except", "intersect",
    "with",   "returning", "update", "delete", "insert", "outfile",   "dumpfile", "share"};

// The columns of the information_schema tables above (MySQL 5.7/8.0 and MariaDB 10.x) and of the
// SHOW statements' output, lower case.
const std::set<std::string, std::less<>>& known_columns() {
  static const std::set<std::string, std::less<>> columns = {
      // information_schema.COLUMNS
      "table_catalog", "table_schema", "table_name", "column_name", "ordinal_position", "column_default",
      "is_nullable", "data_type", "character_maximum_length", "character_octet_length", "numeric_precision",
      "numeric_scale", "datetime_precision", "character_set_name", "collation_name", "column_type",
      "column_key", "extra", "privileges", "column_comment", "generation_expression", "srs_id",
      "is_generated",
      // TABLES
      "table_type", "engine", "version", "row_format", "table_rows", "avg_row_length", "data_length",
      "max_data_length", "index_length", "data_free", "auto_increment", "create_time", "update_time",
      "check_time", "table_collation", "checksum", "create_options", "table_comment", "max_index_length",
      "temporary",
      // STATISTICS
      "non_unique", "index_schema", "index_name", "seq_in_index", "collation", "cardinality", "sub_part",
      "packed", "nullable", "index_type", "comment", "index_comment", "is_visible", "expression", "ignored",
      // SCHEMATA
      "catalog_name", "schema_name", "default_character_set_name", "default_collation_name", "sql_path",
      "schema_comment", "default_encryption",
      // KEY_COLUMN_USAGE
      "constraint_catalog", "constraint_schema", "constraint_name", "position_in_unique_constraint",
      "referenced_table_schema", "referenced_table_name", "referenced_column_name",
      // SHOW COLUMNS / INDEX / TABLES / DATABASES output
      "field", "type", "null", "key", "default", "table", "database", "key_name", "visible"};
  return columns;
}

template <std::size_t N>
bool in_list(const std::array<std::string_view, N>& list, std::string_view word) {
  return std::any_of(list.begin(), list.end(),
                     [&](std::string_view entry) { return equals_ignore_case(entry, word); });
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

Error refused(std::string_view why) {
  return Error(fmt::format("binlog-relay forwards to its source only read-only schema queries (SELECT from "
                           "information_schema.COLUMNS, TABLES, STATISTICS, SCHEMATA or KEY_COLUMN_USAGE, "
                           "SHOW CREATE TABLE, SHOW [FULL] COLUMNS, SHOW DATABASES, SHOW [FULL] TABLES, "
                           "SHOW INDEX): {}",
                           why),
               mysql_error::kNotSupportedYet);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool only_spaces(std::string_view text) {
  return std::all_of(text.begin(), text.end(), is_space);
}

Error invalid_utf8(std::string_view what) {
  return Error(fmt::format("Invalid utf8mb4 character string in {}: binlog-relay forwards only UTF-8 text to "
                           "its source",
                           what),
               kInvalidCharacterString);
}

bool is_name(const Token& token) {
  return token.kind == TokenKind::kWord || token.kind == TokenKind::kQuotedName;
}

std::string quoted_name(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out.push_back('`');
    out.push_back(c);
  }
  out.push_back('`');
  return out;
}

// Builds the canonical text: tokens separated by one space, except around '.', between a function
// name and its '(' and inside '<>'.
class Renderer {
 public:
  void append(std::string_view text, bool tight = false) {
    std::string& piece = pieces_.back();
    if (!tight && !(pieces_.size() == 1 && piece.empty())) piece.push_back(' ');
    piece.append(text);
  }
  void placeholder() {
    append("");
    pieces_.emplace_back();
  }
  SchemaQuery finish() && { return SchemaQuery{std::move(pieces_)}; }

 private:
  std::vector<std::string> pieces_{std::string()};
};

// Walks the tokens of a SELECT (from after SELECT) or of a SHOW's WHERE condition, checking each
// against the allow-list and rendering it.
class Checker {
 public:
  Checker(const std::vector<Token>& tokens, std::size_t end, Renderer& out, bool select)
      : tokens_(tokens), end_(end), out_(out), select_(select) {}

  Status run(std::size_t from) {
    if (select_) BRELAY_TRY(collect_aliases(from));
    for (std::size_t i = from; i < end_;) {
      BRELAY_ASSIGN_OR_RETURN(i, step(i));
    }
    if (depth_ != 0) return refused("unbalanced parentheses");
    if (select_ && tables_ == 0)
      return refused("a SELECT must read FROM one of the information_schema tables");
    return {};
  }

  std::size_t parameters() const { return parameters_; }

 private:
  const Token& at(std::size_t i) const { return tokens_[std::min(i, end_)]; }

  Status collect_aliases(std::size_t from) {
    for (std::size_t i = from; i + 1 < end_; ++i) {
      const Token& token = tokens_[i];
      std::size_t candidate = end_;
      if (token.is_word("as")) {
        candidate = i + 1;
      } else if (token.is_word("from") || token.is_word("join")) {
        std::size_t after = i + 1;
        if (is_name(at(after)) && at(after + 1).is_symbol(".")) after += 2;
        if (is_name(at(after))) candidate = at(after + 1).is_word("as") ? after + 2 : after + 1;
      }
      if (candidate >= end_ || !is_name(tokens_[candidate])) continue;
      const Token& alias = tokens_[candidate];
      if (alias.kind == TokenKind::kWord &&
          (in_list(kAfterTable, alias.text) || in_list(kKeywords, alias.text)))
        continue;
      if (alias.kind == TokenKind::kWord && in_list(kDenied, alias.text))
        return refused(fmt::format("'{}' is not forwarded", alias.text));
      aliases_.insert(to_lower(alias.text));
    }
    return {};
  }

  Result<std::size_t> step(std::size_t i) {
    const Token& token = tokens_[i];
    switch (token.kind) {
      case TokenKind::kUserVariable:
      case TokenKind::kSystemVariable: return refused("variables are not forwarded");
      case TokenKind::kString: out_.append(escaped_literal(token.text)); break;
      case TokenKind::kNumber:
        if (!std::all_of(token.text.begin(), token.text.end(), [](char c) {
              return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
            }))
          return refused("an unusual number");
        out_.append(token.text, after_dot(i));
        break;
      case TokenKind::kQuotedName:
        if (at(i + 1).is_symbol("(")) return refused("calls to stored functions are not forwarded");
        out_.append(quoted_name(token.text), after_dot(i));
        break;
      case TokenKind::kSymbol: BRELAY_TRY(symbol(i)); break;
      case TokenKind::kWord: return word(i);
      case TokenKind::kEnd: return end_;
    }
    return i + 1;
  }

  bool after_dot(std::size_t i) const { return i > 0 && tokens_[i - 1].is_symbol("."); }

  Status symbol(std::size_t i) {
    const Token& token = tokens_[i];
    const std::string& s = token.text;
    if (s == ":=" || s == ";") return refused(s == ";" ? "one statement at a time" : "assignments");
    if (s == "?") {
      if (++parameters_ > kMaxSchemaQueryParameters)
        return Error("Prepared statement contains too many placeholders", kTooManyPlaceholders);
      out_.placeholder();
      return {};
    }
    if (s == "(") {
      if (!may_open_parenthesis(i))
        return refused("a parenthesis after a name that is not an allowed function");
      if (++depth_ > kMaxParenthesisDepth) return refused("parentheses nested too deeply");
      out_.append("(", function_open_);
      function_open_ = false;
      return {};
    }
    if (s == ")") {
      if (depth_ == 0) return refused("unbalanced parentheses");
      --depth_;
    }
    if (s == "." && !(i > 0 && is_name(tokens_[i - 1]) && (is_name(at(i + 1)) || at(i + 1).is_symbol("*"))))
      return refused("a '.' outside a qualified name");
    if (s == "," && in_from_ && depth_ == 0)
      return refused("more than one table (comma joins) is not forwarded");
    const bool tight =
        s == "." || after_dot(i) ||
        (s == ">" && i > 0 && tokens_[i - 1].is_symbol("<") && tokens_[i - 1].end == token.begin);
    out_.append(s, tight);
    return {};
  }

  bool may_open_parenthesis(std::size_t i) const {
    if (function_open_) return true;
    if (i == 0) return false;
    const Token& previous = tokens_[i - 1];
    if (previous.kind == TokenKind::kSymbol) return previous.text != ")" && previous.text != "?";
    if (previous.kind != TokenKind::kWord) return false;
    for (std::string_view keyword : {"in", "and", "or", "not", "on", "using", "where", "by", "having",
                                     "distinct", "like", "between", "select"})
      if (previous.is_word(keyword)) return true;
    return false;
  }

  Result<std::size_t> word(std::size_t i) {
    const Token& token = tokens_[i];
    if (token.is_word("select")) return refused("subqueries and unions are not forwarded");
    if (in_list(kDenied, token.text)) return refused(fmt::format("'{}' is not forwarded", token.text));
    if (token.is_word("from") || token.is_word("join")) return table_reference(i);
    if (in_list(kKeywords, token.text)) {
      if (!select_ && (token.is_word("join") || token.is_word("on")))
        return refused(fmt::format("'{}' in a SHOW condition", token.text));
      if (in_list(kAfterTable, token.text) && !token.is_word("join")) in_from_ = false;
      out_.append(upper(token.text));
      return i + 1;
    }
    if (at(i + 1).is_symbol("(") && !after_dot(i)) {
      if (!in_list(kFunctions, token.text))
        return refused(fmt::format("the function {}() is not forwarded", token.text));
      out_.append(upper(token.text));
      function_open_ = true;
      return i + 1;
    }
    if (!known_name(i)) {
      return refused(
          fmt::format("'{}' is not a column of the information_schema tables or SHOW output that the "
                      "relay forwards",
                      token.text));
    }
    out_.append(quoted_name(token.text), after_dot(i));
    return i + 1;
  }

  bool known_name(std::size_t i) const {
    const std::string name = to_lower(tokens_[i].text);
    if (known_columns().contains(name) || aliases_.contains(name)) return true;
    if (!select_ && name.starts_with("tables_in_")) return true;
    const bool qualifier = at(i + 1).is_symbol(".");
    return qualifier && select_ && (name == "information_schema" || in_list(kTables, name));
  }

  // FROM or JOIN at depth 0, then information_schema.<table> [[AS] alias].
  Result<std::size_t> table_reference(std::size_t i) {
    if (!select_) return refused("FROM inside a SHOW condition");
    if (depth_ != 0) return refused("FROM or JOIN inside parentheses");
    if (tokens_[i].is_word("from") && ++tables_ > 1) return refused("more than one FROM");
    if (tokens_[i].is_word("join") && ++tables_ > kMaxTables)
      return refused(fmt::format("more than {} tables joined", kMaxTables));
    out_.append(upper(tokens_[i].text));
    const Token& schema = at(i + 1);
    const Token& table = at(i + 3);
    if (!is_name(schema) || !at(i + 2).is_symbol(".") || !is_name(table) ||
        !equals_ignore_case(schema.text, "information_schema")) {
      return refused(
          "name the table as information_schema.COLUMNS (or TABLES, STATISTICS, SCHEMATA, "
          "KEY_COLUMN_USAGE)");
    }
    if (!in_list(kTables, table.text))
      return refused(
          fmt::format("information_schema.{} is not one of the tables the relay forwards", table.text));
    out_.append(quoted_name("information_schema"));
    out_.append(".", true);
    out_.append(quoted_name(upper(table.text)), true);
    in_from_ = true;
    std::size_t next = i + 4;
    if (at(next).is_word("as")) {
      out_.append("AS");
      ++next;
    }
    const Token& alias = at(next);
    if (next < end_ && is_name(alias) &&
        !(alias.kind == TokenKind::kWord && in_list(kAfterTable, alias.text))) {
      out_.append(quoted_name(alias.text));
      ++next;
    }
    if (tokens_[i].is_word("join")) BRELAY_TRY(join_condition(next));
    return next;
  }

  // What follows a JOIN's table: USING (column, ...) or ON a.x = b.y [AND c.z = d.w ...], each
  // equality between columns of two different tables, up to the next clause. Anything else (no
  // condition, ON 1 = 1, ON a.x = a.x, OR) could make the source build a cartesian product.
  Status join_condition(std::size_t i) const {
    const Error refusal = refused(
        "a JOIN needs USING (column, ...) or an ON condition that compares columns of both tables "
        "(ON a.x = b.x [AND a.y = b.y])");
    if (at(i).is_word("using")) {
      if (!at(i + 1).is_symbol("(")) return refusal;
      for (i += 2; is_name(at(i)) && i < end_; i += 2) {
        if (at(i + 1).is_symbol(")")) return {};
        if (!at(i + 1).is_symbol(",")) break;
      }
      return refusal;
    }
    if (!at(i).is_word("on")) return refusal;
    for (++i;; ++i) {
      const std::optional<std::string> left = qualifier(i);
      const std::optional<std::string> right = qualifier(i + 4);
      if (!left || !right || !at(i + 3).is_symbol("=") || *left == *right) return refusal;
      i += 7;
      if (!at(i).is_word("and")) break;
    }
    if (i >= end_ ||
        (at(i).kind == TokenKind::kWord && in_list(kAfterTable, at(i).text) && !at(i).is_word("on")))
      return {};
    return refusal;
  }

  // The table name or alias of the column reference `qualifier.column` at `i`.
  std::optional<std::string> qualifier(std::size_t i) const {
    if (i + 2 >= end_ || !is_name(at(i)) || !at(i + 1).is_symbol(".") || !is_name(at(i + 2)))
      return std::nullopt;
    return to_lower(at(i).text);
  }

  const std::vector<Token>& tokens_;
  std::size_t end_;
  Renderer& out_;
  bool select_;
  std::set<std::string, std::less<>> aliases_;
  std::size_t depth_ = 0;
  std::size_t tables_ = 0;
  std::size_t parameters_ = 0;
  bool in_from_ = false;
  bool function_open_ = false;
};

// SHOW statements: a fixed grammar, names always rendered in backquotes.
class ShowChecker {
 public:
  ShowChecker(const std::vector<Token>& tokens, std::size_t end, std::string_view database)
      : tokens_(tokens), end_(end), database_(database) {}

  Result<SchemaQuery> run() {
    out_.append("SHOW");
    std::size_t i = 1;
    const bool full = at(i).is_word("full");
    if (full) ++i;
    const Token& what = at(i++);
    if (!full && (what.is_word("databases") || what.is_word("schemas"))) {
      out_.append("DATABASES");
      return filter(i, true);
    }
    if (what.is_word("tables")) {
      out_.append(full ? "FULL TABLES" : "TABLES");
      std::optional<std::string> schema;
      if (at(i).is_word("from") || at(i).is_word("in")) {
        BRELAY_ASSIGN_OR_RETURN(schema, name(i + 1));
        i += 2;
      }
      BRELAY_TRY(from_database(schema));
      return filter(i, true);
    }
    if (what.is_word("columns") || what.is_word("fields")) {
      out_.append(full ? "FULL COLUMNS" : "COLUMNS");
      BRELAY_ASSIGN_OR_RETURN(i, table_in_database(i));
      return filter(i, true);
    }
    if (!full && (what.is_word("index") || what.is_word("indexes") || what.is_word("keys"))) {
      out_.append("INDEX");
      BRELAY_ASSIGN_OR_RETURN(i, table_in_database(i));
      return filter(i, false);
    }
    if (!full && what.is_word("create") && at(i).is_word("table")) {
      out_.append("CREATE TABLE");
      BRELAY_ASSIGN_OR_RETURN(auto table, qualified_table(i + 1));
      if (table.next != end_) return parse_error_at(table.next);
      if (!table.schema) {
        BRELAY_ASSIGN_OR_RETURN(table.schema, default_database());
      }
      out_.append(quoted_name(*table.schema));
      out_.append(".", true);
      out_.append(quoted_name(table.name), true);
      return std::move(out_).finish();
    }
    return refused(fmt::format("SHOW {}{} is not forwarded", full ? "FULL " : "", what.text));
  }

 private:
  struct TableName {
    std::optional<std::string> schema;
    std::string name;
    std::size_t next = 0;
  };

  const Token& at(std::size_t i) const { return tokens_[std::min(i, end_)]; }
  Error parse_error_at(std::size_t i) const {
    return refused(fmt::format("unexpected '{}'", at(i).kind == TokenKind::kEnd ? "end" : at(i).text));
  }

  Result<std::string> name(std::size_t i) const {
    if (i >= end_ || !is_name(tokens_[i])) return parse_error_at(i);
    return tokens_[i].text;
  }

  Result<std::string> default_database() const {
    if (database_.empty()) return Error("No database selected", kNoDatabaseSelected);
    if (!is_valid_utf8(database_)) return invalid_utf8("the session's default database");
    return std::string(database_);
  }

  Status from_database(const std::optional<std::string>& schema) {
    std::string database;
    if (schema) {
      database = *schema;
    } else {
      BRELAY_ASSIGN_OR_RETURN(database, default_database());
    }
    out_.append("FROM");
    out_.append(quoted_name(database));
    return {};
  }

  Result<TableName> qualified_table(std::size_t i) const {
    TableName table;
    BRELAY_ASSIGN_OR_RETURN(table.name, name(i));
    table.next = i + 1;
    if (at(i + 1).is_symbol(".")) {
      table.schema = table.name;
      BRELAY_ASSIGN_OR_RETURN(table.name, name(i + 2));
      table.next = i + 3;
    }
    return table;
  }

  // {FROM|IN} table [{FROM|IN} database], rendered FROM `table` FROM `database`.
  Result<std::size_t> table_in_database(std::size_t i) {
    if (!at(i).is_word("from") && !at(i).is_word("in")) return parse_error_at(i);
    BRELAY_ASSIGN_OR_RETURN(TableName table, qualified_table(i + 1));
    std::size_t next = table.next;
    if (at(next).is_word("from") || at(next).is_word("in")) {
      BRELAY_ASSIGN_OR_RETURN(table.schema, name(next + 1));
      next += 2;
    }
    out_.append("FROM");
    out_.append(quoted_name(table.name));
    BRELAY_TRY(from_database(table.schema));
    return next;
  }

  // [LIKE 'pattern' | WHERE condition]
  Result<SchemaQuery> filter(std::size_t i, bool like_allowed) {
    if (i == end_) return std::move(out_).finish();
    if (like_allowed && at(i).is_word("like")) {
      out_.append("LIKE");
      const Token& pattern = at(i + 1);
      if (pattern.is_symbol("?")) {
        out_.placeholder();
      } else if (pattern.kind == TokenKind::kString) {
        out_.append(escaped_literal(pattern.text));
      } else {
        return parse_error_at(i + 1);
      }
      if (i + 2 != end_) return parse_error_at(i + 2);
      return std::move(out_).finish();
    }
    if (!at(i).is_word("where")) return parse_error_at(i);
    out_.append("WHERE");
    Checker checker(tokens_, end_, out_, false);
    BRELAY_TRY(checker.run(i + 1));
    return std::move(out_).finish();
  }

  const std::vector<Token>& tokens_;
  std::size_t end_;
  std::string_view database_;
  Renderer out_;
};

// The index of the statement's end (a trailing ';' excluded), after checking that only whitespace
// lies between the tokens (no comments).
Result<std::size_t> statement_end(std::string_view sql, const std::vector<Token>& tokens) {
  std::size_t previous_end = 0;
  for (const Token& token : tokens) {
    const std::size_t begin = token.kind == TokenKind::kEnd ? sql.size() : token.begin;
    if (begin < previous_end || !only_spaces(sql.substr(previous_end, begin - previous_end)))
      return refused("comments are not forwarded");
    previous_end = token.kind == TokenKind::kEnd ? sql.size() : token.end;
  }
  std::size_t end = tokens.size() - 1;
  if (end > 0 && tokens[end - 1].is_symbol(";")) --end;
  return end;
}

}  // namespace

bool looks_like_schema_query(std::string_view sql) {
  auto tokens = tokenize(sql);
  if (!tokens || tokens->size() < 3) return false;
  const std::vector<Token>& t = *tokens;
  if (t[0].is_word("select"))
    return std::any_of(t.begin(), t.end(), [](const Token& token) { return token.is_word("from"); });
  if (!t[0].is_word("show")) return false;
  for (std::string_view word :
       {"full", "databases", "schemas", "tables", "columns", "fields", "index", "indexes", "keys", "create"})
    if (t[1].is_word(word)) return true;
  return false;
}

Result<SchemaQuery> recognize_schema_query(std::string_view sql, std::string_view database) {
  if (sql.size() > kMaxSchemaQueryBytes)
    return refused(fmt::format("the statement is longer than {} bytes", kMaxSchemaQueryBytes));
  // The forwarding connection runs SET NAMES utf8mb4: names and strings must be UTF-8 there (no
  // byte of a multi-byte UTF-8 character is a quote or a backslash, so escaping stays exact).
  if (!is_valid_utf8(sql)) return invalid_utf8("the statement");
  BRELAY_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(sql));
  BRELAY_ASSIGN_OR_RETURN(std::size_t end, statement_end(sql, tokens));
  if (end == 0) return Error("Query was empty", mysql_error::kEmptyQuery);
  if (tokens[0].is_word("show")) {
    for (std::size_t i = 0; i < end; ++i) {
      if (tokens[i].kind == TokenKind::kSymbol && tokens[i].text == ";")
        return refused("one statement at a time");
    }
    ShowChecker show(tokens, end, database);
    return show.run();
  }
  if (!tokens[0].is_word("select")) return refused("only SELECT and SHOW statements");
  Renderer out;
  out.append("SELECT");
  Checker checker(tokens, end, out, true);
  BRELAY_TRY(checker.run(1));
  return std::move(out).finish();
}

Result<std::string> bind_schema_query(const SchemaQuery& query, const std::vector<std::string>& literals) {
  if (literals.size() != query.parameter_count()) {
    return Error(fmt::format("the statement has {} placeholders but {} values were given",
                             query.parameter_count(), literals.size()),
                 kWrongArguments);
  }
  std::string text = query.pieces.empty() ? std::string() : query.pieces[0];
  for (std::size_t i = 0; i < literals.size(); ++i) {
    text += literals[i];
    text += query.pieces[i + 1];
  }
  return text;
}

bool is_valid_utf8(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    unsigned char low = 0x80;  // the range of the byte after the lead (overlongs, surrogates, > U+10FFFF)
    unsigned char high = 0xbf;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead == 0xe0) low = 0xa0;
      if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead == 0xf0) low = 0x90;
      if (lead == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (text.size() - i < length) return false;
    if (byte(i + 1) < low || byte(i + 1) > high) return false;
    for (std::size_t k = 2; k < length; ++k)
      if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return false;
    i += length;
  }
  return true;
}

Result<std::string> sql_string_literal(std::string_view bytes) {
  if (!is_valid_utf8(bytes)) return invalid_utf8("a parameter");
  return escaped_literal(bytes);
}

namespace {

std::string escaped_literal(std::string_view bytes) {
  std::string out = "'";
  for (char c : bytes) {
    switch (c) {
      case '\0': out += "\\0"; break;
      case '\'': out += "\\'"; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\x1a': out += "\\Z"; break;
      default: out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

}  // namespace

}  // namespace brelay::relay::downstream
