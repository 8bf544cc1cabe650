// BinlogStreamHandler: the upstream's stream logic, without I/O. It is fed the events of a binlog
// dump stream one at a time, checks each one, and appends what belongs to the source's binlog files
// to a storage::WriteBatch, so that the store ends up with every byte of every file exactly once:
//
//  - every event's CRC is verified before it is stored (the FORMAT_DESCRIPTION's always; the others
//    when the file's FDE says CRC32; artificial events per the algorithm the stream uses);
//  - not stored: the fake ROTATE that opens each file of a dump, the FDE a dump re-sends when it
//    starts past position 4 (log_pos 0), heartbeats, anything flagged artificial (MariaDB's fake
//    GTID_LIST);
//  - stored, at its own position: everything else. Positions are contiguous: an event must start
//    exactly where the previous one ended (log_pos - event_size); a gap or an overlap is an error
//    and nothing of that event is stored;
//  - a new file begins in the store when its first events arrive (its FDE is held until the next
//    event, whose PREVIOUS_GTIDS / GTID_LIST gives the file's previous-GTID blob); a real ROTATE
//    ends the file; a file that ends without one (a STOP event, a source restart) ends when the
//    dump moves on to the next file;
//  - transaction boundaries (binlog::TransactionBoundaryTracker) are marked on the events; GTIDs
//    become store keys and the executed GTID state travels with each boundary (stored_gtids.h);
//  - a GTID dump restarts at position 4 of the file holding the relay's position: what the relay
//    already stored is recognised by position and dropped.
// When the connection ends, end_connection() drops the unfinished transaction (abandon_transaction)
// and the handler is back at the last boundary, where the next dump starts (plan_dump()).
//
// After an error the event was not stored; the caller ends the connection. Loop thread only (one
// handler per upstream); no allocation per event on the common path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/gtid_set.h"
#include "relay/binlog/mariadb_gtid_position.h"
#include "relay/binlog/transaction_boundary.h"
#include "relay/core/source_identity.h"
#include "storage/store_types.h"
#include "storage/write_batch.h"

namespace brelay::relay {

// The relay meta key under which the upstream records where the source continues after a file it
// closed with a ROTATE (a storage::NextFileRecord), so that a restarted relay asks
// for the next file directly (the closed one may be purged on the source by then).
inline constexpr std::string_view kUpstreamNextFileMetaKey = "upstream_next_file";

// Where the stored stream ends, as the store knows it at start (or after the writer restarted).
struct StoredStreamEnd {
  std::optional<storage::ResumePoint> durable_end;  // nullopt: the store is empty
  bool file_closed = false;                         // durable_end's file ended with a ROTATE
  std::string next_file;                            // the file that ROTATE named ("" unknown)
  std::uint64_t next_position = 4;
};

// How a connection asks the source for its binlog.
struct DumpRequest {
  enum class Kind { kFilePosition, kGtid };
  Kind kind = Kind::kFilePosition;
  std::string file;            // kFilePosition: the file ("" = the source's first binlog)
  std::uint64_t position = 4;  // kFilePosition: where in it
  // kGtid: the executed state to send (MariaDB @slave_connect_state text; MySQL set).
  binlog::MariadbGtidPosition mariadb_state;
  binlog::GtidSet mysql_set;

