// What the stored binlog has executed, for @@gtid_executed / @@gtid_purged (MySQL), @@gtid_binlog_pos
// / @@gtid_binlog_state / @@gtid_current_pos (MariaDB), SHOW MASTER STATUS and GTID positioning.
//
// The executed state is the newest file's previous-GTID set plus the GTIDs of the transactions
// stored in it up to the durable end. Scanning is incremental: the state of the newest file is
// kept with the position scanned to, and each call reads only what became durable since. The
// purged state is the oldest file's previous-GTID set (what retention removed is before it).
//
// Loop thread only (it reads the store with short-lived readers); borrows the store.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "relay/binlog/gtid_set.h"
#include "relay/binlog/mariadb_gtid_position.h"
#include "storage/binlog_store.h"

namespace brelay::relay::downstream {

// MariaDB's binlog state: the last sequence number of every (domain, server) pair, and per domain
// the last GTID logged (what @@gtid_binlog_pos shows).
class MariadbBinlogState {
 public:
  // Replaces the state with a GTID_LIST's entries (in list order: the last of a domain is its last).
  void load(const std::vector<binlog::MariadbGtid>& list);
  void update(const binlog::MariadbGtid& gtid);

  // The seq_no last logged by `server_id` in `domain_id`.
  std::optional<std::uint64_t> find(std::uint32_t domain_id, std::uint32_t server_id) const;
  // The last GTID logged in `domain_id`.
  const binlog::MariadbGtid* last_in_domain(std::uint32_t domain_id) const { return last_.find(domain_id); }

  const binlog::MariadbGtidPosition& position() const { return last_; }  // @@gtid_binlog_pos
  std::string state_text() const;                                        // @@gtid_binlog_state
  std::vector<binlog::MariadbGtid> as_list() const;  // GTID_LIST order: by domain, the last one last
  bool empty() const { return by_server_.empty(); }

 private:
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> by_server_;
  binlog::MariadbGtidPosition last_;
};

class StoredGtidState {
 public:
  explicit StoredGtidState(storage::BinlogStore& store) : store_(store) {}

  // MySQL GTIDs up to the durable end (empty when the binlog has none).
  Result<binlog::GtidSet> mysql_executed();
  // The oldest stored file's previous GTIDs.
  Result<binlog::GtidSet> mysql_purged();
  // The MariaDB binlog state up to the durable end.
  Result<MariadbBinlogState> mariadb_state();
  // BINLOG_GTID_POS(file, position): the GTID position a replica that stopped at `file`:`position`
  // has reached (last GTID per domain). Errors: unknown file, a position that is no event start.
  Result<binlog::MariadbGtidPosition> mariadb_position_at(const std::string& file, std::uint64_t position);
  // True when the stored binlog holds MySQL GTIDs (previous sets or GTID events).
  Result<bool> has_mysql_gtids();

 private:
  struct Scan {
    std::string file;
    std::uint64_t scanned_to = 0;
    binlog::GtidSet mysql;
    MariadbBinlogState mariadb;
    bool anonymous_seen = false;
  };
  // Brings `scan_` up to the durable end.
  Status refresh();

  storage::BinlogStore& store_;  // not owned
  std::optional<Scan> scan_;
};

}  // namespace brelay::relay::downstream
