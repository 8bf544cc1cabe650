#include "relay/binlog/transaction_boundary.h"

#include "relay/binlog/gtid_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/query_event.h"

namespace brelay::binlog {

std::string TransactionGtid::to_string() const {
  switch (kind) {
    case Kind::kNone: return "";
    case Kind::kAnonymous: return "ANONYMOUS";
    case Kind::kMysql: return mysql.to_string();
    case Kind::kMariadb: return mariadb.to_string();
  }
  return "";
}

void TransactionBoundaryTracker::reset() {
  state_ = State::kIdle;
  gtid_ = {};
}

EventBoundary TransactionBoundaryTracker::start(State next, bool ends) {
  EventBoundary boundary{.starts_transaction = true, .in_transaction = true, .ends_transaction = ends};
  state_ = ends ? State::kIdle : next;
  if (ends) ++completed_;
  return boundary;
}

EventBoundary TransactionBoundaryTracker::finish() {
  state_ = State::kIdle;
  ++completed_;
  return {.starts_transaction = false, .in_transaction = true, .ends_transaction = true};
}

Result<EventBoundary> TransactionBoundaryTracker::feed_gtid(const EventView& event) {
  if (state_ != State::kIdle) {
    return make_error(
        "{} event at log_pos {} while the transaction {} is still open: the stream lost the "
        "end of a transaction",
        event_type_name(event.header.type), event.header.log_pos,
        gtid_.kind == TransactionGtid::Kind::kNone ? "without GTID" : gtid_.to_string());
  }
  TransactionGtid gtid;
  State next = State::kAfterGtid;
  if (event.header.type == EventType::kMariadbGtid) {
    BRELAY_ASSIGN_OR_RETURN(MariadbGtidEvent parsed, parse_mariadb_gtid(event));
    gtid.kind = TransactionGtid::Kind::kMariadb;
    gtid.mariadb = parsed.gtid;
    // A MariaDB GTID is itself the BEGIN of its group (no BEGIN query follows), unless it is
    // standalone: then the single statement that follows is the whole group.
    if (!parsed.standalone()) next = State::kInTransaction;
  } else {
    BRELAY_ASSIGN_OR_RETURN(GtidEvent parsed, parse_gtid_event(event));
    gtid.kind = parsed.anonymous ? TransactionGtid::Kind::kAnonymous : TransactionGtid::Kind::kMysql;
    gtid.mysql = parsed.gtid;
  }
  gtid_ = gtid;
  return start(next, false);
}

Result<EventBoundary> TransactionBoundaryTracker::feed_query(const EventView& event) {
  const EventBoundary inside{.starts_transaction = false, .in_transaction = true, .ends_transaction = false};
  BRELAY_ASSIGN_OR_RETURN(QueryEvent query, parse_query(event));
  const QueryKind kind = classify_query(query.query);
  const bool opens = kind == QueryKind::kBegin || kind == QueryKind::kXaStart;
  switch (state_) {
    case State::kIdle: gtid_ = {}; return start(State::kInTransaction, !opens);
    case State::kAfterGtid:
      if (opens) {
        state_ = State::kInTransaction;
        return inside;
      }
      return finish();
    case State::kInTransaction:
      if (kind == QueryKind::kCommit || kind == QueryKind::kRollback || kind == QueryKind::kXaCommit ||
          kind == QueryKind::kXaRollback) {
        return finish();
      }
      return inside;
  }
  return inside;
}

Result<EventBoundary> TransactionBoundaryTracker::feed(const EventView& event) {
  const EventBoundary inside{.starts_transaction = false, .in_transaction = true, .ends_transaction = false};
  switch (event.header.type) {
    case EventType::kGtid:
    case EventType::kAnonymousGtid:
    case EventType::kGtidTagged:
    case EventType::kMariadbGtid: return feed_gtid(event);
    case EventType::kQuery: return feed_query(event);
    case EventType::kQueryCompressed:
      // A compressed statement is never BEGIN/COMMIT (too short to be compressed): a statement.
      if (state_ == State::kIdle) {
        gtid_ = {};
        return start(State::kIdle, true);
      }
      if (state_ == State::kAfterGtid) return finish();
      return inside;
    case EventType::kXid:
    case EventType::kXaPrepare:
    case EventType::kTransactionPayload:
      if (state_ == State::kIdle) {
        gtid_ = {};
        return start(State::kIdle, true);
      }
      return finish();
    case EventType::kIntvar:
    case EventType::kRand:
    case EventType::kUserVar:
      if (state_ == State::kIdle) {
        gtid_ = {};
        return start(State::kAfterGtid, false);
      }
      return inside;
    case EventType::kRotate:
    case EventType::kFormatDescription:
    case EventType::kHeartbeat:
    case EventType::kHeartbeatV2:
    case EventType::kPreviousGtids:
    case EventType::kGtidList:
    case EventType::kBinlogCheckpoint:
    case EventType::kStop:
    case EventType::kIncident:
    case EventType::kStartEncryption:
    case EventType::kStart_v3: return EventBoundary{};
    default:
      // Table maps, rows, annotations and unknown types belong to the open transaction, if any.
      // Row changes right after a GTID mean a multi-event transaction even without BEGIN.
      if (state_ == State::kIdle) return EventBoundary{};
      if (state_ == State::kAfterGtid &&
          (event.header.type == EventType::kTableMap || is_rows_event(event.header.type))) {
        state_ = State::kInTransaction;
      }
      return inside;
  }
}

}  // namespace brelay::binlog
