#include "relay/downstream/dump_session.h"

#include <spdlog/spdlog.h>

#include "common/byte_writer.h"
#include "common/cut_for_log.h"
#include "net/mysql_packets.h"
#include "net/replication_commands.h"
#include "relay/binlog/event_builders.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/gtid_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/core/stored_event_check.h"
#include "relay/core/stored_file_walk.h"
#include "relay/downstream/binlog_positioning.h"
#include "relay/downstream/mariadb_compatibility.h"
#include "relay/downstream/mysql_errors.h"
#include "relay/downstream/sql_tokenizer.h"

namespace brelay::relay::downstream {
namespace {

using binlog::EventType;

constexpr std::uint16_t kMariadbSlaveSameId = 4052;

// The FDE as this dump sends it: IN_USE cleared always; log_pos and `created` 0 for a start past
// position 4; only `created` 0 when a GTID dump skips the file's first transaction.
Result<Bytes> prepare_format_description(ByteView fde, bool clear_log_pos, bool clear_created) {
  BRELAY_ASSIGN_OR_RETURN(Bytes out, binlog::rewrite_format_description(fde, clear_log_pos));
  if (clear_created && !clear_log_pos) {
    constexpr std::size_t kCreatedOffset = binlog::kEventHeaderSize + 2 + binlog::kServerVersionLength;
    if (out.size() < kCreatedOffset + 4) return make_error("the Format_desc event is too short");
    for (std::size_t i = 0; i < 4; ++i)
      out[kCreatedOffset + i] = 0;
    BRELAY_ASSIGN_OR_RETURN(bool has_checksum, binlog::format_description_has_checksum(out));
    if (has_checksum) binlog::store_event_checksum(out);
  }
  return out;
}

}  // namespace

struct DumpSession::LazyEvent {
  ByteView bytes;
  binlog::EventType type;
  binlog::ChecksumAlgorithm checksum;
  std::optional<binlog::EventView> view;
};

DumpSession::DumpSession(DumpServices& services, net::ServerSession& session, DumpRequest request)
    : services_(services),
      session_(session),
      request_(std::move(request)),
      heartbeat_timer_(services.loop.raw()),
      gate_timer_(services.loop.raw()) {
  bytes_counter_ = &services_.metrics.counter("binlog_relay_downstream_sent_bytes_total",
                                              "Binlog bytes sent to replicas and readers");
  events_counter_ = &services_.metrics.counter("binlog_relay_downstream_sent_events_total",
                                               "Binlog events sent to replicas and readers");
}

DumpSession::~DumpSession() {
  if (subscription_) services_.commits.unsubscribe(*subscription_);
  services_.registry.end_dump(session_.connection_id());
}

std::uint32_t DumpSession::artificial_server_id() {
  const std::uint32_t source_id = services_.variables.source().server_id;
  return source_id != 0 ? source_id : services_.relay_server_id;
}

std::string DumpSession::with_coordinates(const std::string& message) const {
  return fmt::format(
      "{}; the first event '{}' at {}, the last event read from '{}' at {}, the last byte read from "
      "'{}' at {}.",
      message, start_file_, start_position_, file_name_, last_event_position_, file_name_, position_);
}

Status DumpSession::start() {
  const SourceIdentity& source = services_.variables.source();
  mariadb_source_ = source.flavor == Flavor::kMariadb;
  // MariaDB (semi-sync built in) prefixes every packet for a replica that set @rpl_semi_sync_slave
  // and asks for acknowledgements only when rpl_semi_sync_master_enabled is ON; a mysqld without
  // the semi-sync plugin sends no prefix at all.
  semi_sync_acks_ = request_.semi_sync && services_.variables.semi_sync_enabled();
  if (!semi_sync_acks_ && !mariadb_source_) request_.semi_sync = false;
  wording_ = ReplicationWording::for_source(source);
  event_checksum_ = request_.replica_checksum;
  BRELAY_ASSIGN_OR_RETURN(storage::StoreReader reader, storage::StoreReader::open(services_.store));
  reader_.emplace(std::move(reader));
  if (request_.mysql_auto_position()) {
    BRELAY_TRY(position_by_mysql_gtids());
  } else if (request_.mariadb_connect_state && !request_.gtid_command) {
    BRELAY_TRY(position_by_mariadb_state());
  } else {
    BRELAY_TRY(position_by_file());
    if (request_.gtid_command) mysql_skipper_.emplace(request_.mysql_gtids);
  }
  if (request_.mariadb_connect_state && !mariadb_skipper_)
    mariadb_skipper_.emplace(binlog::MariadbGtidPosition(), request_.mariadb_gtid_strict_mode);
  heartbeats_ = HeartbeatPolicy(request_.heartbeat_period);
  gate_ = make_dump_gate(services_.config, services_.hazards, session_.user());
  track_transactions_ = request_.semi_sync || (mariadb_skipper_ && mariadb_skipper_->needs_boundaries());

  ActiveDump dump;
  dump.connection_id = session_.connection_id();
  dump.server_id = request_.server_id;
  dump.uuid = request_.replica_uuid;
  dump.user = session_.user();
  dump.peer = session_.peer_address();
  dump.file = start_file_;
  dump.position = start_position_;
  dump.remember = !request_.non_blocking();  // remembered_replicas.h
  dump.gtid_state = request_.gtid_state_text();
  for (std::uint32_t older : services_.registry.start_dump(dump)) {
    if (services_.end_dump) services_.end_dump(older);
  }
  spdlog::info("dump started for {} (server_id {}{}) from {}:{}{}", session_.peer_address(),
               request_.server_id,
               request_.replica_uuid.empty() ? "" : ", uuid " + cut_for_log(request_.replica_uuid),
               start_file_, start_position_, request_.non_blocking() ? " (non-blocking)" : "");

  session_.start_stream();
  session_.set_low_water_mark(0);
  subscription_ = services_.commits.subscribe([this](const CommitNotifier::Progress&) {
    if (state_ == State::kWaitingForCommit) {
      heartbeat_timer_.stop();
      pump();
    }
  });
  last_send_time_ = std::chrono::steady_clock::now();
  state_ = State::kStreaming;
  net::PacketBatch& out = session_.batch();
  synthesized_.clear();
  if (Status entered = enter_file(out, reader_->file(), start_position_, true); !entered) {
    fail(entered.error());
    return {};
  }
  if (!send(out)) return {};
  if (opening_error_) {
    fail(*opening_error_);
    return {};
  }
  pump();
  return {};
}

Status DumpSession::position_by_file() {
  std::string file = request_.file;
  if (file.empty()) {
    BRELAY_ASSIGN_OR_RETURN(auto files, services_.store.list_files());
    if (files.empty())
      return fatal_binlog_error("Could not find first log file name in binary log index file");
    file = files.front().name;
  }
  start_file_ = file;
  start_position_ = request_.position;
  file_name_ = file;
  position_ = request_.position;
  BRELAY_ASSIGN_OR_RETURN(auto info, services_.store.find_file(file));
  if (!info) return fatal_binlog_error("Could not find first log file name in binary log index file");
  const std::uint64_t position = request_.position;
  if (mariadb_source_ && (position < 4 || position > info->end_position)) {
    return fatal_binlog_error(
        fmt::format("Client requested master to start replication from impossible position; the first event "
                    "'{0}' at {1}, "
                    "the last event read from '{0}' at 4, the last byte read from '{0}' at 4.",
                    file, position));
  }
  if (position < 4) {
    return fatal_binlog_error(
        fmt::format("Client requested {} to start replication from position < 4", wording_.source()));
  }
  if (position > info->end_position) {
    return fatal_binlog_error(
        fmt::format("Client requested {} to start replication from position > file size", wording_.source()));
  }
  if (position < info->first_position && position != 4) {
    return fatal_binlog_error(
        fmt::format("Client requested {0} to start replication from position {1} of {2}, but the relay's "
                    "copy of {2} starts at "
                    "position {3} (it began pulling there); start at {3} or later",
                    wording_.source(), position, file, info->first_position));
  }
  const std::uint64_t seek_to = position == 4 ? info->first_position : position;
  if (Status sought = reader_->seek(file, seek_to); !sought) {
    Error error = fatal_binlog_error(with_coordinates(
        fmt::format("bogus data in log event (binlog-relay: {})", sought.error().message())));
    // Inside an event: the fake ROTATE and the FDE go out first (enter_file needs the reader in the
    // file), then the error, as the source sends them.
    if (!reader_->seek(file, info->first_position)) return error;
    opening_error_ = std::move(error);
    start_position_ = position;
    return {};
  }
  start_position_ = seek_to == info->first_position && position == 4 ? 4 : seek_to;
  return {};
}

Status DumpSession::position_by_mysql_gtids() {
  BRELAY_ASSIGN_OR_RETURN(auto gtid_mode, services_.variables.find("gtid_mode"));
  const std::string mode = gtid_mode ? gtid_mode->value : "OFF";
  if (!equals_ignore_case(mode, "ON")) {
    if (wording_.new_terms) {
      return fatal_binlog_error(fmt::format(
          "The replication sender thread cannot start in AUTO_POSITION mode: this server has GTID_MODE = {} "
          "instead of ON.",
          mode));
    }
    return fatal_binlog_error("Request to dump GTID when @@GLOBAL.GTID_MODE <> ON.");
  }
  BRELAY_ASSIGN_OR_RETURN(MysqlGtidStart start,
                          find_mysql_gtid_start(services_.store, services_.gtids, request_.mysql_gtids,
                                                services_.variables.source().server_uuid, wording_));
  BRELAY_TRY(reader_->seek_file_start(start.file));
  start_file_ = start.file;
  start_position_ = 4;
  file_name_ = start.file;
  position_ = reader_->position();
  mysql_skipper_.emplace(request_.mysql_gtids);
  clear_created_in_first_fde_ = start.skips_first_transaction;
  return {};
}

Status DumpSession::position_by_mariadb_state() {
  BRELAY_ASSIGN_OR_RETURN(
      MariadbGtidStart start,
      find_mariadb_gtid_start(services_.store, services_.gtids, *request_.mariadb_connect_state,
                              request_.mariadb_gtid_ignore_duplicates));
  BRELAY_TRY(reader_->seek(start.file, start.position));
  start_file_ = start.file;
  start_position_ = start.position;
  file_name_ = start.file;
  position_ = start.position;
  mariadb_skipper_.emplace(start.skip_until, request_.mariadb_gtid_strict_mode);
  return {};
}

Status DumpSession::enter_file(net::PacketBatch& out, const storage::FileInfo& file, std::uint64_t position,
                               bool first) {
  file_name_ = file.name;
  file_first_position_ = file.first_position;
  position_ = position;
  last_event_position_ = position;
  // The fake ROTATE: before the first FDE it carries a CRC by what the replica announced, later by
  // what the binlog has (MySQL's m_event_checksum_alg).
  add_packet(out,
             keep(binlog::build_fake_rotate(artificial_server_id(), file.name, position, checksum_on())));
  if (file.format_description.empty())
    return fatal_binlog_error(with_coordinates("Could not find format_description_event in binlog file"));
  const binlog::ChecksumAlgorithm algorithm = file_checksum_algorithm(file);
  if (request_.replica_checksum == binlog::ChecksumAlgorithm::kUndefined &&
      algorithm == binlog::ChecksumAlgorithm::kCrc32) {
    return fatal_binlog_error(with_coordinates(
        fmt::format("{} can not handle replication events with the checksum that {} is configured to log",
                    wording_.Replica(), wording_.source())));
  }
  event_checksum_ = algorithm;
  bool clear_log_pos = false;
  bool clear_created = false;
  if (request_.gtid_command) {
    clear_created = first && clear_created_in_first_fde_;
  } else if (request_.mariadb_connect_state) {
    clear_created = mariadb_skipper_ && mariadb_skipper_->skipping_to_start();
  } else {
    clear_log_pos = position > 4;
    clear_created = clear_log_pos;
  }
  auto fde = prepare_format_description(file.format_description, clear_log_pos, clear_created);
  if (!fde) return fatal_binlog_error(with_coordinates(fde.error().message()));
  add_packet(out, keep(std::move(*fde)));
  skip_stored_fde_ = position == 4 && file.first_position == 4;
  last_sent_rotate_ = false;
  if (mariadb_skipper_) {
    if (auto previous = file_previous_gtids(services_.store, file))
      mariadb_skipper_->begin_file(previous->gtid_list);
  }
  services_.registry.update_dump(session_.connection_id(), file_name_, position_, bytes_sent_,
                                 session_.pending_bytes());
  return {};
}

ByteView DumpSession::keep(Bytes event) {
  synthesized_.push_back(std::move(event));
  return synthesized_.back();
}

void DumpSession::add_packet(net::PacketBatch& out, ByteView event, bool ack_requested) {
  out.add(net::encode_dump_envelope_prefix(request_.semi_sync, ack_requested).view(), event);
  ++events_sent_;
}

void DumpSession::add_heartbeat(net::PacketBatch& out, std::uint64_t position) {
  // MariaDB sends HEARTBEAT_LOG_EVENT (27) whatever the flags; v2 is MySQL's.
  add_packet(out, keep(build_dump_heartbeat(request_.heartbeat_v2() && !mariadb_source_,
                                            artificial_server_id(), file_name_, position, checksum_on())));
}

bool DumpSession::send(net::PacketBatch& batch) {
  if (batch.empty()) return true;
  const std::size_t bytes = batch.payload_bytes();
  const std::size_t events = batch.packet_count();
  if (Status sent = session_.send_batch(batch); !sent) {
    state_ = State::kFinished;
    session_.close(sent);
    return false;
  }
  synthesized_.clear();
  bytes_sent_ += bytes;
  bytes_counter_->add(static_cast<double>(bytes));
  events_counter_->add(static_cast<double>(events));
  last_send_time_ = std::chrono::steady_clock::now();
  services_.registry.update_dump(session_.connection_id(), file_name_, position_, bytes_sent_,
                                 session_.pending_bytes());
  return true;
}

void DumpSession::pump() {
  if (state_ == State::kFinished || !reader_) return;
  auto watch = lifetime_.watch();
  state_ = State::kStreaming;
  while (true) {
    if (session_.pending_bytes() > 0) {
      state_ = State::kWaitingForDrain;
      return;
    }
    choose_who_transmits();
    net::PacketBatch& out = session_.batch();
    synthesized_.clear();
    auto read = reader_->read(batch_bytes_);
    if (!read) {
      fail(read_error(read.error()));
      return;
    }
    if (read->file_changed) {
      if (Status entered = enter_file(out, reader_->file(), reader_->file().first_position, false);
          !entered) {
        reader_->release();
        fail(entered.error());
        return;
      }
    }
    auto added = add_events(*read, out);
    if (!added) {
      // What was read before the failing event goes out first, as a server sends it.
      const bool sent = send(out);
      reader_->release();
      if (sent && !watch.expired()) fail(added.error());
      return;
    }
    const std::optional<DumpGate::Verdict> gated = added->gated;
    const bool at_end = read->at_durable_end && added->whole_batch;
    if (at_end && mysql_skipper_ && mysql_skipper_->unannounced_end() != 0) {
      add_heartbeat(out, mysql_skipper_->unannounced_end());
      mysql_skipper_->announced();
    }
    const std::size_t consumed = added->bytes;
    // Every event of [position, position + consumed) was checked (add_event).
    reader_->mark_checked(reader_->position(), reader_->position() + consumed);
    const bool sent = send(out);
    reader_->consume(consumed);
    reader_->release();
    if (!sent || watch.expired() || state_ == State::kFinished) return;
    if (gated) {
      wait_for_gate(*gated);
      return;
    }
    if (at_end) {
      if (request_.non_blocking()) {
        finish_non_blocking();
      } else {
        wait_for_commit();
      }
      return;
    }
  }
}

void DumpSession::choose_who_transmits() {
  const bool limit = services_.spare_time.has_spare_time();
  if (limit == unsent_limited_) return;
  if (Status set = session_.limit_unsent_bytes(limit ? kUnsentBytes : 0); !set) {
    spdlog::warn("replica {}: {}", session_.peer_address(), set.error().message());
    return;
  }
  unsent_limited_ = limit;
  batch_bytes_ = limit ? kLimitedReadBytes : kReadBytes;
}

Result<DumpSession::AddedEvents> DumpSession::add_events(const storage::ReadBatch& batch,
                                                         net::PacketBatch& out) {
  AddedEvents added;
  checked_ = {batch.checked_begin, batch.checked_end};
  for (const storage::EventRun& run : batch.runs) {
    for (std::size_t i = 0; i < run.event_count(); ++i) {
      if (added.bytes > 0 && out.payload_bytes() >= batch_bytes_) {
        added.whole_batch = false;
        return added;
      }
      const ByteView event = run.event(i);
      if (gate_.active()) {
        const DumpGate::Verdict verdict = gate_.decide(
            file_name_, run.event_position(i), event_timestamp(event), std::chrono::system_clock::now());
        if (!verdict.send) {
          added.whole_batch = false;
          added.gated = verdict;
          return added;
        }
      }
      BRELAY_TRY(add_event(event, run.event_position(i), out));
      added.bytes += event.size();
    }
  }
  added.bytes = batch.bytes;
  return added;
}

Status DumpSession::add_event(ByteView bytes, std::uint64_t position, net::PacketBatch& out) {
  last_event_position_ = position;
  // Every stored event, sent or skipped, is checked first: damaged bytes are never served (once per
  // map of the file: store_reader.h).
  const bool checked = position >= checked_.first && position + bytes.size() <= checked_.second;
  if (Status intact =
          checked ? Status()
                  : verify_stored_event(services_.store, file_name_, position, bytes, event_checksum_);
      !intact) {
    spdlog::error("dump for {}: {}; {}", session_.peer_address(), intact.error().message(),
                  stored_damage_advice(services_.store));
    return fatal_binlog_error(with_coordinates(fmt::format(
        "event read from binlog did not pass crc check (binlog-relay: {})", intact.error().message())));
  }
  const auto type = binlog::event_type(bytes[binlog::kTypeOffset]);
  const std::uint64_t next = position + bytes.size();
  if (skip_stored_fde_ && type == EventType::kFormatDescription && position == file_first_position_) {
    // Already sent (rewritten) by enter_file().
    skip_stored_fde_ = false;
    position_ = next;
    return {};
  }
  skip_stored_fde_ = false;

  LazyEvent event{bytes, type, event_checksum_, std::nullopt};
  binlog::EventBoundary boundary;
  if (track_transactions_) {
    BRELAY_ASSIGN_OR_RETURN(boundary, track_boundary(event));
  }
  if (mysql_skipper_) {
    BRELAY_ASSIGN_OR_RETURN(bool skipped, skip_for_mysql_gtids(event, position, next, out));
    if (skipped) return {};
  }
  if (mariadb_skipper_) {
    BRELAY_ASSIGN_OR_RETURN(bool skipped, skip_for_mariadb_state(event, boundary, next, out));
    if (skipped) return {};
  }
  ByteView outgoing = bytes;
  if (mariadb_source_) {
    BRELAY_ASSIGN_OR_RETURN(std::optional<ByteView> compatible, for_mariadb_replica(event));
    if (!compatible) {
      position_ = next;
      return {};
    }
    outgoing = *compatible;
  }

  add_packet(out, outgoing, semi_sync_ack_requested(semi_sync_acks_, boundary));
  position_ = next;
  last_sent_rotate_ = type == EventType::kRotate;
  if (mariadb_skipper_ && mariadb_skipper_->fake_gtid_list_after_sent(boundary))
    add_fake_gtid_list(out, next);
  if (track_transactions_ && !request_.semi_sync &&
      !(mariadb_skipper_ && mariadb_skipper_->needs_boundaries()))
    track_transactions_ = false;
  return {};
}

Error DumpSession::read_error(const Error& why) const {
  if (why.code() != storage::kStoreDamagedCode) {
    return fatal_binlog_error(
        with_coordinates(fmt::format("I/O error reading log event (binlog-relay: {})", why.message())));
  }
  // The details name paths on the relay's host: they go to the log, not to the replica.
  services_.store.report_damage(file_name_, position_, why.message());
  spdlog::error("dump for {}: {}; {}", session_.peer_address(), why.message(),
                stored_damage_advice(services_.store));
  return fatal_binlog_error(
      with_coordinates(fmt::format("I/O error reading log event (binlog-relay: the relay's stored copy of "
                                   "'{}' cannot be read from position {}: "
                                   "it is damaged)",
                                   file_name_, position_)));
}

Error DumpSession::bogus_event(const Error& why) const {
  return fatal_binlog_error(with_coordinates("bogus data in log event (" + why.message() + ")"));
}

Result<const binlog::EventView*> DumpSession::view_of(LazyEvent& event) const {
  if (!event.view) {
    auto viewed = binlog::view_event(event.bytes, event.checksum);
    if (!viewed) return bogus_event(viewed.error());
    event.view = *viewed;
  }
  return &*event.view;
}

Result<binlog::EventBoundary> DumpSession::track_boundary(LazyEvent& event) {
  BRELAY_ASSIGN_OR_RETURN(const binlog::EventView* view, view_of(event));
  auto fed = tracker_.feed(*view);
  if (!fed) return bogus_event(fed.error());
  return *fed;
}

Result<bool> DumpSession::skip_for_mysql_gtids(LazyEvent& event, std::uint64_t position, std::uint64_t next,
                                               net::PacketBatch& out) {
  std::optional<binlog::Gtid> gtid;
  if (MysqlGtidSkipper::needs_gtid(event.type)) {
    BRELAY_ASSIGN_OR_RETURN(const binlog::EventView* view, view_of(event));
    auto parsed = binlog::parse_gtid_event(*view);
    if (!parsed) return bogus_event(parsed.error());
    gtid = parsed->gtid;
  }
  const MysqlGtidSkipper::Decision decision =
      mysql_skipper_->decide(event.type, gtid ? &*gtid : nullptr, next);
  switch (decision.verdict) {
    case MysqlGtidSkipper::Verdict::kAnonymousRefused:
      return fatal_binlog_error(with_coordinates(fmt::format(
          "Cannot replicate anonymous transaction when AUTO_POSITION = 1, at file {}, position {}.",
          file_name_, position)));
    case MysqlGtidSkipper::Verdict::kSkip:
      position_ = next;
      if (heartbeats_.due_while_skipping(std::chrono::steady_clock::now() - last_send_time_)) {
        add_heartbeat(out, next);
        last_send_time_ = std::chrono::steady_clock::now();
        mysql_skipper_->announced();
      }
      return true;
    case MysqlGtidSkipper::Verdict::kSend: break;
  }
  if (decision.announce_before != 0) add_heartbeat(out, decision.announce_before);
  return false;
}

Result<bool> DumpSession::skip_for_mariadb_state(LazyEvent& event, const binlog::EventBoundary& boundary,
                                                 std::uint64_t next, net::PacketBatch& out) {
  if (event.type == EventType::kMariadbGtid) {
    BRELAY_ASSIGN_OR_RETURN(const binlog::EventView* view, view_of(event));
    auto gtid = binlog::parse_mariadb_gtid(*view);
    if (!gtid) return fatal_binlog_error(with_coordinates("Failed to read Gtid_log_event: corrupt binlog"));
    BRELAY_TRY(mariadb_skipper_->on_gtid(gtid->gtid));
  }
  const MariadbGtidSkipper::SkipDecision decision = mariadb_skipper_->skip(boundary);
  if (!decision.skip) return false;
  position_ = next;
  if (decision.fake_gtid_list_after) add_fake_gtid_list(out, next);
  track_transactions_ = request_.semi_sync || mariadb_skipper_->needs_boundaries();
  return true;
}

Result<std::optional<ByteView>> DumpSession::for_mariadb_replica(LazyEvent& event) {
  const int capability = request_.mariadb_capability.value_or(mariadb_capability::kUnknown);
  bool standalone_gtid = false;
  if (mariadb_compatibility_needs_gtid(event.type, capability)) {
    BRELAY_ASSIGN_OR_RETURN(const binlog::EventView* view, view_of(event));
    auto gtid = binlog::parse_mariadb_gtid(*view);
    if (!gtid) return fatal_binlog_error(with_coordinates("Failed to read Gtid_log_event: corrupt binlog"));
    standalone_gtid = gtid->standalone();
  }
  Result<Bytes> replaced = Bytes();
  switch (mariadb_compatibility(event.type, capability, request_.send_annotate_rows(), standalone_gtid)) {
    case MariadbCompatibility::kSend: return std::optional<ByteView>(event.bytes);
    case MariadbCompatibility::kSkip: return std::optional<ByteView>();
    case MariadbCompatibility::kSendDummy:
      replaced = binlog::mariadb_dummy_event(event.bytes, checksum_on());
      break;
    case MariadbCompatibility::kSendGtidForOldReplica:
      replaced = binlog::mariadb_gtid_for_old_replica(event.bytes, checksum_on());
      break;
  }
  if (!replaced) return fatal_binlog_error(with_coordinates(replaced.error().message()));
  return std::optional<ByteView>(keep(std::move(*replaced)));
}

void DumpSession::add_fake_gtid_list(net::PacketBatch& out, std::uint64_t next) {
  add_packet(out, keep(build_fake_gtid_list(artificial_server_id(), mariadb_skipper_->fake_gtid_list(), next,
                                            checksum_on())));
}

void DumpSession::wait_for_commit() {
  state_ = State::kWaitingForCommit;
  arm_heartbeat();
}

void DumpSession::wait_for_gate(const DumpGate::Verdict& verdict) {
  state_ = State::kWaitingForGate;
  if (verdict.held && logged_hold_ != fmt::format("{}:{}", file_name_, position_)) {
    logged_hold_ = fmt::format("{}:{}", file_name_, position_);
    spdlog::warn(
        "dump for {} (server_id {}) holds before the target hazard at {} ([server] hold_on_hazard): "
        "RELEASE HAZARD '{}' (or its GTID) lets it continue",
        session_.peer_address(), request_.server_id, logged_hold_, logged_hold_);
  }
  arm_heartbeat();
  gate_timer_.start(verdict.retry_after, [this] {
    if (state_ != State::kWaitingForGate) return;
    heartbeat_timer_.stop();
    pump();
  });
}

void DumpSession::arm_heartbeat() {
  if (!heartbeats_.enabled()) return;
  heartbeat_timer_.start(heartbeats_.idle_delay(std::chrono::steady_clock::now() - last_send_time_),
                         [this] { on_heartbeat_timer(); });
}

void DumpSession::on_heartbeat_timer() {
  if (state_ != State::kWaitingForCommit && state_ != State::kWaitingForGate) return;
  const auto elapsed = std::chrono::steady_clock::now() - last_send_time_;
  // Never between a ROTATE and the next file's FDE (MDEV-29981): wait for the next file instead.
  if (heartbeats_.due_while_idle(elapsed, last_sent_rotate_)) {
    net::PacketBatch& out = session_.batch();
    synthesized_.clear();
    add_heartbeat(out, position_);
    if (!send(out)) return;
  }
  arm_heartbeat();
}

void DumpSession::finish_non_blocking() {
  state_ = State::kFinished;
  heartbeat_timer_.stop();
  gate_timer_.stop();
  if (subscription_) {
    services_.commits.unsubscribe(*subscription_);
    subscription_.reset();
  }
  services_.registry.end_dump(session_.connection_id());
  reader_.reset();
  if (Status sent = session_.send_stream_packet(net::encode_eof(net::EofPacket())); !sent) {
    session_.close(sent);
    return;
  }
  session_.end_stream();
}

void DumpSession::on_drained() {
  if (state_ == State::kWaitingForDrain) pump();
}

void DumpSession::on_stream_packet(ByteView payload) {
  if (!request_.semi_sync || payload.empty() || payload[0] != net::kSemiSyncIndicator) return;
  auto ack = net::decode_semi_sync_ack(payload);
  if (!ack) {
    spdlog::warn("replica {}: a malformed semi-sync acknowledgement: {}", session_.peer_address(),
                 ack.error().message());
    return;
  }
  acknowledged_ = {ack->file_name, ack->position};
  services_.registry.acknowledge(session_.connection_id(), ack->file_name, ack->position);
}

void DumpSession::stop_with_error(const Error& error) {
  fail(error);
}

void DumpSession::fail(Error error) {
  if (state_ == State::kFinished) return;
  state_ = State::kFinished;
  heartbeat_timer_.stop();
  gate_timer_.stop();
  if (subscription_) {
    services_.commits.unsubscribe(*subscription_);
    subscription_.reset();
  }
  services_.registry.end_dump(session_.connection_id());
  if (reader_) reader_->release();
  spdlog::warn("dump for {} ended: {}", session_.peer_address(), cut_for_log(error.message()));
  const net::ErrPacket packet = to_err_packet(error);
  session_.close(Status(std::move(error)), packet);
}

Error DumpSession::same_replica_error() const {
  if (mariadb_source_) {
    return Error(
        with_coordinates("A slave with the same server_uuid/server_id as this slave has connected to the "
                         "master"),
        kMariadbSlaveSameId);
  }
  return fatal_binlog_error(
      with_coordinates(fmt::format("A {0} with the same server_uuid/server_id as this {0} has "
                                   "connected to the {1}",
                                   wording_.replica(), wording_.source())));
}

}  // namespace brelay::relay::downstream
