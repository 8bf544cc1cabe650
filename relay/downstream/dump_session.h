// DumpSession: one binlog dump (COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID) streamed from the store
// to a replica or reader, as MySQL's Binlog_sender and MariaDB's mysql_binlog_send do it
// (protocol.md section 3):
//  - positioning: by (file, position), MySQL auto-positioning or MariaDB @slave_connect_state
//    (binlog_positioning.h), with the servers' ERR 1236 texts for what cannot be served;
//  - per file: a fake ROTATE (with a CRC when the replica announced CRC32 for the first one, then
//    when the binlog has them), the file's FDE with IN_USE cleared (log_pos and `created` 0 when the
//    dump starts past position 4; `created` 0 when a GTID dump skips the file's first transaction),
//    then the stored events in order; the stored FDE itself is not sent twice;
//  - GTID skipping: MySQL skips the groups the replica has (a heartbeat carries the position over a
//    skipped stretch; an anonymous transaction is an error; mysql_gtid_skipper.h); MariaDB skips
//    each domain's groups up to the replica's GTID and then sends a fake GTID_LIST
//    (mariadb_gtid_skipper.h);
//  - MariaDB replicas: ANNOTATE_ROWS only when asked for, and the capability < 4 replacements
//    (mariadb_compatibility.h);
//  - heartbeats (v1, or v2 for MySQL replicas that ask) every @master_heartbeat_period while idle,
//    never between a ROTATE and the next file's FDE (dump_extras.h);
//  - semi-sync: every packet in the envelope 0x00, 0xEF, flag (net::encode_dump_envelope_prefix),
//    the flag asking for an acknowledgement at each transaction's end; acknowledgements are recorded.
//  - the gate (dump_gate.h): the account's [[users]] delay and [server] hold_on_hazard may make
//    the dump wait before a stored event; heartbeats go on meanwhile;
//  - NON_BLOCK (or server_id 0): an EOF packet at the durable end, and the session goes back to the
//    command phase; otherwise the live tail: at the durable end the session waits for the writer's
//    next commit notification (no polling), then streams on.
// The per-event decisions are pure filters, tested without a socket; the session does the I/O.
// Back-pressure: events go out in PacketBatch gather writes of up to kReadBytes, straight from
// the reader's batch (store_reader.h: its copy buffer, or the map for a larger event); while
// anything is left unsent the session reads nothing more from the store and
// resumes on the socket's drain notification, so a slow replica costs at most one batch of memory
// and never slows the writer or other sessions (the read transaction ends after every batch).
// Who pays for the transmit path: with the kernel's default, a socket queues megabytes that the
// replica's window has no room for yet, and each window update the replica sends pushes them
// through the TCP stack (and, on loopback, the receive path too) from inside the replica's own
// recv(). That costs a client which is itself the bottleneck (mariadb-binlog --raw, a replica's
// IO thread, both writing files) CPU it needs, so it reads slower than from mariadbd. While the
// loop thread has time to spare (LoopSpareTime), the socket may therefore hold at most
// kUnsentBytes unsent (TCP_NOTSENT_LOWAT) and batches are kLimitedReadBytes: the relay wakes on
// the drain and transmits in its own context. When the loop is busy (many readers catching up) it
// goes back to the default and kReadBytes batches, letting the readers share that work again.
//
// Owned by the session's handler; loop thread only. The ServerSession outlives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "net/event_loop.h"
#include "net/lifetime_guard.h"
#include "net/server_session.h"
#include "net/timer.h"
#include "relay/binlog/mariadb_gtid_position.h"
#include "relay/binlog/transaction_boundary.h"
#include "relay/core/commit_notifier.h"
#include "relay/core/metrics.h"
#include "relay/downstream/binlog_positioning.h"
#include "relay/downstream/dump_extras.h"
#include "relay/downstream/dump_gate.h"
#include "relay/downstream/dump_request.h"
#include "relay/downstream/loop_spare_time.h"
#include "relay/downstream/mariadb_gtid_skipper.h"
#include "relay/downstream/mysql_gtid_skipper.h"
#include "relay/downstream/replica_registry.h"
#include "relay/downstream/server_variables.h"
#include "relay/downstream/stored_gtid_state.h"
#include "storage/binlog_store.h"
#include "storage/store_reader.h"

