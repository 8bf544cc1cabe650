#include "relay/downstream/binlog_positioning.h"

#include "relay/binlog/event_header.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/gtid_event.h"
#include "relay/core/stored_file_walk.h"
#include "relay/downstream/mysql_errors.h"

namespace brelay::relay::downstream {
namespace {

// The replica's set restricted to `uuid` is in `executed` (MySQL's is_subset_for_sid).
bool subset_for_uuid(const binlog::GtidSet& replica, const binlog::GtidSet& executed,
                     const binlog::Uuid& uuid) {
  binlog::GtidSet mine;
  for (const auto& [tsid, intervals] : replica.intervals()) {
    if (tsid.uuid != uuid) continue;
    for (const auto& interval : intervals)
      mine.add_interval(tsid, interval.start, interval.end);
  }
  return mine.is_subset_of(executed);
}

// The GTID of the first transaction stored in `file`, if it has one before `limit` events.
Result<std::optional<binlog::Gtid>> first_gtid(storage::BinlogStore& store, const storage::FileInfo& file) {
  const binlog::ChecksumAlgorithm algorithm = file_checksum_algorithm(file);
  std::optional<binlog::Gtid> found;
  BRELAY_TRY(walk_stored_file(
      store, file.name, file.first_position, file.end_position,
      [&](ByteView event, std::uint64_t) -> Result<WalkStep> {
        const auto type = binlog::event_type(event[binlog::kTypeOffset]);
        if (type == binlog::EventType::kAnonymousGtid) return WalkStep::kStop;
        if (type != binlog::EventType::kGtid && type != binlog::EventType::kGtidTagged)
          return WalkStep::kContinue;
        BRELAY_ASSIGN_OR_RETURN(binlog::EventView view, binlog::view_event(event, algorithm));
        BRELAY_ASSIGN_OR_RETURN(binlog::GtidEvent gtid, binlog::parse_gtid_event(view));
        found = gtid.gtid;
        return WalkStep::kStop;
      }));
  return found;
}

}  // namespace

ReplicationWording ReplicationWording::for_source(const SourceIdentity& source) {
  if (source.flavor == Flavor::kMariadb) return {false};
  return {binlog::split_server_version(source.version) >= std::array<unsigned, 3>{8, 0, 26}};
}

Error fatal_binlog_error(std::string message) {
  return Error(std::move(message), mysql_error::kFatalErrorReadingBinlog);
}

std::string purged_gtids_message(const binlog::GtidSet& replica_set, const binlog::GtidSet& missing,
                                 ReplicationWording wording) {
  return fmt::format(
      "Cannot replicate because the {0} purged required binary logs. Replicate the missing transactions from "
      "elsewhere, or provision a new {1} from backup. Consider increasing the {0}'s binary log expiration "
      "period. The GTID set sent by the {1} is '{2}', and the missing transactions are '{3}'.",
      wording.source(), wording.replica(), replica_set.to_string(), missing.to_string());
}

Result<MysqlGtidStart> find_mysql_gtid_start(storage::BinlogStore& store, StoredGtidState& gtids,
                                             const binlog::GtidSet& replica_set,
                                             const std::string& source_uuid, ReplicationWording wording) {
  BRELAY_ASSIGN_OR_RETURN(auto files, store.list_files());
  if (files.empty()) return fatal_binlog_error("Could not find first log file name in binary log index file");
  if (!source_uuid.empty()) {
    if (auto uuid = binlog::Uuid::parse(source_uuid)) {
      BRELAY_ASSIGN_OR_RETURN(binlog::GtidSet executed, gtids.mysql_executed());
      if (!subset_for_uuid(replica_set, executed, *uuid)) {
        return fatal_binlog_error(fmt::format(
            "{0} has more GTIDs than the {1} has, using the {1}'s SERVER_UUID. This may indicate that the "
            "the "
            "last binary log file was truncated or lost, e.g., after a power failure when sync_binlog != 1. "
            "The "
            "{1} may have rolled back transactions that were already replicated to the {2}. Replicate any "
            "transactions that {1} has rolled back from {2} to {1}, and/or commit empty transactions on {1} "
            "to "
            "account for transactions that have been committed on {1} but are not included in GTID_EXECUTED.",
            wording.Replica(), wording.source(), wording.replica()));
      }
    }
  }
  BRELAY_ASSIGN_OR_RETURN(binlog::GtidSet purged, gtids.mysql_purged());
  if (!purged.is_subset_of(replica_set)) {
    return fatal_binlog_error(
        purged_gtids_message(replica_set, binlog::GtidSet::difference(purged, replica_set), wording));
  }
  for (auto file = files.rbegin(); file != files.rend(); ++file) {
    BRELAY_ASSIGN_OR_RETURN(PreviousGtids previous, file_previous_gtids(store, *file));
    if (!previous.mysql.is_subset_of(replica_set)) continue;
    MysqlGtidStart start;
    start.file = file->name;
    BRELAY_ASSIGN_OR_RETURN(auto first, first_gtid(store, *file));
    start.skips_first_transaction = first && replica_set.contains(*first);
    return start;
  }
  BRELAY_ASSIGN_OR_RETURN(PreviousGtids oldest, file_previous_gtids(store, files.front()));
  return fatal_binlog_error(
      purged_gtids_message(replica_set, binlog::GtidSet::difference(oldest.mysql, replica_set), wording));
}

Result<MariadbGtidStart> find_mariadb_gtid_start(storage::BinlogStore& store, StoredGtidState& gtids,
                                                 const binlog::MariadbGtidPosition& requested,
                                                 bool ignore_duplicates) {
  BRELAY_ASSIGN_OR_RETURN(MariadbBinlogState state, gtids.mariadb_state());
  for (const auto& [domain, wanted] : requested.gtids()) {
    const auto seq = state.find(domain, wanted.server_id);
    if (seq && *seq >= wanted.seq_no) continue;
    const binlog::MariadbGtid* last = state.last_in_domain(domain);
    // Nothing of this domain in the binlog: another master serves it; start from whatever comes.
    if (last == nullptr) continue;
    if (ignore_duplicates && last->seq_no < wanted.seq_no) continue;
    if (last->seq_no >= wanted.seq_no) {
      return fatal_binlog_error(
          fmt::format("Error: connecting slave requested to start from GTID {}, which is not in the master's "
                      "binlog. Since "
                      "the master's binlog contains GTIDs with higher sequence numbers, it probably means "
                      "that the slave has "
                      "diverged due to executing extra erroneous transactions",
                      wanted.to_string()));
    }
    return fatal_binlog_error(fmt::format(
        "Error: connecting slave requested to start from GTID {}, which is not in the master's binlog",
        wanted.to_string()));
  }
  BRELAY_ASSIGN_OR_RETURN(auto files, store.list_files());
  for (auto file = files.rbegin(); file != files.rend(); ++file) {
    BRELAY_ASSIGN_OR_RETURN(PreviousGtids previous, file_previous_gtids(store, *file));
    if (previous.kind == PreviousGtids::Kind::kMariadb && !requested.can_start_in_file(previous.gtid_list))
      continue;
    MariadbGtidStart start;
    start.file = file->name;
    start.position = file->first_position;
    // A requested GTID that is the last of its domain before this file: nothing of it to skip here.
    for (const auto& [domain, wanted] : requested.gtids()) {
      bool at_list = false;
      for (const binlog::MariadbGtid& listed : previous.gtid_list)
        if (listed == wanted) at_list = true;
      if (!at_list) start.skip_until.update(wanted);
    }
    return start;
  }
  return fatal_binlog_error(
      "Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old "
      "and "
      "required binlog files have been purged.");
}

}  // namespace brelay::relay::downstream
