// QUERY_EVENT (type 2): a statement. Post-header u32 thread_id, u32 exec_time, u8 schema length,
// u16 error_code, u16 status-vars length; then the status variables, the schema + NUL and the
// statement to the end of the body. Also the statement texts of ANNOTATE_ROWS (MariaDB 160) and
// ROWS_QUERY (MySQL 29), and the classification of statements that transaction boundaries need.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "relay/binlog/event_header.h"

namespace brelay::binlog {

inline constexpr std::size_t kQueryPostHeaderSize = 13;

struct QueryEvent {
  std::uint32_t thread_id = 0;
  std::uint32_t exec_time = 0;
  std::uint16_t error_code = 0;
  ByteView status_vars;
  std::string_view schema;  // views into the event's bytes
  std::string_view query;
};

Result<QueryEvent> parse_query(const EventView& event);

// What a statement means for transaction boundaries (protocol.md section 4).
enum class QueryKind {
  kBegin,                // BEGIN / START TRANSACTION
  kCommit,               // COMMIT
  kRollback,             // ROLLBACK (not ROLLBACK TO SAVEPOINT)
  kRollbackToSavepoint,  // ROLLBACK TO [SAVEPOINT] x
  kSavepoint,            // SAVEPOINT x
  kXaStart,              // XA START / XA BEGIN
  kXaEnd,                // XA END
  kXaPrepare,            // XA PREPARE
  kXaCommit,             // XA COMMIT
  kXaRollback,           // XA ROLLBACK
  kOther,                // DDL or any other statement
};

// Classifies by the leading keywords, case-insensitively, after whitespace. Never allocates.
QueryKind classify_query(std::string_view sql);

// The statement of ANNOTATE_ROWS (MariaDB) or ROWS_QUERY (MySQL: a length byte, then the text).
Result<std::string_view> parse_statement_text(const EventView& event);

}  // namespace brelay::binlog
