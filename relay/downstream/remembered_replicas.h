// RememberedReplicas: every replica that dumped from the relay, kept durably in the store's
// `replicas` database (storage/replica_record.h) with who it is (server_id, uuid, account, the
// address it connected from), where its stream continues (file:position, and the GTID state it
// asked from when it positions by GTID) and when it was first and last seen. Retention keeps what a
// remembered replica needs for [storage] replica_grace after it was last seen when protect_replicas
// is on (retention_scheduler.h); SHOW RELAY REPLICAS lists them, FORGET REPLICA drops one.
//
// Which dumps: those that follow the stream (not NON_BLOCK, server_id not 0); a one-shot reader
// (mariadb-binlog without --stop-never) is not remembered. A replica is keyed by its server_id:
// a dump with the server_id of a remembered replica is that replica.
//
// Writes are bounded: a record is written when its dump starts and ends, and while it streams at
// most every kFlushInterval when its position moved (and every kRefreshInterval to refresh its
// last_seen), all changed records in one transaction, run on the storage writer's thread
// (StoreWriter::request_replica_update) before any purge queued after it. A position recorded
// while streaming is the last one sent, so the durable record is never ahead of the replica by
// more than what it had not yet received when it went away.
//
// Owned by the DownstreamServer; loop thread only; the RelayContext must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/mysql_packets.h"
#include "net/timer.h"
#include "relay/core/relay_context.h"
#include "relay/downstream/replica_registry.h"
#include "storage/replica_record.h"

namespace brelay::relay::downstream {

// One remembered replica as operators see it.
struct RememberedReplica {
  storage::ReplicaRecord record;
  std::optional<std::uint32_t> connection_id;  // set while a dump of it runs
  // Until when retention keeps what it needs (Unix seconds); nullopt: while connected (always),
  // or not at all when protect_replicas is off.
  std::optional<std::int64_t> protected_until;
  double headroom_seconds = 0;  // replica_headroom.h
};

class RememberedReplicas final : public DumpObserver {
 public:
  static constexpr std::chrono::milliseconds kFlushInterval{3000};
  static constexpr std::chrono::seconds kRefreshInterval{60};

  explicit RememberedReplicas(RelayContext& context);
  ~RememberedReplicas() override;
  RememberedReplicas(const RememberedReplicas&) = delete;
  RememberedReplicas& operator=(const RememberedReplicas&) = delete;

  // Loads the records from the store; a damaged record is logged (ERROR, naming FORGET REPLICA)
  // and left out. Errors: the store cannot be read.
  Status load();
  // Writes what changed and stops the timer (shutdown).
  void stop();

  void on_dump_started(const ActiveDump& dump) override;
  void on_dump_moved(const ActiveDump& dump) override;
  void on_dump_ended(const ActiveDump& dump) override;

  // FORGET REPLICA: drops the record of `server_id` (also a damaged one). Errors: none is
  // remembered; its dump runs (KILL it and stop the replica first).
  Status forget(std::uint32_t server_id);

  // Every remembered replica, by server_id, with its protection and headroom as of now.
  std::vector<RememberedReplica> list() const;
  std::size_t size() const { return replicas_.size(); }
  // Refreshes binlog_relay_replica_retention_headroom_seconds{replica} (a metrics collector).
  void collect_metrics();

  // The result set of SHOW RELAY REPLICAS.
  net::ResultSet show() const;

 private:
  struct Entry {
    storage::ReplicaRecord record;
    std::optional<std::uint32_t> connection_id;
    bool dirty = false;
    std::int64_t written_last_seen = 0;  // last_seen as last written
  };

  Entry* entry_of(const ActiveDump& dump);
  // Writes the dirty records now (on the writer thread); `forget` too.
  void flush(std::vector<std::uint32_t> forget = {});
  void arm_timer();

  RelayContext& context_;
  std::map<std::uint32_t, Entry> replicas_;  // by server_id
  std::set<std::uint32_t> damaged_;          // server_ids whose stored record could not be read
  std::set<std::string> exported_;           // server_ids with a headroom series
  net::Timer timer_;
  bool stopped_ = false;
  std::string last_error_;  // the last write error logged (logged once until it changes)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace brelay::relay::downstream