namespace brelay::relay::downstream {

// What a dump uses of the server; owned by the DownstreamServer.
struct DumpServices {
  net::EventLoop& loop;
  storage::BinlogStore& store;
  CommitNotifier& commits;
  StoredGtidState& gtids;
  ServerVariables& variables;
  ReplicaRegistry& registry;
  MetricsRegistry& metrics;
  std::uint32_t relay_server_id = 0;
  // Ends the dump running on another connection (a newer dump of the same replica started).
  std::function<void(std::uint32_t connection_id)> end_dump;
  LoopSpareTime spare_time{loop};
  // Set by the DownstreamServer: [server] hold_on_hazard and the [[users]] delays (dump_gate.h).
  const Config* config = nullptr;          // not owned
  const TargetHazards* hazards = nullptr;  // not owned
};

class DumpSession {
 public:
  // The most read from the store and sent per batch; also about the most a slow replica makes the
  // relay hold.
  static constexpr std::size_t kReadBytes = 512 * 1024;
  // The batch while the socket's unsent bytes are limited: small enough that the part the kernel
  // does not take at once (copied into the session) stays small.
  static constexpr std::size_t kLimitedReadBytes = 128 * 1024;
  // What the socket may hold beyond the replica's window while the loop has time to spare.
  static constexpr std::size_t kUnsentBytes = 128 * 1024;

  DumpSession(DumpServices& services, net::ServerSession& session, DumpRequest request);
  ~DumpSession();
  DumpSession(const DumpSession&) = delete;
  DumpSession& operator=(const DumpSession&) = delete;

  // Positions the dump and starts streaming. An error (code 1236 and the server's text, or
  // another MySQL code) means nothing was streamed: the caller answers the command with it.
  Status start();

  void on_drained();
  // A packet the replica sent while streaming (semi-sync acknowledgements).
  void on_stream_packet(ByteView payload);
  // Ends the dump with an ERR packet and closes the session (a newer dump of the same replica).
  void stop_with_error(const Error& error);
  // The error an older dump of the same replica ends with when a newer one starts.
  Error same_replica_error() const;

