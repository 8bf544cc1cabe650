// A small tokenizer for the statements replicas and binlog clients send (protocol.md sections 1
// and 7): words, `quoted` identifiers, 'strings' and "strings" with backslash and doubled-quote
// escapes, numbers, @user variables, @@[global.|session.]system variables and punctuation.
// Comments are skipped (/* */, "-- ", #); the contents of executable comments (/*! ... */,
// /*!50100 ... */, /*M! ... */) are read as code, as the servers do. Pure; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace brelay::relay::downstream {

enum class TokenKind {
  kWord,            // keyword or bare identifier (text as written)
  kQuotedName,      // `identifier` (text unquoted)
  kString,          // 'text' or "text" (text unescaped)
  kNumber,          // 12, 1.5, 1e3 (text as written)
  kUserVariable,    // @name, @'name', @`name` (text: the name)
  kSystemVariable,  // @@name, @@global.name, @@session.name (text: the name; scope separate)
  kSymbol,          // = , ( ) ; . * + - / < > := ? (a placeholder) (text: the symbol)
  kEnd,
};

enum class VariableScope { kDefault, kGlobal, kSession };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  VariableScope scope = VariableScope::kDefault;  // kSystemVariable only
  std::size_t begin = 0;                          // the token's span in the statement text
  std::size_t end = 0;

  // A word equal to `keyword`, ignoring case.
  bool is_word(std::string_view keyword) const;
  bool is_symbol(std::string_view symbol) const { return kind == TokenKind::kSymbol && text == symbol; }
};

// The tokens of `sql`, ending with one kEnd token. Errors (code 1064): an unterminated string,
// quoted name or comment, or a character that starts no token.
Result<std::vector<Token>> tokenize(std::string_view sql);

// Case-insensitive ASCII comparison and lower-casing, as identifiers and keywords compare.
bool equals_ignore_case(std::string_view a, std::string_view b);
std::string to_lower(std::string_view text);

}  // namespace brelay::relay::downstream
