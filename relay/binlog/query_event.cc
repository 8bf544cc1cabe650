#include "relay/binlog/query_event.h"

#include <array>

#include "common/byte_reader.h"

namespace brelay::binlog {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Splits a statement into its leading keywords without allocating.
class WordScanner {
 public:
  explicit WordScanner(std::string_view text) : text_(text) {}

  // Next keyword, lower-cased; "" at the end, at a non-letter (a quote, ';') or for a word that is
  // not a plain keyword (it continues with digits, or is longer than any keyword we look for).
  std::string_view next() {
    while (pos_ < text_.size() && is_space(text_[pos_]))
      ++pos_;
    std::size_t size = 0;
    while (pos_ < text_.size() && size < buffer_.size()) {
      const char c = lower(text_[pos_]);
      if (!((c >= 'a' && c <= 'z') || c == '_')) break;
      buffer_[size++] = c;
      ++pos_;
    }
    // A keyword must end at a non-word character.
    if (pos_ < text_.size()) {
      const char c = lower(text_[pos_]);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') return {};
    }
    return {buffer_.data(), size};
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::array<char, 16> buffer_{};
};

}  // namespace

Result<QueryEvent> parse_query(const EventView& event) {
  if (event.header.type != EventType::kQuery) {
    return make_error("expected a Query event, got {}", event_type_name(event.header.type));
  }
  ByteReader reader(event.body);
  QueryEvent query;
  BRELAY_ASSIGN_OR_RETURN(query.thread_id, reader.u32("Query thread_id"));
  BRELAY_ASSIGN_OR_RETURN(query.exec_time, reader.u32("Query exec_time"));
  BRELAY_ASSIGN_OR_RETURN(std::uint8_t schema_length, reader.u8("Query schema length"));
  BRELAY_ASSIGN_OR_RETURN(query.error_code, reader.u16("Query error_code"));
  BRELAY_ASSIGN_OR_RETURN(std::uint16_t status_length, reader.u16("Query status-vars length"));
  BRELAY_ASSIGN_OR_RETURN(query.status_vars, reader.bytes(status_length, "Query status vars"));
  BRELAY_ASSIGN_OR_RETURN(query.schema, reader.text(schema_length, "Query schema"));
  BRELAY_ASSIGN_OR_RETURN(std::uint8_t terminator, reader.u8("Query schema terminator"));
  if (terminator != 0) return make_error("Query event: schema name is not NUL-terminated");
  query.query = reader.rest_text();
  return query;
}

QueryKind classify_query(std::string_view sql) {
  WordScanner words(sql);
  const std::string_view first = words.next();
  if (first == "begin") return QueryKind::kBegin;
  if (first == "commit") return QueryKind::kCommit;
  if (first == "savepoint") return QueryKind::kSavepoint;
  if (first == "start") return words.next() == "transaction" ? QueryKind::kBegin : QueryKind::kOther;
  if (first == "rollback") {
    std::string_view second = words.next();
    if (second == "work") second = words.next();
    return second == "to" ? QueryKind::kRollbackToSavepoint : QueryKind::kRollback;
  }
  if (first == "xa") {
    const std::string_view second = words.next();
    if (second == "start" || second == "begin") return QueryKind::kXaStart;
    if (second == "end") return QueryKind::kXaEnd;
    if (second == "prepare") return QueryKind::kXaPrepare;
    if (second == "commit") return QueryKind::kXaCommit;
    if (second == "rollback") return QueryKind::kXaRollback;
  }
  return QueryKind::kOther;
}

Result<std::string_view> parse_statement_text(const EventView& event) {
  if (event.header.type == EventType::kAnnotateRows) return as_text(event.body);
  if (event.header.type == EventType::kRowsQuery) {
    // The length byte is historical (it truncates at 255); the text runs to the end of the body.
    ByteReader reader(event.body);
    BRELAY_TRY(reader.skip(1, "Rows_query length"));
    return reader.rest_text();
  }
  return make_error("expected an Annotate_rows or Rows_query event, got {}",
                    event_type_name(event.header.type));
}

}  // namespace brelay::binlog