  bool finished() const { return state_ == State::kFinished; }
  const std::string& file() const { return file_name_; }
  std::uint64_t position() const { return position_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  // The last position the replica acknowledged under semi-sync (empty file: none yet).
  const std::pair<std::string, std::uint64_t>& acknowledged() const { return acknowledged_; }

 private:
  enum class State { kIdle, kStreaming, kWaitingForDrain, kWaitingForCommit, kWaitingForGate, kFinished };
  // An event parsed once, when a decision first needs its fields (defined in the .cc).
  struct LazyEvent;

  Status position_by_file();
  Status position_by_mysql_gtids();
  Status position_by_mariadb_state();
  // The fake ROTATE and FDE that open `file` at `position`.
  Status enter_file(net::PacketBatch& out, const storage::FileInfo& file, std::uint64_t position, bool first);
  void pump();
  // What add_events() took of a read batch: the bytes to consume, and whether that is all of it.
  struct AddedEvents {
    std::size_t bytes = 0;
    bool whole_batch = true;
    std::optional<DumpGate::Verdict> gated;  // the gate stopped the batch before an event
  };
  // Limits the socket's unsent bytes while the loop has time to spare and lifts the limit when it
  // has not (see the class comment); sets batch_bytes_ to match.
  void choose_who_transmits();
  // Adds whole events of one read batch until `out` holds batch_bytes_.
  Result<AddedEvents> add_events(const storage::ReadBatch& batch, net::PacketBatch& out);
  // One stored event: the filters decide (mysql_gtid_skipper.h, mariadb_gtid_skipper.h,
  // mariadb_compatibility.h, dump_extras.h), the session adds what goes out to `out`.
  Status add_event(ByteView event, std::uint64_t position, net::PacketBatch& out);
  // Each returns true when the event is skipped (what the skipper sends instead is in `out`).
  Result<bool> skip_for_mysql_gtids(LazyEvent& event, std::uint64_t position, std::uint64_t next,
                                    net::PacketBatch& out);
  Result<bool> skip_for_mariadb_state(LazyEvent& event, const binlog::EventBoundary& boundary,
                                      std::uint64_t next, net::PacketBatch& out);
  // The event as a MariaDB replica of the request's capability gets it; nullopt: left out.
  Result<std::optional<ByteView>> for_mariadb_replica(LazyEvent& event);
  Result<const binlog::EventView*> view_of(LazyEvent& event) const;
  Result<binlog::EventBoundary> track_boundary(LazyEvent& event);
  void add_fake_gtid_list(net::PacketBatch& out, std::uint64_t next);
  void add_packet(net::PacketBatch& out, ByteView event, bool ack_requested = false);
  // Synthesised events live here until their batch is sent.
  ByteView keep(Bytes event);
  void add_heartbeat(net::PacketBatch& out, std::uint64_t position);
  bool send(net::PacketBatch& batch);
  void wait_for_commit();
  void wait_for_gate(const DumpGate::Verdict& verdict);
  void arm_heartbeat();
  void on_heartbeat_timer();
  void finish_non_blocking();
  void fail(Error error);
  // "<message>; the first event 'f' at p, the last event read from 'f' at p, the last byte read from 'f' at
  // p."
  std::string with_coordinates(const std::string& message) const;
  // The 1236 a server sends for an event it cannot read: "bogus data in log event (<why>)", with
  // the coordinates.
  Error bogus_event(const Error& why) const;
  // The 1236 for a failed store read; damage is reported to the store and logged with its paths,
  // the replica gets the file and position only.
  Error read_error(const Error& why) const;
  std::uint32_t artificial_server_id();
  bool checksum_on() const { return event_checksum_ == binlog::ChecksumAlgorithm::kCrc32; }

  DumpServices& services_;
  net::ServerSession& session_;
  DumpRequest request_;
  ReplicationWording wording_;
  bool mariadb_source_ = false;
  // Semi-sync: acknowledgements are asked for only when the relay offers semi-sync (the replica's
  // request_.semi_sync alone gives MariaDB's 0xEF headers without requests).
  bool semi_sync_acks_ = false;
  // A start inside an event: the error goes out after the fake ROTATE and the FDE, as the source
  // sends them before it reads the event at the position.
  std::optional<Error> opening_error_;
  State state_ = State::kIdle;
  std::optional<storage::StoreReader> reader_;
  std::optional<CommitNotifier::SubscriptionId> subscription_;
  net::Timer heartbeat_timer_;
  DumpGate gate_;
  net::Timer gate_timer_;
  std::string logged_hold_;  // "file:pos" of the last hold logged (each hold is logged once)
  std::deque<Bytes> synthesized_;

  // Where the stream is.
  std::string start_file_;
  std::uint64_t start_position_ = 4;
  std::string file_name_;
  std::uint64_t file_first_position_ = 4;
  std::uint64_t position_ = 0;  // the next byte of `file_name_` to send (or skip)
  std::uint64_t last_event_position_ = 0;
  bool skip_stored_fde_ = false;
  bool last_sent_rotate_ = false;
  // The binlog's checksum algorithm as far as the stream knows it (fake events carry a CRC by it);
  // before the first FDE, the replica's announced one (MySQL's m_event_checksum_alg).
  binlog::ChecksumAlgorithm event_checksum_ = binlog::ChecksumAlgorithm::kUndefined;
  std::chrono::steady_clock::time_point last_send_time_;

  // MySQL auto-positioning (set for COM_BINLOG_DUMP_GTID).
  std::optional<MysqlGtidSkipper> mysql_skipper_;
  bool clear_created_in_first_fde_ = false;
  // MariaDB GTID positioning (set when the replica set @slave_connect_state).
  std::optional<MariadbGtidSkipper> mariadb_skipper_;
  HeartbeatPolicy heartbeats_{std::chrono::nanoseconds(0)};
  // Transaction ends, for MariaDB group skipping and semi-sync acknowledgement requests.
  binlog::TransactionBoundaryTracker tracker_;
  bool track_transactions_ = false;
  bool unsent_limited_ = false;
  std::size_t batch_bytes_ = kReadBytes;
  // The stretch of the file that readers of its map checked already (ReadBatch::checked_begin).
  std::pair<std::uint64_t, std::uint64_t> checked_;

  std::uint64_t bytes_sent_ = 0;
  std::uint64_t events_sent_ = 0;
  std::pair<std::string, std::uint64_t> acknowledged_;
  Counter* bytes_counter_ = nullptr;
  Counter* events_counter_ = nullptr;
  net::LifetimeGuard lifetime_;
};

}  // namespace brelay::relay::downstream