  std::string describe() const;  // "mysql-bin.000003:1234" or "GTID state 0-1-55"
};

// What went wrong with the last event handed to handle_event (for metrics and for the retry plan).
enum class StreamFault {
  kNone,
  kChecksum,       // an event's CRC did not match
  kMalformed,      // an event that does not parse (size, header, body)
  kPosition,       // a gap, an overlap, or a file the stream should not be in
  kGtidStartFile,  // a GTID dump started in a file other than the one the store continues
  kTransaction,    // the transaction structure broke (a file ended inside a transaction, ...)
};
std::string_view to_string(StreamFault fault);

// What one event was.
struct EventOutcome {
  enum class Kind { kStored, kAlreadyStored, kHeartbeat, kArtificial };
  Kind kind = Kind::kStored;
  binlog::EventHeader header;
  // The event ends at this position of the source file (its log_pos), or a heartbeat's position.
  std::uint64_t source_position = 0;
  // Heartbeats and fake ROTATEs: the file they name (a view into the event, valid during the call).
  std::string_view source_file;
  bool boundary = false;    // a stored event that ends a transaction or stands outside one
  bool began_file = false;  // this event began a new file in the store (file() names it)
  bool ended_file = false;  // a file ended (by this ROTATE, or before the new file began)
};

class BinlogStreamHandler {
 public:
  BinlogStreamHandler() = default;

  // Continues after what the store holds. Decoding the stored GTID state waits for the flavour
  // (begin_connection).
  void restore(const StoredStreamEnd& end);

  // How the next connection should ask for the binlog: by GTID when `prefer_gtid` and the store's
  // end lies inside a file that is still open (a GTID dump restarts at the start of that file),
  // otherwise by file and position (on an empty store: `start_file`/`start_position`, "" = the
  // source's first binlog).
  DumpRequest plan_dump(bool prefer_gtid, Flavor flavor, const std::string& start_file,
                        std::uint64_t start_position);

  // A new connection streams what `request` asked for; `announced` is the checksum algorithm the
  // relay announced (@master_binlog_checksum), which the first artificial events use.
  void begin_connection(const DumpRequest& request, binlog::ChecksumAlgorithm announced, Flavor flavor);

  // The next connections are to another server, after a failover ([source] hosts): plan_dump asks
  // by GTID even after a closed file, and the dump may begin in a file of another name, which the
  // relay stores from the new server's first transaction it lacks (FileStart at that position,
  // the stored GTID state as the file's previous GTIDs). Ends once that file has begun.
  void expect_new_source() { joining_new_source_ = true; }
  bool joining_new_source() const { return joining_new_source_; }

  // Handles one event (the packet without its 0x00 and semi-sync prefix). The event is appended to
  // `batch` when it belongs to the store. Errors: the event was not stored; last_fault() says why.
  Result<EventOutcome> handle_event(ByteView event, storage::WriteBatch& batch);

  // The connection ended: drops the events of the unfinished transaction (an abandon_transaction
  // in `batch` when some were appended) and any file announced but not begun.
  void end_connection(storage::WriteBatch& batch);

  StreamFault last_fault() const { return last_fault_; }

  // The stream as handed to the writer: the current file, where its next event starts, and the
  // last transaction boundary (where a new connection resumes).
  bool empty() const { return file_.empty(); }
  const std::string& file() const { return file_; }
  std::uint64_t next_position() const { return next_position_; }
  std::uint64_t boundary_position() const { return boundary_position_; }
  bool file_closed() const { return file_closed_; }
  // Where the store's copy of file() begins (4 unless a dump started past it on an empty store).
  std::uint64_t file_first_position() const { return file_first_position_; }
  // Counts the files begun since restore(), so that stream order can be compared across files
  // (semi-sync acknowledgements); the restored file is 0.
  std::uint64_t file_ordinal() const { return file_ordinal_; }
  bool in_transaction() const { return !tracker_.at_boundary(); }
  const binlog::TransactionGtid& last_gtid() const { return tracker_.current_gtid(); }
  // The checksum algorithm of the events now arriving.
  binlog::ChecksumAlgorithm checksum_algorithm() const { return checksum_; }
  // The executed GTID state as of the last boundary.
  const binlog::MariadbGtidPosition& mariadb_state() const { return mariadb_state_; }
  const binlog::GtidSet& mysql_executed() const { return mysql_executed_; }

 private:
  struct PendingFile {
    std::string name;
    std::uint64_t first_position = 4;  // where its first stored event starts
    Bytes format_description;          // empty until the FDE arrived
    std::uint64_t next_position = 4;   // where the event after the FDE starts
  };

