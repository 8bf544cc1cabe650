// Upstream: the relay's replica connection to its source. It connects with the configured account
// and TLS mode, runs the replica's setup (SourceSetup), asks for the binlog from where the store
// ends (by file and position, or by GTID), and feeds every event through the BinlogStreamHandler
// into WriteBatches for the StoreWriter. It applies the writer's back-pressure to the socket,
// acknowledges semi-sync transactions once the writer reports them durable, and reconnects after
// any failure with exponential back-off (ReconnectBackoff) from the end of the last complete
// transaction it handed the writer. When the source no longer has the binlog the relay needs, or
// refuses the relay's configuration, it stops pulling with an error saying what is missing and
// what to do; the rest of the relay keeps serving what is stored. When the writer stops (full
// disk), pulling pauses and resumes from the writer's durable end once it accepts events again.
//
// It keeps the source's identity in RelayContext::source and in the store, an UpstreamStatus for
// operators, and the upstream metrics in RelayContext::metrics.
//
// The Daemon owns it; loop thread only. The context must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/mysql_client.h"
#include "net/timer.h"
#include "relay/core/metrics.h"
#include "relay/core/relay_context.h"
#include "relay/upstream/binlog_stream_handler.h"
#include "relay/upstream/dump_refusal.h"
#include "relay/upstream/failover_candidate.h"
#include "relay/upstream/hazard_guard.h"
#include "relay/upstream/reconnect_backoff.h"
#include "relay/upstream/semi_sync_acknowledger.h"
#include "relay/upstream/source_setup.h"
#include "relay/upstream/upstream_status.h"
#include "storage/write_batch.h"

namespace brelay::relay {

class Upstream {
 public:
  using StateListener = std::function<void(const UpstreamStatus&)>;

  explicit Upstream(RelayContext& context);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // Starts pulling from where the store ends (or [source] start_file on an empty store). Errors:
  // the store's end could not be read.
  Status start();
  // Stops pulling: closes the connection and hands the writer the end of the stream (dropping the
  // unfinished transaction), so that StoreWriter::stop() commits exactly the complete transactions
  // received. Idempotent.
  void stop();

  const UpstreamStatus& status() const { return status_; }
  // Called after every state change (the daemon reports it to systemd).
  void set_state_listener(StateListener listener) { state_listener_ = std::move(listener); }

 private:
  struct Connection;

  Status restore_from_store(const std::optional<storage::ResumePoint>& end);
  net::ClientOptions client_options() const;
  net::ClientOptions client_options(const net::HostPort& host) const;
  void connect();
  void on_connected(Connection* connection, const Status& status);
  void on_setup_done(Connection* connection, Result<SourceSetupResult> result);
  void on_stream_packet(Connection* connection, ByteView payload);
  void on_stream_end(Connection* connection, const Status& status);
  // A dump the source refused (is_dump_refused): probes the source's binary logs, then stops.
  void on_dump_refused(const Error& error);
  // Stops with the "purged" or "source_refused" error, decided by classify_dump_refusal().
  void report_dump_refusal(const Error& error, const SourceBinlogs& binlogs);
  // The current dump is a MySQL auto-positioned one (COM_BINLOG_DUMP_GTID).
  bool mysql_gtid_dump() const;
  void on_progress(const storage::StoreWriter::Progress& progress);
  void on_writer_stopped(const Error& error);
  void check_liveness();

  // Closes `connection` and destroys it on the next loop iteration (its callbacks are ignored).
  void retire(std::unique_ptr<Connection> connection);
  // Ends the current connection: the handler drops the unfinished transaction, what is batched
  // goes to the writer, pending acknowledgements are forgotten.
  void drop_connection();
  // A failure worth retrying: drop the connection, count and log it, reconnect after the back-off
  // (or at once).
  void connection_failed(std::string_view kind, const Error& error, bool retry_at_once = false);
  // A failure retrying cannot fix: drop the connection and stop pulling.
  void stop_with_error(std::string_view kind, const std::string& message);

