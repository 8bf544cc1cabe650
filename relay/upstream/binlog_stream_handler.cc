#include "relay/upstream/binlog_stream_handler.h"

#include "relay/binlog/format_description.h"
#include "relay/binlog/gtid_list_event.h"
#include "relay/binlog/heartbeat_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/previous_gtids_event.h"
#include "relay/binlog/rotate_event.h"
#include "relay/core/stored_gtids.h"
#include "storage/store_format.h"

namespace brelay::relay {

using binlog::EventType;

std::string DumpRequest::describe() const {
  if (kind == Kind::kFilePosition) {
    if (file.empty()) return "the source's first binlog";
    return fmt::format("{}:{}", file, position);
  }
  const std::string state = mariadb_state.empty() ? mysql_set.to_single_line() : mariadb_state.to_string();
  return fmt::format("GTID state '{}'", state);
}

namespace {

// The GTID state a file begins with, from its PREVIOUS_GTIDS (MySQL) or GTID_LIST (MariaDB).
struct GtidStateEvent {
  std::optional<binlog::GtidSet> previous_gtids;
  std::optional<binlog::MariadbGtidPosition> gtid_list;
};

// Malformed, it ends the stream like any malformed event.
Result<GtidStateEvent> parse_gtid_state_event(const binlog::EventView& view) {
  GtidStateEvent state;
  if (view.header.type == EventType::kPreviousGtids) {
    auto parsed = binlog::parse_previous_gtids(view);
    if (!parsed) return parsed.error().with_context("a malformed PREVIOUS_GTIDS");
    state.previous_gtids = std::move(*parsed);
  } else if (view.header.type == EventType::kGtidList) {
    auto parsed = binlog::parse_gtid_list(view);
    if (!parsed) return parsed.error().with_context("a malformed GTID_LIST");
    state.gtid_list = binlog::MariadbGtidPosition::from_list(parsed->gtids);
  }
  return state;
}

}  // namespace

std::string_view to_string(StreamFault fault) {
  switch (fault) {
    case StreamFault::kNone: return "none";
    case StreamFault::kChecksum: return "checksum";
    case StreamFault::kMalformed: return "malformed_event";
    case StreamFault::kPosition: return "position";
    case StreamFault::kGtidStartFile: return "gtid_start_file";
    case StreamFault::kTransaction: return "transaction";
  }
  return "unknown";
}

void BinlogStreamHandler::restore(const StoredStreamEnd& end) {
  *this = BinlogStreamHandler();
  if (!end.durable_end) {
    gtid_state_known_ = true;  // nothing stored: the state builds up from the first file on
    return;
  }
  file_ = end.durable_end->file;
  next_position_ = end.durable_end->position;
  boundary_position_ = end.durable_end->position;
  file_closed_ = end.file_closed;
  if (end.file_closed) {
    next_file_ = end.next_file;
    next_file_position_ = end.next_position;
  }
  restored_blob_ = end.durable_end->executed_gtid_set;
  blob_pending_decode_ = !restored_blob_.empty();
}

void BinlogStreamHandler::decode_restored_gtid_state(Flavor flavor) {
  flavor_ = flavor;
  if (!blob_pending_decode_) return;
  blob_pending_decode_ = false;
  executed_blob_stale_ = true;
  if (flavor == Flavor::kMariadb) {
    auto decoded = decode_mariadb_position(restored_blob_);
    gtid_state_known_ = decoded.ok();
    if (decoded) mariadb_state_ = std::move(decoded).value();
  } else {
    auto decoded = decode_mysql_gtid_set(restored_blob_);
    gtid_state_known_ = decoded.ok();
    if (decoded) mysql_executed_ = std::move(decoded).value();
  }
}

DumpRequest BinlogStreamHandler::plan_dump(bool prefer_gtid, Flavor flavor, const std::string& start_file,
                                           std::uint64_t start_position) {
  decode_restored_gtid_state(flavor);
  DumpRequest request;
  if (file_.empty()) {
    request.file = start_file;
    request.position = start_file.empty() ? 4 : start_position;
    return request;
  }
  const bool state_usable =
      gtid_state_known_ && (flavor == Flavor::kMariadb ? !mariadb_state_.empty() : !mysql_executed_.empty());
  if (prefer_gtid && state_usable && (!file_closed_ || joining_new_source_)) {
    request.kind = DumpRequest::Kind::kGtid;
    if (flavor == Flavor::kMariadb) {
      request.mariadb_state = mariadb_state_;
    } else {
      request.mysql_set = mysql_executed_;
    }
    // MariaDB ignores the file and position of a GTID dump; they make the source's log readable.
    request.file = file_;
    request.position = boundary_position_;
    return request;
  }
  if (file_closed_ && !next_file_.empty()) {
    request.file = next_file_;
    request.position = next_file_position_;
  } else {
    request.file = file_;
    request.position = boundary_position_;
  }
  return request;
}

void BinlogStreamHandler::begin_connection(const DumpRequest& request, binlog::ChecksumAlgorithm announced,
                                           Flavor flavor) {
  decode_restored_gtid_state(flavor);
  request_ = request;
  checksum_ = announced;
  expect_fake_rotate_ = true;
  already_stored_until_ = 0;
  pending_file_.reset();
  joining_file_ = false;
  tracker_.reset();
  last_fault_ = StreamFault::kNone;
}

void BinlogStreamHandler::end_connection(storage::WriteBatch& batch) {
  if (next_position_ != boundary_position_) {
    batch.abandon_transaction();
    next_position_ = boundary_position_;
  }
  tracker_.reset();
  pending_file_.reset();
  joining_file_ = false;
  already_stored_until_ = 0;
  expect_fake_rotate_ = true;
}

Result<EventOutcome> BinlogStreamHandler::fail(StreamFault fault, Error error) {
  last_fault_ = fault;
  return error;
}

Error BinlogStreamHandler::fault(StreamFault fault, Error error) {
  last_fault_ = fault;
  return error;
}

Result<EventOutcome> BinlogStreamHandler::handle_event(ByteView event, storage::WriteBatch& batch) {
  last_fault_ = StreamFault::kNone;
  auto view = binlog::view_event(event, checksum_);
  if (!view) return fail(StreamFault::kMalformed, std::move(view).error().with_context("a malformed event"));
  if (view->has_checksum) {
    if (Status verified = binlog::verify_event_checksum(event); !verified) {
      return fail(StreamFault::kChecksum, std::move(verified).error());
    }
  }
  EventOutcome outcome;
  outcome.header = view->header;
  const EventType type = view->header.type;

  if (type == EventType::kHeartbeat || type == EventType::kHeartbeatV2) {
    auto heartbeat = binlog::parse_heartbeat(*view);
    if (!heartbeat) return fail(StreamFault::kMalformed, std::move(heartbeat).error());
    outcome.kind = EventOutcome::Kind::kHeartbeat;
    outcome.source_position = heartbeat->position;
    outcome.source_file = heartbeat->file;
    return outcome;
  }
  if (type == EventType::kRotate && (view->header.artificial() || view->header.log_pos == 0)) {
    return handle_fake_rotate(*view, outcome, batch);
  }
  if (expect_fake_rotate_) {
    return fail(
        StreamFault::kPosition,
        make_error("the source's dump began with a {} event instead of the ROTATE that names the file",
                   event_type_name(type)));
  }
  if (view->header.artificial()) {
    outcome.kind = EventOutcome::Kind::kArtificial;
    outcome.source_position = view->header.log_pos;
    return outcome;
  }
  if (type == EventType::kFormatDescription) return handle_format_description(*view, outcome);

  std::uint64_t position = 0;
  if (view->header.log_pos == 0) {
    // MariaDB 11 writes log_pos 0 inside transactions (MDEV-31273): the event follows the last one.
    position = pending_file_ ? pending_file_->next_position : next_position_;
  } else if (view->header.log_pos < event.size()) {
    return fail(StreamFault::kMalformed,
                make_error("a {} event of {} bytes claims to end at position {}", event_type_name(type),
                           event.size(), view->header.log_pos));
  } else {
    position = view->header.log_pos - event.size();
  }
  if (joining_file_) return join_new_source(*view, position, outcome, batch);
  return store_event(*view, position, outcome, batch);
}

Result<EventOutcome> BinlogStreamHandler::join_new_source(const binlog::EventView& view,
                                                          std::uint64_t position, EventOutcome outcome,
                                                          storage::WriteBatch& batch) {
  const EventType type = view.header.type;
  if (type != EventType::kGtid && type != EventType::kMariadbGtid) {
    outcome.kind = EventOutcome::Kind::kArtificial;  // before the first new transaction: not stored
    outcome.source_position = position + view.bytes.size();
    return outcome;
  }
  if (type == EventType::kMariadbGtid) {
    auto gtid = binlog::parse_mariadb_gtid(view);
    if (!gtid) return fail(StreamFault::kMalformed, std::move(gtid).error());
    const binlog::MariadbGtid id = gtid->gtid;
    if (mariadb_state_.has_reached(id)) {
      return fail(StreamFault::kTransaction,
                  make_error("the new source sent {}, which the relay has stored already (at {})",
                             id.to_string(), mariadb_state_.to_string()));
    }
  }
  if (pending_file_->format_description.empty()) {
    return fail(StreamFault::kPosition, make_error("the new source sent a transaction of {} before its "
                                                   "FORMAT_DESCRIPTION",
                                                   pending_file_->name));
  }
  joining_previous_gtids_ = encode_mysql_gtid_set(mysql_executed_);
  if (flavor_ == Flavor::kMariadb) {
    std::vector<binlog::MariadbGtid> list;
    for (const auto& [domain, gtid] : mariadb_state_.gtids())
      list.push_back(gtid);
    joining_previous_gtids_ = encode_mariadb_gtid_list(list);
  }
  pending_file_->first_position = position;
  pending_file_->next_position = position;
  joining_file_ = false;
  joining_new_source_ = false;
  return store_event(view, position, outcome, batch);
}

Result<EventOutcome> BinlogStreamHandler::handle_fake_rotate(const binlog::EventView& view,
                                                             EventOutcome outcome,
                                                             storage::WriteBatch& batch) {
  auto rotate = binlog::parse_rotate(view);
  if (!rotate) return fail(StreamFault::kMalformed, std::move(rotate).error());
  const std::string_view name = rotate->next_file;
  const std::uint64_t position = rotate->position;
  outcome.kind = EventOutcome::Kind::kArtificial;
  outcome.source_position = position;
  outcome.source_file = name;
  if (expect_fake_rotate_) {
    expect_fake_rotate_ = false;
    return begin_dump_at(name, position, outcome);
  }
  return continue_with_file(name, position, outcome, batch);
}

Result<EventOutcome> BinlogStreamHandler::begin_dump_at(std::string_view name, std::uint64_t position,
                                                        EventOutcome outcome) {
  const bool by_gtid = request_.kind == DumpRequest::Kind::kGtid;
  if (!by_gtid && !request_.file.empty() && (name != request_.file || position != request_.position)) {
    return fail(StreamFault::kPosition,
                make_error("the source began the dump at {}:{} instead of the requested {}:{}", name,
                           position, request_.file, request_.position));
  }
  if (file_.empty()) {
    pending_file_ = PendingFile{std::string(name), position, {}, position};
    return outcome;
  }
  // The same name: the relay already follows this server (it switched before a restart), and the
  // dump resumes in the stored file as usual ([source] hosts need distinct log_bin base names).
  if (by_gtid && joining_new_source_ && name == file_) joining_new_source_ = false;
  if (by_gtid && joining_new_source_) {
    pending_file_ = PendingFile{std::string(name), position, {}, position};
    joining_file_ = true;
    return outcome;
  }
  if (name == file_) {
    if (by_gtid && position == 4) {
      already_stored_until_ = next_position_;
    } else if (position != next_position_) {
      return fail(StreamFault::kPosition,
                  make_error("the source began the dump at {}:{}, but the relay's store continues at {}:{}",
                             name, position, file_, next_position_));
    }
    return outcome;
  }
  if (by_gtid) {
    return fail(StreamFault::kGtidStartFile,
                make_error("the source began the GTID dump in {}, but the relay's store continues in {} at "
                           "position {}: the rest of {} is fetched by file and position",
                           name, file_, next_position_, file_));
  }
  if (file_closed_ && (next_file_.empty() || name == next_file_) && position == 4) {
    pending_file_ = PendingFile{std::string(name), 4, {}, 4};
    return outcome;
  }
  return fail(StreamFault::kPosition,
              make_error("the source began the dump at {}:{}, but the relay's store continues at {}:{}{}",
                         name, position, file_, next_position_, file_closed_ ? " (after its ROTATE)" : ""));
}

Result<EventOutcome> BinlogStreamHandler::continue_with_file(std::string_view name, std::uint64_t position,
                                                             EventOutcome outcome,
                                                             storage::WriteBatch& batch) {
  // The dump moved on to the next file: the current one is complete.
  if (pending_file_) {
    if (pending_file_->format_description.empty() || pending_file_->first_position != 4) {
      return fail(StreamFault::kPosition, make_error("the source announced {} before sending anything of {}",
                                                     name, pending_file_->name));
    }
    // A file that holds nothing but its FDE (the source stopped right after opening it).
    if (Status begun = begin_pending_file(std::nullopt, batch); !begun) {
      return fail(StreamFault::kMalformed, std::move(begun).error());
    }
  }
  if (already_stored_until_ > 0) {
    return fail(StreamFault::kPosition,
                make_error("the source's {} ends before position {}, up to which the relay stored it", file_,
                           already_stored_until_));
  }
  if (!tracker_.at_boundary()) {
    return fail(
        StreamFault::kTransaction,
        make_error("the source's {} ended inside a transaction (at position {}); the relay keeps what "
                   "it stored up to {}",
                   file_, next_position_, boundary_position_));
  }
  if (!file_closed_) {
    batch.end_file();
    file_closed_ = true;
    outcome.ended_file = true;
  } else if (!next_file_.empty() && name != next_file_) {
    return fail(StreamFault::kPosition,
                make_error("the ROTATE at the end of {} named {}, but the source continued with {}", file_,
                           next_file_, name));
  }
  if (position != 4) {
    return fail(
        StreamFault::kPosition,
        make_error("the source continued with {} at position {}; a next file starts at 4", name, position));
  }
  pending_file_ = PendingFile{std::string(name), 4, {}, 4};
  return outcome;
}

Result<EventOutcome> BinlogStreamHandler::handle_format_description(const binlog::EventView& view,
                                                                    EventOutcome outcome) {
  auto fde = binlog::parse_format_description(view.bytes);
  if (!fde) return fail(StreamFault::kMalformed, std::move(fde).error());
  checksum_ = fde->checksum_algorithm;
  const std::uint32_t log_pos = view.header.log_pos;
  if (log_pos == 0) {
    // Re-sent for a dump that starts past position 4: not part of the stream, but on an empty
    // store it is the only FDE the new file gets.
    outcome.kind = EventOutcome::Kind::kArtificial;
    if (pending_file_ && pending_file_->format_description.empty()) {
      pending_file_->format_description.assign(view.bytes.begin(), view.bytes.end());
    }
    return outcome;
  }
  if (log_pos < view.bytes.size() || log_pos - view.bytes.size() != 4) {
    return fail(StreamFault::kPosition,
                make_error("a FORMAT_DESCRIPTION event that ends at position {} does not start at position 4",
                           log_pos));
  }
  outcome.source_position = log_pos;
  if (pending_file_ && pending_file_->first_position == 4 && pending_file_->format_description.empty()) {
    pending_file_->format_description.assign(view.bytes.begin(), view.bytes.end());
    pending_file_->next_position = log_pos;
    outcome.kind = EventOutcome::Kind::kStored;  // with the event after it, which begins the file
    return outcome;
  }
  if (!pending_file_ && already_stored_until_ >= log_pos) {
    outcome.kind = EventOutcome::Kind::kAlreadyStored;
    if (already_stored_until_ == log_pos) already_stored_until_ = 0;
    return outcome;
  }
  return fail(StreamFault::kPosition,
              make_error("the source sent the FORMAT_DESCRIPTION of a file at position 4 while the relay's "
                         "store continues at {}:{}",
                         pending_file_ ? pending_file_->name : file_,
                         pending_file_ ? pending_file_->next_position : next_position_));
}

Status BinlogStreamHandler::begin_pending_file(std::optional<binlog::EventView> second_event,
                                               storage::WriteBatch& batch) {
  PendingFile& pending = *pending_file_;
  Bytes previous_gtids;
  if (second_event && second_event->header.type == EventType::kPreviousGtids) {
    BRELAY_ASSIGN_OR_RETURN(binlog::GtidSet set, binlog::parse_previous_gtids(*second_event));
    previous_gtids = encode_mysql_gtid_set(set);
  } else if (second_event && second_event->header.type == EventType::kGtidList) {
    BRELAY_ASSIGN_OR_RETURN(binlog::GtidListEvent list, binlog::parse_gtid_list(*second_event));
    previous_gtids = encode_mariadb_gtid_list(list.gtids);
  }
  if (!joining_previous_gtids_.empty()) previous_gtids = std::exchange(joining_previous_gtids_, Bytes{});
  batch.begin_file(
      storage::FileStart{pending.name, pending.first_position, pending.format_description, previous_gtids});
  std::uint64_t position = pending.first_position;
  if (pending.first_position == 4 && !pending.format_description.empty()) {
    auto header = binlog::parse_event_header(pending.format_description);
    batch.append(storage::EventAppend{.position = 4,
                                      .bytes = pending.format_description,
                                      .ends_transaction = true,
                                      .gtid = {},
                                      .timestamp = header ? header->timestamp : 0,
                                      .executed_gtid_set = executed_blob()});
    position = pending.next_position;
  }
  file_ = std::move(pending.name);
  file_first_position_ = pending.first_position;
  next_position_ = position;
  boundary_position_ = position;
  file_closed_ = false;
  next_file_.clear();
  ++file_ordinal_;
  pending_file_.reset();
  return {};
}

Result<EventOutcome> BinlogStreamHandler::store_event(const binlog::EventView& view, std::uint64_t position,
                                                      EventOutcome outcome, storage::WriteBatch& batch) {
  const std::uint64_t size = view.bytes.size();
  const EventType type = view.header.type;
  BRELAY_ASSIGN_OR_RETURN(const bool already_stored, check_position(type, position, size, outcome));
  if (already_stored) return outcome;

  auto classified = tracker_.feed(view);
  if (!classified) return fail(StreamFault::kTransaction, std::move(classified).error());
  const binlog::EventBoundary event_boundary = *classified;
  const bool boundary =
      event_boundary.ends_transaction || (!event_boundary.in_transaction && tracker_.at_boundary());

  std::optional<binlog::RotateEvent> rotate;
  if (type == EventType::kRotate) {
    if (!boundary) {
      return fail(StreamFault::kTransaction,
                  make_error("a ROTATE event at {}:{} inside a transaction", file_, position));
    }
    auto parsed = binlog::parse_rotate(view);
    if (!parsed) return fail(StreamFault::kMalformed, std::move(parsed).error());
    rotate = *parsed;
  }
  // Parsed before anything of the event goes into the batch.
  auto gtid_state = parse_gtid_state_event(view);
  if (!gtid_state) return fail(StreamFault::kMalformed, std::move(gtid_state).error());
  if (pending_file_) {
    if (Status begun = begin_pending_file(view, batch); !begun) {
      tracker_.reset();
      return fail(StreamFault::kMalformed, std::move(begun).error());
    }
    outcome.began_file = true;
  }
  if (gtid_state->previous_gtids) {
    mysql_executed_.add(*gtid_state->previous_gtids);
    executed_blob_stale_ = true;
  } else if (gtid_state->gtid_list) {
    mariadb_state_.merge(*gtid_state->gtid_list);
    executed_blob_stale_ = true;
  }
  if (event_boundary.ends_transaction) {
    const binlog::TransactionGtid& gtid = tracker_.current_gtid();
    if (gtid.kind == binlog::TransactionGtid::Kind::kMysql) {
      mysql_executed_.add(gtid.mysql);
      executed_blob_stale_ = true;
    } else if (gtid.kind == binlog::TransactionGtid::Kind::kMariadb) {
      mariadb_state_.update(gtid.mariadb);
      executed_blob_stale_ = true;
    }
  }
  append_event(view, position, event_boundary.starts_transaction, boundary, outcome, batch);
  if (rotate) {
    batch.end_file();
    file_closed_ = true;
    next_file_ = std::string(rotate->next_file);
    next_file_position_ = rotate->position;
    batch.put_meta(kUpstreamNextFileMetaKey,
                   storage::NextFileRecord{file_, next_file_, next_file_position_}.encode());
    outcome.ended_file = true;
  }
  return outcome;
}

void BinlogStreamHandler::append_event(const binlog::EventView& view, std::uint64_t position,
                                       bool starts_transaction, bool boundary, EventOutcome& outcome,
                                       storage::WriteBatch& batch) {
  Bytes key;
  if (starts_transaction) key = gtid_key(tracker_.current_gtid());
  batch.append(storage::EventAppend{.position = position,
                                    .bytes = view.bytes,
                                    .ends_transaction = boundary,
                                    .gtid = key,
                                    .timestamp = view.header.timestamp,
                                    .executed_gtid_set = boundary ? executed_blob() : ByteView()});
  next_position_ = position + view.bytes.size();
  if (boundary) boundary_position_ = next_position_;
  outcome.kind = EventOutcome::Kind::kStored;
  outcome.boundary = boundary;
  outcome.source_position = next_position_;
}

Result<bool> BinlogStreamHandler::check_position(EventType type, std::uint64_t position, std::uint64_t size,
                                                 EventOutcome& outcome) {
  if (pending_file_) {
    if (pending_file_->format_description.empty()) {
      return fault(StreamFault::kPosition,
                   make_error("the source sent a {} event of {} before the file's FORMAT_DESCRIPTION",
                              event_type_name(type), pending_file_->name));
    }
    if (position != pending_file_->next_position) {
      return fault(
          StreamFault::kPosition,
          make_error("the source sent a {} event for {}:{}, but the file continues at {}: {}",
                     event_type_name(type), pending_file_->name, position, pending_file_->next_position,
                     position > pending_file_->next_position ? "a gap" : "an overlap"));
    }
  } else {
    if (already_stored_until_ > 0) {
      if (position + size <= already_stored_until_) {
        outcome.kind = EventOutcome::Kind::kAlreadyStored;
        outcome.source_position = position + size;
        if (position + size == already_stored_until_) already_stored_until_ = 0;
        return true;
      }
      if (position < already_stored_until_) {
        return fault(
            StreamFault::kPosition,
            make_error("the source sent a {} event for {}:{}-{}, which overlaps what the relay stored up "
                       "to {}",
                       event_type_name(type), file_, position, position + size, already_stored_until_));
      }
      already_stored_until_ = 0;
    }
    if (file_closed_) {
      return fault(StreamFault::kPosition,
                   make_error("the source sent a {} event for {}:{} after the ROTATE that ended that file",
                              event_type_name(type), file_, position));
    }
    if (position != next_position_) {
      return fault(StreamFault::kPosition,
                   make_error("the source sent a {} event for {}:{}, but the stream continues at {}: {}",
                              event_type_name(type), file_, position, next_position_,
                              position > next_position_ ? "a gap" : "an overlap"));
    }
  }

  return false;
}

ByteView BinlogStreamHandler::executed_blob() {
  if (!gtid_state_known_) return {};
  if (executed_blob_stale_) {
    executed_blob_ = flavor_ == Flavor::kMariadb ? encode_mariadb_position(mariadb_state_)
                                                 : encode_mysql_gtid_set(mysql_executed_);
    executed_blob_stale_ = false;
  }
  return executed_blob_;
}

}  // namespace brelay::relay
