#include "relay/downstream/stored_gtid_state.h"

#include <algorithm>

#include "relay/binlog/event_header.h"
#include "relay/binlog/gtid_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/core/stored_file_walk.h"

namespace brelay::relay::downstream {
namespace {

bool is_gtid_type(std::uint8_t code) {
  const auto type = binlog::event_type(code);
  return type == binlog::EventType::kGtid || type == binlog::EventType::kGtidTagged ||
         type == binlog::EventType::kMariadbGtid || type == binlog::EventType::kAnonymousGtid;
}

}  // namespace

void MariadbBinlogState::load(const std::vector<binlog::MariadbGtid>& list) {
  by_server_.clear();
  last_ = {};
  for (const binlog::MariadbGtid& gtid : list)
    update(gtid);
}

void MariadbBinlogState::update(const binlog::MariadbGtid& gtid) {
  by_server_[{gtid.domain_id, gtid.server_id}] = gtid.seq_no;
  last_.update(gtid);
}

std::optional<std::uint64_t> MariadbBinlogState::find(std::uint32_t domain_id,
                                                      std::uint32_t server_id) const {
  const auto it = by_server_.find({domain_id, server_id});
  if (it == by_server_.end()) return std::nullopt;
  return it->second;
}

std::vector<binlog::MariadbGtid> MariadbBinlogState::as_list() const {
  std::vector<binlog::MariadbGtid> list;
  for (const auto& [key, seq] : by_server_) {
    const binlog::MariadbGtid* last = last_.find(key.first);
    if (last != nullptr && last->server_id == key.second) continue;  // goes last in its domain
    list.push_back({key.first, key.second, seq});
  }
  for (const auto& [domain, last] : last_.gtids())
    list.push_back(last);
  std::stable_sort(list.begin(), list.end(), [](const binlog::MariadbGtid& a, const binlog::MariadbGtid& b) {
    return a.domain_id < b.domain_id;
  });
  return list;
}

std::string MariadbBinlogState::state_text() const {
  return binlog::to_string(as_list());
}

Status StoredGtidState::refresh() {
  const auto end = store_.durable_end();
  if (!end) {
    scan_.reset();
    return {};
  }
  if (!scan_ || scan_->file != end->file || scan_->scanned_to > end->position) {
    BRELAY_ASSIGN_OR_RETURN(auto info, store_.find_file(end->file));
    if (!info) return make_error("the newest stored binary log {} is not listed", end->file);
    BRELAY_ASSIGN_OR_RETURN(PreviousGtids previous, file_previous_gtids(store_, *info));
    Scan scan;
    scan.file = end->file;
    scan.scanned_to = info->first_position;
    scan.mysql = std::move(previous.mysql);
    scan.mariadb.load(previous.gtid_list);
    scan_ = std::move(scan);
  }
  if (scan_->scanned_to >= end->position) return {};
  BRELAY_ASSIGN_OR_RETURN(auto info, store_.find_file(end->file));
  if (!info) return make_error("the newest stored binary log {} is not listed", end->file);
  const binlog::ChecksumAlgorithm algorithm = file_checksum_algorithm(*info);
  Scan& scan = *scan_;
  std::uint64_t reached = scan.scanned_to;
  BRELAY_TRY(walk_stored_file(
      store_, scan.file, scan.scanned_to, end->position,
      [&](ByteView event, std::uint64_t position) -> Result<WalkStep> {
        reached = position + event.size();
        if (!is_gtid_type(event[binlog::kTypeOffset])) return WalkStep::kContinue;
        BRELAY_ASSIGN_OR_RETURN(binlog::EventView view, binlog::view_event(event, algorithm));
        if (view.header.type == binlog::EventType::kMariadbGtid) {
          BRELAY_ASSIGN_OR_RETURN(binlog::MariadbGtidEvent gtid, binlog::parse_mariadb_gtid(view));
          scan.mariadb.update(gtid.gtid);
        } else {
          BRELAY_ASSIGN_OR_RETURN(binlog::GtidEvent gtid, binlog::parse_gtid_event(view));
          if (gtid.anonymous)
            scan.anonymous_seen = true;
          else
            scan.mysql.add(gtid.gtid);
        }
        return WalkStep::kContinue;
      }));
  scan.scanned_to = reached;
  return {};
}

Result<binlog::GtidSet> StoredGtidState::mysql_executed() {
  BRELAY_TRY(refresh());
  if (!scan_) return binlog::GtidSet();
  return scan_->mysql;
}

Result<binlog::GtidSet> StoredGtidState::mysql_purged() {
  BRELAY_ASSIGN_OR_RETURN(auto files, store_.list_files());
  if (files.empty()) return binlog::GtidSet();
  BRELAY_ASSIGN_OR_RETURN(PreviousGtids previous, file_previous_gtids(store_, files.front()));
  return previous.mysql;
}

Result<MariadbBinlogState> StoredGtidState::mariadb_state() {
  BRELAY_TRY(refresh());
  if (!scan_) return MariadbBinlogState();
  return scan_->mariadb;
}

Result<bool> StoredGtidState::has_mysql_gtids() {
  BRELAY_ASSIGN_OR_RETURN(binlog::GtidSet executed, mysql_executed());
  return !executed.empty();
}

Result<binlog::MariadbGtidPosition> StoredGtidState::mariadb_position_at(const std::string& file,
                                                                         std::uint64_t position) {
  BRELAY_ASSIGN_OR_RETURN(auto info, store_.find_file(file));
  if (!info) return make_error("Could not find binlog file '{}'", file);
  if (position < 4) position = 4;
  BRELAY_ASSIGN_OR_RETURN(PreviousGtids previous, file_previous_gtids(store_, *info));
  binlog::MariadbGtidPosition state = binlog::MariadbGtidPosition::from_list(previous.gtid_list);
  auto incorrect = [&] {
    return make_error(
        "Slave requested incorrect position in master binlog. Requested position {} in file '{}', but this "
        "position does not correspond to the location of any binlog event.",
        position, file);
  };
  if (position < info->first_position || position > info->end_position) return incorrect();
  if (position == info->first_position) return state;
  const binlog::ChecksumAlgorithm algorithm = file_checksum_algorithm(*info);
  bool valid = false;
  BRELAY_TRY(walk_stored_file(
      store_, file, info->first_position, position,
      [&](ByteView event, std::uint64_t at) -> Result<WalkStep> {
        if (at + event.size() == position) valid = true;
        if (event[binlog::kTypeOffset] != binlog::type_code(binlog::EventType::kMariadbGtid))
          return WalkStep::kContinue;
        BRELAY_ASSIGN_OR_RETURN(binlog::EventView view, binlog::view_event(event, algorithm));
        BRELAY_ASSIGN_OR_RETURN(binlog::MariadbGtidEvent gtid, binlog::parse_mariadb_gtid(view));
        state.update(gtid.gtid);
        return WalkStep::kContinue;
      }));
  if (!valid) return incorrect();
  return state;
}

}  // namespace brelay::relay::downstream