  void submit_batch();
  // A batch to fill from the writer's spares, with room reserved.
  void next_batch();
  void schedule_flush();
  void send_due_acknowledgement(const storage::ResumePoint& durable_end);
  // From the last stored event's timestamp, or 0 when a heartbeat showed the stream at the source's end.
  void update_seconds_behind();
  // Where the next connection starts, for log lines ("mysql-bin.000003:1234" or "the start").
  std::string resume_description() const;
  void set_state(UpstreamState state);
  void count_error(std::string_view kind);
  void keep_source_identity(const SourceIdentity& identity);
  // The identity of the connection's setup, once its dump streams (identity_pending_).
  void keep_pending_identity();

  // Failover ([source] hosts, upstream_failover.cc): once the current source has been gone for
  // failover_after, asks each listed server in turn (candidate_probe_query) and continues from the
  // first one judge_*_candidate accepts; refused ones are logged with the GTIDs that differ.
  bool failover_configured() const;
  const net::HostPort& current_host() const;
  // How long to wait before the next attempt, and whether that attempt is a failover round.
  bool failover_due() const;
  void start_failover();
  // A restarted relay continues from the server it followed last (kept in relay_meta at each
  // switch), not from the first listed one, which may be the dead or demoted old primary.
  void restore_followed_host();
  // Logs, counts and keeps for SHOW RELAY STATUS a refused candidate, with the catch-up advice when
  // the relay holds what it lacks.
  void refuse_candidate(const net::HostPort& host, bool mariadb, const CandidateJudgement& judgement);
  void probe_candidate(std::size_t index, std::size_t remaining);
  CandidateJudgement judge_candidate(bool mariadb, const net::QueryResult& reply);
  void switch_to(std::size_t index);
  void set_source_label(const std::string& address);

  RelayContext& context_;
  const SourceConfig& config_;
  BinlogStreamHandler handler_;
  HazardGuard hazard_guard_;
  SemiSyncAcknowledger acknowledger_;
  ReconnectBackoff backoff_;
  UpstreamStatus status_;
  StateListener state_listener_;

  std::unique_ptr<Connection> connection_;
  std::unique_ptr<Connection> probe_;      // asks SHOW BINARY LOGS after the source refused the dump
  std::unique_ptr<Connection> candidate_;  // a failover candidate being asked its role and GTIDs
  std::size_t host_index_ = 0;             // the current source in [source] hosts
  std::string round_refusals_;             // the refusals of the failover round under way
  std::uint64_t source_alive_ms_ = 0;      // uv_now() when the current source last sent a packet
  std::uint64_t lost_source_ms_ = 0;       // set by a switch until the new source's first event is stored
  std::string source_label_;               // binlog_relay_source_info's source label
  std::vector<std::unique_ptr<Connection>> retired_;  // destroyed on the next loop iteration
  net::Timer retire_timer_;
  net::Timer reconnect_timer_;
  net::Timer flush_timer_;
  net::Timer liveness_timer_;

  storage::WriteBatch batch_;
  DumpRequest request_;
  SourceSetupResult setup_;
  bool started_ = false;
  bool shut_down_ = false;
  bool stopped_with_error_ = false;
  bool force_file_position_ = false;  // the next dump by file/position (a GTID dump started elsewhere)
  bool stream_paused_ = false;        // the writer's queue is full
  bool writer_stopped_ = false;
  std::uint64_t writer_restarts_seen_ = 0;
  std::optional<CommitNotifier::SubscriptionId> subscription_;
  bool stored_on_this_connection_ = false;
  bool identity_pending_ = false;       // setup_.identity is kept once the first stream packet is handled
  std::uint64_t last_activity_ms_ = 0;  // uv_now() of the last packet (or of the state change)
  std::uint32_t last_event_timestamp_ = 0;
  bool caught_up_ = false;  // the last heartbeat named the position the stream had reached
  std::uint64_t unreported_bytes_ = 0;
  std::uint64_t unreported_events_ = 0;

  Gauge& connected_gauge_;
  Gauge& seconds_behind_gauge_;
  Counter& received_bytes_counter_;
  Counter& received_events_counter_;
  Counter& reconnects_counter_;
  Counter& acknowledgements_counter_;
  Counter& switches_counter_;
};

}  // namespace brelay::relay
