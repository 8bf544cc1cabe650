// The read-only schema queries a CDC reader's control connection asks (zongji, Maxwell, canal,
// Debezium) and that the relay forwards to its source for accounts with `schema = true`:
//   SELECT ... FROM information_schema.{COLUMNS|TABLES|STATISTICS|SCHEMATA|KEY_COLUMN_USAGE}
//          [[INNER|LEFT [OUTER]] JOIN information_schema.<same list> {ON a.x = b.y [AND ...]|USING (...)}]
//          [WHERE ...]
//          [GROUP BY ...] [ORDER BY ...] [LIMIT ...]
//   SHOW CREATE TABLE t, SHOW [FULL] {COLUMNS|FIELDS} {FROM|IN} t [{FROM|IN} db] [LIKE|WHERE],
//   SHOW {DATABASES|SCHEMAS} [LIKE|WHERE], SHOW [FULL] TABLES [{FROM|IN} db] [LIKE|WHERE],
//   SHOW {INDEX|INDEXES|KEYS} {FROM|IN} t [{FROM|IN} db] [WHERE].
//
// The decision is an allow-list over the relay's own tokenizer: one statement, no comments, no
// variables, no subqueries or unions, no other tables, bare names only where they name a column of
// those tables (or of the SHOW output), an alias or an allowed table, function calls only to
// LOWER, UPPER, CONCAT, IFNULL, COALESCE, COUNT and LENGTH. The statement that is forwarded is
// rendered anew from the validated tokens (names in backquotes, strings re-escaped for a
// connection whose sql_mode is '' and whose character set is utf8mb4; text that is not UTF-8 is
// refused), so the source runs exactly what was checked. A JOIN (at most one) needs USING or an ON
// condition of column equalities between the two tables. '?' placeholders
// are kept as the split points of the rendered text; bind_schema_query() fills them with literals.
// Pure; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace brelay::relay::downstream {

inline constexpr std::size_t kMaxSchemaQueryBytes = 16 * 1024;
inline constexpr std::size_t kMaxSchemaQueryParameters = 64;

struct SchemaQuery {
  // The rendered statement split at its placeholders: parameter_count() + 1 pieces.
  std::vector<std::string> pieces;

  std::size_t parameter_count() const { return pieces.empty() ? 0 : pieces.size() - 1; }
};

// Whether `sql` is a statement of the kinds above at all (SELECT ... FROM, or SHOW followed by one
// of those words), so that a refusal can explain what the relay forwards.
bool looks_like_schema_query(std::string_view sql);

// The rendered query, or an error with a MySQL code: 1235 for what the relay does not forward
// (saying why), 1064 for text it cannot read, 1046 for an unqualified table without a database.
// `database` is the session's default database (qualifies SHOW statements; may be empty).
Result<SchemaQuery> recognize_schema_query(std::string_view sql, std::string_view database);

// The statement with each placeholder replaced by the corresponding literal (as made by
// sql_string_literal() or plain numbers / NULL). Errors: the wrong number of literals.
Result<std::string> bind_schema_query(const SchemaQuery& query, const std::vector<std::string>& literals);

// `bytes` as a single-quoted SQL string for the forwarding connection (sql_mode '', so backslash
// escapes; SET NAMES utf8mb4, verified): error 1300 when `bytes` is not valid UTF-8, since in a
// multi-byte character set other than UTF-8 an escaped quote could end up inside a character.
Result<std::string> sql_string_literal(std::string_view bytes);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace brelay::relay::downstream
