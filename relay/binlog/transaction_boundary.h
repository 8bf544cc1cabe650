// TransactionBoundaryTracker: fed the events of a binlog stream one at a time, tells whether each
// event starts, continues or ends a transaction, whether the stream is at a boundary, and which
// GTID the current transaction has (protocol.md section 4). Both flavours:
//  - a transaction starts at GTID / ANONYMOUS_GTID / GTID_TAGGED / MariaDB GTID (or, in binlogs
//    without GTID events, at BEGIN, a standalone statement, or the INTVAR/RAND/USER_VAR before it);
//  - BEGIN or XA START opens a multi-event transaction that ends at XID, XA_PREPARE, COMMIT,
//    ROLLBACK (not ROLLBACK TO), XA COMMIT or XA ROLLBACK; so do row events right after a GTID;
//  - a MariaDB GTID without FL_STANDALONE is itself the BEGIN (MariaDB logs no BEGIN or XA START
//    query after it: "GTID, rows, XID", "GTID, INSERT, INSERT, ROLLBACK", "GTID, rows, XA END,
//    XA_PREPARE"); a standalone one covers the single statement that follows;
//  - any other statement directly after the GTID is a standalone statement (DDL) and ends it;
//  - TRANSACTION_PAYLOAD after a GTID ends it;
//  - ROTATE, FORMAT_DESCRIPTION, heartbeats, PREVIOUS_GTIDS, GTID_LIST, BINLOG_CHECKPOINT, STOP,
//    INCIDENT, START_ENCRYPTION stand outside transactions and change nothing.
// Cheap: no allocation per event (statement texts are classified in place). One tracker per
// stream; not thread-safe.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/gtid.h"
#include "relay/binlog/mariadb_gtid_position.h"

namespace brelay::binlog {

// The identity of a transaction: none (binlogs without GTIDs), MySQL anonymous, MySQL GTID or
// MariaDB GTID.
struct TransactionGtid {
  enum class Kind : std::uint8_t { kNone, kAnonymous, kMysql, kMariadb };
  Kind kind = Kind::kNone;
  Gtid mysql;           // valid for kMysql
  MariadbGtid mariadb;  // valid for kMariadb

  std::string to_string() const;  // "", "ANONYMOUS", "uuid:n", "d-s-n"
  friend bool operator==(const TransactionGtid&, const TransactionGtid&) = default;
};

// What one event means for the stream's transactions.
struct EventBoundary {
  bool starts_transaction = false;  // the event opens a transaction
  bool in_transaction = false;      // the event belongs to a transaction (first, middle or last)
  bool ends_transaction = false;    // after this event the stream is at a boundary again
};

class TransactionBoundaryTracker {
 public:
  // Classifies `event` and advances the state. Errors (the state is then unchanged): a GTID event
  // while a transaction is open (the stream lost the end of a transaction), or a malformed GTID or
  // Query event.
  Result<EventBoundary> feed(const EventView& event);

  // True when no transaction is open: the stream may be cut (stored, resumed) here.
  bool at_boundary() const { return state_ == State::kIdle; }
  // The GTID of the open transaction, or of the last one completed when at a boundary.
  const TransactionGtid& current_gtid() const { return gtid_; }
  // Completed transactions so far.
  std::uint64_t completed_transactions() const { return completed_; }
  // Forgets any open transaction (a new connection starts at a boundary).
  void reset();

 private:
  enum class State : std::uint8_t {
    kIdle,           // at a boundary
    kAfterGtid,      // MySQL or standalone MariaDB GTID (or INTVAR/RAND/USER_VAR) seen; the next
                     // statement decides
    kInTransaction,  // BEGIN / XA START / MariaDB GTID seen; waiting for its end
  };

  EventBoundary start(State next, bool ends);
  EventBoundary finish();
  // feed() for the events that carry a GTID (MySQL, anonymous, tagged, MariaDB) and for QUERY.
  Result<EventBoundary> feed_gtid(const EventView& event);
  Result<EventBoundary> feed_query(const EventView& event);

  State state_ = State::kIdle;
  TransactionGtid gtid_;
  std::uint64_t completed_ = 0;
};

}  // namespace brelay::binlog
