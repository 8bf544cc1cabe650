// The statement parser and the LIKE matcher fed the inputs an attacker sends (issue 19): deeply
// nested expressions in every position that nests, statements of countless tokens, LIKE patterns
// that make a backtracking matcher take exponential time, and a MariaDB connect state of countless
// domains. Each must end in bounded work: deep nesting and token floods get MySQL's 1064 "memory
// exhausted near ...", the connect state is refused before it is parsed, and LIKE answers right
// with a step count within (text + 1) * (pattern + 1) + pattern, checked against an independent
// dynamic-programming matcher.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "relay/downstream/dump_request.h"
#include "relay/downstream/like_pattern.h"
#include "relay/downstream/mysql_errors.h"
#include "relay/downstream/sql_statement.h"
#include "relay/downstream/user_variables.h"

namespace brelay::relay::downstream {
namespace {

std::string repeat(std::string_view piece, std::size_t count) {
  std::string out;
  out.reserve(piece.size() * count);
  for (std::size_t i = 0; i < count; ++i)
    out += piece;
  return out;
}

std::string nested(std::string_view open, std::string_view inner, std::string_view close, std::size_t depth) {
  return repeat(open, depth) + std::string(inner) + repeat(close, depth);
}

void expect_too_deep(const std::string& sql) {
  auto statement = parse_statement(sql);
  ASSERT_FALSE(statement) << sql.substr(0, 60) << " parsed";
  EXPECT_EQ(statement.error().code(), mysql_error::kParseError);
  EXPECT_EQ(statement.error().message().rfind("memory exhausted near '", 0), 0u)
      << statement.error().message();
  // The message quotes 80 bytes of the statement at most, whatever its size.
  EXPECT_LT(statement.error().message().size(), 300u) << statement.error().message();
}

TEST(HostileSql, DeeplyNestedParenthesesGetMysqlsParseError) {
  // Regression: 20,000 levels overflowed the loop thread's stack (SIGSEGV).
  for (std::size_t depth : {std::size_t{257}, std::size_t{20'000}, std::size_t{100'000}}) {
    expect_too_deep("SELECT " + nested("(", "1", ")", depth));
    expect_too_deep("SELECT " + repeat("(", depth));  // never closed
  }
  auto error = parse_statement("SELECT " + nested("(", "1", ")", 20'000));
  ASSERT_FALSE(error);
  EXPECT_EQ(to_err_packet(error.error()).sql_state, "42000");
  EXPECT_NE(error.error().message().find("near '((((((((((((((((((((((("), std::string::npos);
  EXPECT_NE(error.error().message().find("at line 1"), std::string::npos);
}

TEST(HostileSql, NestingUpToTheLimitStillParses) {
  auto select = parse_statement("SELECT " + nested("(", "1", ")", 255) + " AS one");
  ASSERT_TRUE(select) << select.error().message();
  const auto& item = std::get<SelectStatement>(*select).items.at(0);
  EXPECT_EQ(item.expression.kind, Expression::Kind::kInteger);
  EXPECT_EQ(item.column_name, "one");
  EXPECT_TRUE(parse_statement("SELECT " + nested("binlog_gtid_pos(", "1", ", 2)", 200)));
  expect_too_deep("SELECT " + nested("(", "1", ")", 256));
}

TEST(HostileSql, DeepNestingInEveryPositionThatNests) {
  for (std::size_t depth : {std::size_t{20'000}, std::size_t{100'000}}) {
    expect_too_deep("SELECT " + nested("binlog_gtid_pos(", "1", ",2)", depth));
    expect_too_deep("SELECT " + nested("version(", "", ")", depth));
    expect_too_deep("SELECT 1, 2, " + nested("(", "@@server_id", ")", depth));
    expect_too_deep("SELECT " + nested("(binlog_gtid_pos(", "'f'", ", 4))", depth / 2));
    expect_too_deep("SET @a = " + nested("(", "1", ")", depth));
    expect_too_deep("SET @a = 1, @b = " + nested("(", "'x'", ")", depth));
    expect_too_deep("SET SESSION sql_mode = " + nested("(", "''", ")", depth));
    expect_too_deep("SET NAMES " + nested("(", "utf8mb4", ")", depth));
    expect_too_deep("/*!40101 SELECT " + nested("(", "1", ")", depth) + " */");
  }
}

TEST(HostileSql, StatementsOfCountlessTokensAreRefusedEarly) {
  // Every token costs tens of bytes: megabytes of ",1" must not become millions of them.
  expect_too_deep("SELECT 1" + repeat(",1", 2100));
  expect_too_deep("SELECT 1" + repeat(",1", 1'000'000));
  expect_too_deep("SHOW VARIABLES WHERE Variable_name IN ('a'" + repeat(",'a'", 70'000) + ")");
  auto wide = parse_statement("SELECT 1" + repeat(",1", 2000));
  ASSERT_TRUE(wide) << wide.error().message();
  EXPECT_EQ(std::get<SelectStatement>(*wide).items.size(), 2001u);
  // One long string is one token.
  const std::string state = repeat("0-1-1,", 100'000);
  auto set = parse_statement("SET @slave_connect_state = '" + state + "'");
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(std::get<SetStatement>(*set).assignments.at(0).value.text, state);
}

// An independent LIKE: the classic dynamic programme over (pattern element, text position).
bool reference_like(std::string_view pattern, std::string_view text) {
  struct Element {
    int kind;  // 0 literal, 1 '_', 2 '%'
    char c;
  };
  std::vector<Element> elements;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%') {
      elements.push_back({2, 0});
    } else if (pattern[i] == '_') {
      elements.push_back({1, 0});
    } else if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      elements.push_back({0, pattern[++i]});
    } else {
      elements.push_back({0, pattern[i]});
    }
  }
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  // matches[j]: the first i elements match the first j characters.
  std::vector<bool> matches(text.size() + 1, false);
  matches[0] = true;
  for (const Element& element : elements) {
    std::vector<bool> next(text.size() + 1, false);
    for (std::size_t j = 0; j <= text.size(); ++j) {
      if (element.kind == 2) {
        next[j] = matches[j] || (j > 0 && next[j - 1]);
      } else if (j > 0 && matches[j - 1]) {
        next[j] = element.kind == 1 || lower(element.c) == lower(text[j - 1]);
      }
    }
    matches = std::move(next);
  }
  return matches[text.size()];
}

void expect_like(std::string_view pattern, std::string_view text) {
  const LikeResult result = like_match(pattern, text);
  EXPECT_EQ(result.matched, reference_like(pattern, text)) << "'" << pattern << "' LIKE '" << text << "'";
  EXPECT_LE(result.steps, like_step_bound(pattern.size(), text.size())) << pattern;
}

TEST(HostileSql, TheBacktrackingLikeAttackTakesBoundedSteps) {
  // Regression: 3-4 s of backtracking on the loop thread per statement.
  const std::string attack = "%_%_%_%_%_%_%_%_%_%_%_%_%_%_%_%_#";
  for (std::string_view name :
       {"rpl_semi_sync_master_enabled", "binlog_transaction_compression", "gtid_executed", "a", ""}) {
    EXPECT_FALSE(like_matches(attack, name));
    expect_like(attack, name);
  }
  const std::string text(100'000, 'a');
  for (std::size_t pairs : {std::size_t{16}, std::size_t{100}, std::size_t{1000}}) {
    const std::string pattern = repeat("%_", pairs) + "#";
    const LikeResult result = like_match(pattern, text);
    EXPECT_FALSE(result.matched);
    EXPECT_LE(result.steps, like_step_bound(pattern.size(), text.size()));
    EXPECT_TRUE(like_matches(repeat("%_", pairs) + "%", text));
    EXPECT_TRUE(like_matches(repeat("%_", pairs) + "a", text));
  }
  // The pattern variants attackers try: runs of '%', '_' and escapes, against near-misses.
  expect_like(repeat("%a", 300) + "b", std::string(3000, 'a'));
  expect_like(repeat("a%", 300) + "b", std::string(3000, 'a'));
  expect_like(repeat("%\\_", 200) + "#", repeat("_", 2000));
  expect_like(repeat("%%%_", 200), std::string(500, 'x'));
  // Steps are linear in the text for a pattern with one '%'.
  EXPECT_LE(like_match("%#", text).steps, text.size() + 3);
}

TEST(HostileSql, LikeHasMysqlSemantics) {
  EXPECT_TRUE(like_matches("gtid%", "GTID_MODE"));
  EXPECT_TRUE(like_matches("%SEMI_sync%", "rpl_semi_sync_master_enabled"));
  EXPECT_TRUE(like_matches("server_i_", "server_id"));
  EXPECT_FALSE(like_matches("server_i_", "server_i"));
  EXPECT_TRUE(like_matches("binlog\\_format", "binlog_format"));
  EXPECT_FALSE(like_matches("binlog\\_format", "binlogXformat"));
  EXPECT_TRUE(like_matches("100\\%", "100%"));
  EXPECT_FALSE(like_matches("100\\%", "1000"));
  EXPECT_TRUE(like_matches("a\\", "a\\"));  // a trailing backslash is literal
  EXPECT_TRUE(like_matches("%", ""));
  EXPECT_TRUE(like_matches("%%", "x"));
  EXPECT_FALSE(like_matches("_", ""));
  EXPECT_FALSE(like_matches("", "x"));
  EXPECT_TRUE(like_matches("", ""));
  EXPECT_TRUE(like_matches("%b%b", "abab"));
  EXPECT_FALSE(like_matches("%b%b", "abba_"));
  EXPECT_TRUE(like_matches("a%b_c", "aXXbYc"));
}

TEST(HostileSql, LikeAgreesWithTheReferenceOnRandomInputs) {
  std::mt19937 random(19);
  const std::string pattern_chars = "ab%_\\A";
  const std::string text_chars = "abAB_%\\";
  for (int round = 0; round < 20'000; ++round) {
    std::string pattern(random() % 12, ' ');
    for (char& c : pattern)
      c = pattern_chars[random() % pattern_chars.size()];
    std::string text(random() % 14, ' ');
    for (char& c : text)
      c = text_chars[random() % text_chars.size()];
    expect_like(pattern, text);
    if (HasFailure()) break;
  }
}

TEST(HostileSql, AConnectStateOfCountlessDomainsIsRefusedBeforeItIsParsed) {
  std::string state;
  for (int domain = 0; domain < 5000; ++domain)
    state += std::to_string(domain) + "-1-1,";
  state.pop_back();
  UserVariables variables;
  variables.set("slave_connect_state", UserValue::string(state));
  auto refused = dump_settings_from(variables);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), mysql_error::kUnknownError);
  EXPECT_NE(refused.error().message().find("more than 4096 domains"), std::string::npos);
  state.resize(state.find(",4000-"));
  variables.set("slave_connect_state", UserValue::string(state));
  auto accepted = dump_settings_from(variables);
  ASSERT_TRUE(accepted) << accepted.error().message();
  EXPECT_EQ(accepted->mariadb_connect_state->gtids().size(), 4000u);
}

TEST(HostileSql, ErrorMessagesQuotingClientValuesStayWithinMysqlsSize) {
  const Error long_error(std::string(100'000, 'x'), mysql_error::kUnknownError);
  const net::ErrPacket packet = to_err_packet(long_error);
  EXPECT_LE(packet.message.size(), 511u);
  EXPECT_NE(packet.message.find("(100000 bytes)"), std::string::npos);
}

}  // namespace
}  // namespace brelay::relay::downstream
