#include "relay/tools/azure_coordinates.h"

#include <functional>

#include <fmt/format.h>

#include "relay/binlog/event_header.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/transaction_boundary.h"
#include "relay/core/stored_event_check.h"
#include "relay/core/stored_file_walk.h"
#include "relay/core/stored_gtids.h"

namespace brelay::relay {
namespace {

// Called with each stored event and its position; false stops the walk.
using EventVisitor = std::function<Result<bool>(ByteView event, std::uint64_t position)>;

// Walks the stored events of `file` from its first stored event while their position is below
// `until`. Returns the end of the last event visited (the file's first position when none was).
Result<std::uint64_t> walk_file(storage::BinlogStore& store, const storage::FileInfo& file,
                                std::uint64_t until, const EventVisitor& visit) {
  std::uint64_t reached = file.first_position;
  BRELAY_TRY(walk_stored_file(store, file.name, file.first_position, until,
                              [&](ByteView event, std::uint64_t position) -> Result<WalkStep> {
                                BRELAY_ASSIGN_OR_RETURN(bool go_on, visit(event, position));
                                reached = position + event.size();
                                return go_on ? WalkStep::kContinue : WalkStep::kStop;
                              }));
  return reached;
}

// A file's PREVIOUS_GTIDS set: its record's blob, else the event after its FDE.
Result<binlog::GtidSet> previous_set(storage::BinlogStore& store, const storage::FileInfo& file) {
  if (!file.previous_gtids.empty()) {
    BRELAY_ASSIGN_OR_RETURN(PreviousGtids previous, decode_previous_gtids(file.previous_gtids));
    return previous.mysql;
  }
  binlog::GtidSet set;
  int seen = 0;
  BRELAY_TRY(walk_file(store, file, file.end_position, [&](ByteView event, std::uint64_t) -> Result<bool> {
    if (is_previous_gtids_event(event)) {
      BRELAY_ASSIGN_OR_RETURN(PreviousGtids previous, decode_previous_gtids(event));
      set = std::move(previous.mysql);
      return false;
    }
    return ++seen < 3;
  }));
  return set;
}

// The GTID state of `file` before `until`, and whether `until` is an event start at a boundary.
struct FileScan {
  binlog::GtidSet executed;
  bool saw_mysql_gtid = false;
  std::uint64_t reached = 0;  // end of the last event before `until`
  std::uint64_t last_transaction_end = 0;
  bool at_boundary = true;
};

Result<FileScan> scan_file(storage::BinlogStore& store, const storage::FileInfo& file, std::uint64_t until) {
  FileScan scan;
  bool has_previous = false;
  if (!file.previous_gtids.empty()) {
    BRELAY_ASSIGN_OR_RETURN(PreviousGtids previous, decode_previous_gtids(file.previous_gtids));
    scan.executed = std::move(previous.mysql);
    has_previous = true;
  }
  scan.last_transaction_end = file.first_position;
  const binlog::ChecksumAlgorithm checksum = stored_file_checksum(file);
  binlog::TransactionBoundaryTracker tracker;
  BRELAY_ASSIGN_OR_RETURN(
      scan.reached,
      walk_file(store, file, until, [&](ByteView event, std::uint64_t position) -> Result<bool> {
        if (!has_previous && is_previous_gtids_event(event)) {
          BRELAY_ASSIGN_OR_RETURN(PreviousGtids previous, decode_previous_gtids(event));
          scan.executed = std::move(previous.mysql);
          has_previous = true;
        }
        auto view = binlog::view_event(event, checksum);
        if (!view)
          return make_error("{}:{}: the stored event cannot be read: {}", file.name, position,
                            view.error().message());
        auto boundary = tracker.feed(*view);
        if (!boundary) return make_error("{}:{}: {}", file.name, position, boundary.error().message());
        const binlog::TransactionGtid& gtid = tracker.current_gtid();
        if (boundary->starts_transaction && gtid.kind == binlog::TransactionGtid::Kind::kMysql) {
          scan.executed.add(gtid.mysql);
          scan.saw_mysql_gtid = true;
        }
        if (tracker.at_boundary()) scan.last_transaction_end = position + event.size();
        return true;
      }));
  scan.at_boundary = tracker.at_boundary();
  return scan;
}

Flavor stored_flavor(const storage::BinlogStore& store, const storage::FileInfo& file) {
  if (!file.format_description.empty()) {
    auto fde = binlog::parse_format_description(file.format_description);
    if (fde) return fde->is_mariadb() ? Flavor::kMariadb : Flavor::kMysql;
  }
  auto meta = store.get_meta(kSourceIdentityMetaKey);
  if (meta && *meta) {
    auto identity = decode_source_identity(**meta);
    if (identity) return identity->flavor;
  }
  return Flavor::kMysql;
}

std::string held_range(const std::vector<storage::FileInfo>& files) {
  return fmt::format("{}:{} to {}:{}", files.front().name, files.front().first_position, files.back().name,
                     files.back().end_position);
}

// The stored file `name`, or an error saying whether retention purged it or it is not stored yet.
Result<storage::FileInfo> find_stored_file(const std::vector<storage::FileInfo>& files,
                                           const std::string& name) {
  for (const storage::FileInfo& file : files) {
    if (file.name == name) return file;
  }
  const std::string held = held_range(files);
  const std::string& oldest = files.front().name;
  if (name.size() == oldest.size() && name < oldest) {
    return make_error(
        "{} is no longer stored: retention purged it (the relay holds {}). Take a new snapshot, whose "
        "coordinates the relay still holds, and keep more history for the next one ([storage] "
        "retention_time and retention_size)",
        name, held);
  }
  return make_error(
      "{} is not stored (the relay holds {}): either the relay has not pulled that far yet (wait until "
      "`binlog-relay status` shows it stored and run this again) or the name is wrong (take it from SHOW "
      "MASTER STATUS on the source or the dump's metadata)",
      name, held);
}

Status check_position(const storage::FileInfo& file, std::uint64_t position, const FileScan& scan) {
  if (scan.reached != position) {
    return make_error(
        "{}:{} is not the start of an event (the events there start at {} and {}): give the position "
        "that SHOW MASTER STATUS or the dump's metadata printed",
        file.name, position, scan.reached, file.end_position);
  }
  if (!scan.at_boundary) {
    return make_error(
        "{}:{} lies inside a transaction (its last complete transaction ends at {}): give a position "
        "between transactions, as SHOW MASTER STATUS or the dump's metadata prints it",
        file.name, position, scan.last_transaction_end);
  }
  return {};
}

}  // namespace

Result<StoredStart> locate_stored_start(storage::BinlogStore& store, const std::optional<std::string>& file,
                                        std::uint64_t position, bool gtid_sets) {
  BRELAY_ASSIGN_OR_RETURN(std::vector<storage::FileInfo> files, store.list_files());
  const auto end = store.durable_end();
  if (files.empty() || !end) {
    return make_error(
        "the relay's store holds no binlog yet: start the relay (binlog-relay run) and let it pull from "
        "the source, or seed it with binlog-relay import, then run this again");
  }
  StoredStart start;
  BRELAY_ASSIGN_OR_RETURN(storage::FileInfo newest, find_stored_file(files, end->file));
  FileScan at_end;
  if (gtid_sets) {
    BRELAY_ASSIGN_OR_RETURN(at_end, scan_file(store, newest, newest.end_position));
    start.executed_end = at_end.executed;
    BRELAY_ASSIGN_OR_RETURN(start.purged, previous_set(store, files.front()));
  }
  if (!file) {
    start.file = newest.name;
    start.position = newest.end_position;
    start.executed_before = at_end.executed;
    start.flavor = stored_flavor(store, newest);
  } else {
    BRELAY_ASSIGN_OR_RETURN(storage::FileInfo info, find_stored_file(files, *file));
    if (position < info.first_position) {
      return make_error(
          "{}:{} is no longer stored: the relay holds {} from position {} only (retention purged the "
          "rest, or the relay began there). Take a new snapshot, whose coordinates the relay holds",
          *file, position, info.name, info.first_position);
    }
    if (position > info.end_position) {
      return make_error(
          "{}:{} is not stored yet: the relay holds {} up to position {}. Wait until `binlog-relay "
          "status` shows it further and run this again",
          *file, position, info.name, info.end_position);
    }
    BRELAY_ASSIGN_OR_RETURN(FileScan scan, scan_file(store, info, position));
    BRELAY_TRY(check_position(info, position, scan));
    start.file = info.name;
    start.position = position;
    start.executed_before = std::move(scan.executed);
    start.flavor = stored_flavor(store, info);
  }
  start.has_mysql_gtids = at_end.saw_mysql_gtid || !start.executed_before.empty() ||
                          !start.executed_end.empty() || !start.purged.empty();
  if (start.flavor == Flavor::kMariadb) start.executed_before.clear();
  return start;
}

}  // namespace brelay::relay