  // Both record `fault` as last_fault() and give back `error`.
  Result<EventOutcome> fail(StreamFault fault, Error error);
  Error fault(StreamFault fault, Error error);
  Result<EventOutcome> handle_fake_rotate(const binlog::EventView& view, EventOutcome outcome,
                                          storage::WriteBatch& batch);
  // The fake ROTATE that opens a dump: where the source begins must be where the store continues.
  Result<EventOutcome> begin_dump_at(std::string_view name, std::uint64_t position, EventOutcome outcome);
  // A later fake ROTATE: the dump moved on to the next file, the current one is complete.
  Result<EventOutcome> continue_with_file(std::string_view name, std::uint64_t position, EventOutcome outcome,
                                          storage::WriteBatch& batch);
  // While joining a new source: drops what precedes its first new transaction (its file's header
  // events, replays), then begins the file at that transaction.
  Result<EventOutcome> join_new_source(const binlog::EventView& view, std::uint64_t position,
                                       EventOutcome outcome, storage::WriteBatch& batch);
  Result<EventOutcome> handle_format_description(const binlog::EventView& view, EventOutcome outcome);
  Result<EventOutcome> store_event(const binlog::EventView& view, std::uint64_t position,
                                   EventOutcome outcome, storage::WriteBatch& batch);
  // Whether an event continues the stream exactly: true when a GTID dump resent what the relay
  // stored already (`outcome` then says so); an error (a gap, an overlap, ...) otherwise.
  Result<bool> check_position(binlog::EventType type, std::uint64_t position, std::uint64_t size,
                              EventOutcome& outcome);
  // Appends the checked event to `batch` and advances the stream; `outcome` becomes kStored.
  void append_event(const binlog::EventView& view, std::uint64_t position, bool starts_transaction,
                    bool boundary, EventOutcome& outcome, storage::WriteBatch& batch);
  // Begins the announced file; `second_event` (the one after its FDE) gives its previous GTIDs.
  Status begin_pending_file(std::optional<binlog::EventView> second_event, storage::WriteBatch& batch);
  void decode_restored_gtid_state(Flavor flavor);
  ByteView executed_blob();

  // The stream as handed to the writer.
  std::string file_;
  std::uint64_t next_position_ = 0;
  std::uint64_t boundary_position_ = 0;
  bool file_closed_ = false;
  std::uint64_t file_first_position_ = 4;
  std::string next_file_;
  std::uint64_t next_file_position_ = 4;
  std::uint64_t file_ordinal_ = 0;

  // The current connection.
  DumpRequest request_;
  Flavor flavor_ = Flavor::kMysql;
  binlog::ChecksumAlgorithm checksum_ = binlog::ChecksumAlgorithm::kOff;
  bool expect_fake_rotate_ = true;
  // A GTID dump re-reads the current file from position 4: events that end at or before this
  // position are already stored and are dropped.
  std::uint64_t already_stored_until_ = 0;
  std::optional<PendingFile> pending_file_;
  bool joining_new_source_ = false;  // expect_new_source() until the new file began
  bool joining_file_ = false;        // pending_file_ is the new source's, awaiting its first transaction
  Bytes joining_previous_gtids_;     // the previous-GTID blob of that file
  binlog::TransactionBoundaryTracker tracker_;
  StreamFault last_fault_ = StreamFault::kNone;

  // The executed GTID state as of the last boundary, and its stored encoding.
  binlog::GtidSet mysql_executed_;
  binlog::MariadbGtidPosition mariadb_state_;
  bool gtid_state_known_ = false;  // false: restored from a store without a usable state
  Bytes restored_blob_;
  bool blob_pending_decode_ = false;
  Bytes executed_blob_;
  bool executed_blob_stale_ = true;
};

}  // namespace brelay::relay
