#include "relay/upstream/upstream.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>
#include <uv.h>

#include "net/replication_commands.h"
#include "relay/core/source_identity.h"
#include "relay/upstream/upstream_connection.h"
#include "storage/store_format.h"

namespace brelay::relay {
namespace {

using std::chrono::milliseconds;

// Hand the writer what is batched once it reaches this size, even in the middle of a burst, and
// before an event that would take it past. Each batch reserves this much when it is handed out, so
// filling it neither reallocates nor copies (only an event larger than this grows its batch).
constexpr std::size_t kSubmitBytes = std::size_t{1} << 20;
constexpr std::size_t kBatchReserveEvents = 1024;
// The first retry after a failure; [source] reconnect_max_delay caps the doubling.
constexpr milliseconds kFirstRetryDelay{250};
// Setup queries and connection attempts that take longer than this are given up.
constexpr milliseconds kSetupTimeout{30'000};

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "binlog-relay";
  return name;
}

// No packet for this long means the connection is dead: heartbeats come every heartbeat_period.
milliseconds liveness_timeout(milliseconds heartbeat_period) {
  return std::max(heartbeat_period * 3, milliseconds(8'000));
}

// The GTID set in the first column of a one-row answer (SELECT @@GLOBAL.gtid_purged), if it parses.
std::optional<binlog::GtidSet> purged_gtids_of(const Result<net::QueryResult>& reply) {
  if (!reply) return std::nullopt;
  const std::optional<std::string> text = first_value(*reply);
  if (!text) return std::nullopt;
  auto set = binlog::GtidSet::parse(*text);
  if (!set) return std::nullopt;
  return std::move(*set);
}

// Asks SHOW BINARY LOGS and, with `ask_purged_gtids`, @@GLOBAL.gtid_purged; what could not be
// read stays unknown in the result handed to `done`.
void ask_source_binlogs(net::MySqlClient& client, bool ask_purged_gtids,
                        const std::function<void(const SourceBinlogs&)>& done) {
  client.query("SHOW BINARY LOGS", [&client, ask_purged_gtids, done](Result<net::QueryResult> reply) {
    SourceBinlogs binlogs;
    if (reply && reply->has_rows) {
      binlogs.listed = true;
      for (const auto& row : reply->result_set.rows) {
        if (!row.empty() && row[0]) binlogs.names.push_back(*row[0]);
      }
    }
    if (!ask_purged_gtids) {
      done(binlogs);
      return;
    }
    client.query("SELECT @@GLOBAL.gtid_purged",
                 [done, binlogs = std::move(binlogs)](const Result<net::QueryResult>& purged) mutable {
                   binlogs.purged_gtids = purged_gtids_of(purged);
                   done(binlogs);
                 });
  });
}

}  // namespace

std::string_view to_string(UpstreamState state) {
  switch (state) {
    case UpstreamState::kConnecting: return "connecting";
    case UpstreamState::kSettingUp: return "setting up";
    case UpstreamState::kStreaming: return "streaming";
    case UpstreamState::kWaitingToReconnect: return "waiting to reconnect";
    case UpstreamState::kWaitingForStore: return "waiting for the store";
    case UpstreamState::kStopped: return "stopped with an error";
    case UpstreamState::kShutDown: return "shut down";
  }
  return "unknown";
}

Upstream::Upstream(RelayContext& context)
    : context_(context),
      config_(context.config.source),
      hazard_guard_(context.hazards, context.metrics),
      backoff_(kFirstRetryDelay, context.config.source.reconnect_max_delay),
      retire_timer_(context.loop.raw()),
      reconnect_timer_(context.loop.raw()),
      flush_timer_(context.loop.raw()),
      liveness_timer_(context.loop.raw()),
      connected_gauge_(context.metrics.gauge("binlog_relay_upstream_connected",
                                             "1 while the relay streams the source's binlog, else 0")),
      seconds_behind_gauge_(context.metrics.gauge(
          "binlog_relay_source_seconds_behind",
          "How far the stored stream is behind the source, in seconds (event timestamps and heartbeats)")),
      received_bytes_counter_(context.metrics.counter("binlog_relay_received_bytes_total",
                                                      "Binlog event bytes received from the source")),
      received_events_counter_(context.metrics.counter("binlog_relay_received_events_total",
                                                       "Binlog events received from the source")),
      reconnects_counter_(context.metrics.counter("binlog_relay_upstream_reconnects_total",
                                                  "Connections to the source after the first")),
      acknowledgements_counter_(
          context.metrics.counter("binlog_relay_semi_sync_acknowledgements_total",
                                  "Semi-sync acknowledgements sent to the source after the durable commit")),
      switches_counter_(
          context.metrics.counter("binlog_relay_source_switches_total",
                                  "Failovers: the relay continued from another [source] hosts server")) {
  status_.source_address = fmt::format("{}:{}", config_.host, config_.port);
  if (failover_configured()) {
    restore_followed_host();
    status_.source_address = current_host().to_string();
    set_source_label(current_host().to_string());
  }
}

Upstream::~Upstream() {
  // stop() closes the connection and the timers; nothing it does may leave a destructor.
  try {
    stop();
  } catch (...) {
  }
}

Status Upstream::start() {
  if (started_) return {};
  started_ = true;
  BRELAY_TRY(restore_from_store(context_.store.durable_end()));
  status_.durable_end = context_.store.durable_end();
  writer_restarts_seen_ = context_.writer.progress().restarts;
  subscription_ = context_.commits.subscribe([this](const auto& progress) { on_progress(progress); });
  next_batch();
  if (handler_.empty()) {
    spdlog::info("upstream: the store is empty; starting at {} of {}",
                 config_.start_file.empty()
                     ? std::string("the first binlog")
                     : fmt::format("{}:{}", config_.start_file, config_.start_position),
                 status_.source_address);
  }
  source_alive_ms_ = uv_now(context_.loop.raw());
  connect();
  return {};
}

Status Upstream::restore_from_store(const std::optional<storage::ResumePoint>& end) {
  StoredStreamEnd stored;
  stored.durable_end = end;
  if (end) {
    BRELAY_ASSIGN_OR_RETURN(std::optional<storage::FileInfo> file, context_.store.find_file(end->file));
    stored.file_closed = file && file->closed;
    if (stored.file_closed) {
      BRELAY_ASSIGN_OR_RETURN(std::optional<Bytes> next, context_.store.get_meta(kUpstreamNextFileMetaKey));
      if (next) {
        auto record = storage::NextFileRecord::decode(*next);
        if (!record) {
          // As before the record was typed: without it the relay asks the source for the file
          // after the closed one, which is only slower.
          spdlog::warn("upstream: ignoring the store's record of where the source continues after {}: {}",
                       end->file, record.error().message());
        } else if (record->closed_file == end->file) {
          stored.next_file = std::move(record->next_file);
          stored.next_position = record->next_position;
        }
      }
    }
  }
  handler_.restore(stored);
  acknowledger_.reset();
  acknowledger_.note_file(handler_.file_ordinal(), handler_.file());
  return {};
}

net::ClientOptions Upstream::client_options() const {
  if (config_.hosts.empty()) return client_options(net::HostPort{config_.host, config_.port});
  return client_options(current_host());
}

net::ClientOptions Upstream::client_options(const net::HostPort& host) const {
  net::ClientOptions options;
  options.host = host.host;
  options.port = host.port;
  options.user = config_.user;
  options.password = config_.password;
  options.tls_mode = config_.tls;
  options.tls_ca_file = config_.tls_ca;
  options.connect_attributes = {{"_client_name", "binlog-relay"},
                                {"program_name", "binlog-relay"},
                                {"_client_role", "binary_log_listener"}};
  return options;
}

void Upstream::connect() {
  if (shut_down_ || stopped_with_error_ || writer_stopped_) return;
  set_state(UpstreamState::kConnecting);
  connection_ = std::make_unique<Connection>(*this, client_options());
  Connection* connection = connection_.get();
  last_activity_ms_ = uv_now(context_.loop.raw());
  stored_on_this_connection_ = false;
  connection->client->connect([this, connection](const Status& status) { on_connected(connection, status); });
  if (!liveness_timer_.active()) {
    liveness_timer_.start(milliseconds(1000), [this] { check_liveness(); });
  }
}

void Upstream::on_connected(Connection* connection, const Status& status) {
  if (connection != connection_.get()) return;
  if (!status) {
    connection_failed("connect", status.error());
    return;
  }
  set_state(UpstreamState::kSettingUp);
  const Flavor flavor = flavor_of_version(connection->client->greeting().server_version);
  request_ = handler_.plan_dump(config_.gtid && !force_file_position_, flavor, config_.start_file,
                                config_.start_position);
  force_file_position_ = false;
  SourceSetupOptions options;
  options.relay_server_id = config_.server_id;
  options.relay_uuid = context_.server_uuid;
  options.report_host = host_name();
  options.heartbeat_period = config_.heartbeat_period;
  options.semi_sync = config_.semi_sync;
  options.gtid_dump = request_.kind == DumpRequest::Kind::kGtid;
  options.mariadb_connect_state = request_.mariadb_state.to_string();
  options.table_keys = true;
  connection->setup = std::make_unique<SourceSetup>(*connection->client, std::move(options));
  connection->setup->run(
      [this, connection](Result<SourceSetupResult> result) { on_setup_done(connection, std::move(result)); });
}

void Upstream::on_setup_done(Connection* connection, Result<SourceSetupResult> result) {
  if (connection != connection_.get()) return;
  if (!result) {
    if (connection->setup->fatal()) {
      stop_with_error("source_config", fmt::format("the source {} refuses the relay's configuration: {}",
                                                   status_.source_address, result.error().message()));
    } else {
      connection_failed("setup", result.error());
    }
    return;
  }
  setup_ = std::move(result).value();
  // The identity is kept once the source streams and its first packet passed the stream handler
  // (on_stream_packet): a source that refuses the dump, such as a relay that does not know its own
  // source yet, or whose stream is refused, leaves the one the relay had.
  identity_pending_ = true;
  if (setup_.table_keys) hazard_guard_.seed(*setup_.table_keys);
  setup_.table_keys.reset();
  handler_.begin_connection(request_, setup_.announced, setup_.identity.flavor);

  Bytes dump;
  const bool mariadb = setup_.identity.flavor == Flavor::kMariadb;
  if (request_.kind == DumpRequest::Kind::kGtid && !mariadb) {
    net::BinlogDumpGtid command;
    command.server_id = config_.server_id;
    command.position = 4;
    command.gtid_set = request_.mysql_set.encode();
    dump = net::encode_binlog_dump_gtid(command);
  } else {
    net::BinlogDump command;
    command.server_id = config_.server_id;
    command.file_name = request_.file;
    command.position = static_cast<std::uint32_t>(request_.position);
    // MariaDB leaves ANNOTATE_ROWS events out of a dump unless asked: they are part of the files.
    if (mariadb) command.flags = net::dump_flag::kHeartbeatV2OrAnnotateRows;
    dump = net::encode_binlog_dump(command);
  }
  status_.source_version = setup_.identity.version;
  status_.tls = connection->client->tls();
  status_.semi_sync = setup_.semi_sync;
  status_.dump_request = request_.describe();
  connection->streaming = true;
  connection->client->start_stream(std::move(dump), connection);
  last_activity_ms_ = uv_now(context_.loop.raw());
  connected_gauge_.set(1);
  set_state(UpstreamState::kStreaming);
  if (config_.semi_sync && !setup_.semi_sync) {
    spdlog::warn(
        "upstream: [source] semi_sync is on, but the source does not have semi-sync enabled "
        "(rpl_semi_sync_master_enabled = OFF or the plugin is not loaded): streaming without "
        "acknowledgements");
  }
  spdlog::info("upstream: connected to {} ({}, {}{}{}), pulling from {}", status_.source_address,
               setup_.identity.version,
               status_.tls ? fmt::format("TLS {}", connection->client->tls_version()) : "no TLS",
               setup_.announced == binlog::ChecksumAlgorithm::kCrc32 ? ", CRC32" : ", no checksums",
               setup_.semi_sync ? ", semi-sync" : "", status_.dump_request);
}

void Upstream::keep_source_identity(const SourceIdentity& identity) {
  if (context_.source && *context_.source == identity) return;
  if (context_.source && context_.source->server_id != identity.server_id) {
    spdlog::warn("upstream: the source's server_id changed from {} to {}", context_.source->server_id,
                 identity.server_id);
  }
  context_.source = identity;
  batch_.put_meta(kSourceIdentityMetaKey, encode_source_identity(identity));
  schedule_flush();
}

void Upstream::keep_pending_identity() {
  identity_pending_ = false;
  keep_source_identity(setup_.identity);
}

void Upstream::on_stream_packet(Connection* connection, ByteView payload) {
  if (connection != connection_.get()) return;
  last_activity_ms_ = uv_now(context_.loop.raw());
  source_alive_ms_ = last_activity_ms_;
  auto envelope = net::decode_dump_envelope(payload, setup_.semi_sync);
  if (!envelope) {
    connection_failed("malformed_event", envelope.error());
    return;
  }
  const ByteView event = envelope->event;
  const bool ack_requested = envelope->ack_requested;
  ++unreported_events_;
  unreported_bytes_ += event.size();
  if (batch_.byte_size() + event.size() > kSubmitBytes) {
    submit_batch();
    if (connection != connection_.get()) return;  // the writer stopped: the connection is gone
  }
  const bool had_file = !handler_.empty();
  const std::uint64_t transaction_start = handler_.boundary_position();
  auto outcome = handler_.handle_event(event, batch_);
  if (!outcome) {
    const StreamFault fault = handler_.last_fault();
    connection_failed(to_string(fault), outcome.error(), fault == StreamFault::kGtidStartFile);
    if (fault == StreamFault::kGtidStartFile) force_file_position_ = true;
    return;
  }
  if (identity_pending_) keep_pending_identity();
  switch (outcome->kind) {
    case EventOutcome::Kind::kHeartbeat:
      if (status_.source_file != outcome->source_file)
        status_.source_file = std::string(outcome->source_file);
      status_.source_position = outcome->source_position;
      caught_up_ =
          outcome->source_file == handler_.file() && outcome->source_position <= handler_.next_position();
      update_seconds_behind();
      break;
    case EventOutcome::Kind::kStored:
      if (outcome->began_file) {
        acknowledger_.note_file(handler_.file_ordinal(), handler_.file());
        if (had_file) {
          spdlog::info("upstream: the source rotated to {}", handler_.file());
        } else {
          spdlog::info("upstream: storing {} from position {}", handler_.file(),
                       handler_.file_first_position());
        }
        if (lost_source_ms_ != 0) {
          spdlog::info(
              "upstream: the first event from the new source {} is stored ({}:{}), {} ms after "
              "the previous source was lost",
              status_.source_address, handler_.file(), handler_.file_first_position(),
              last_activity_ms_ - lost_source_ms_);
          lost_source_ms_ = 0;
        }
      }
      if (status_.source_file != handler_.file()) status_.source_file = handler_.file();
      if (!stored_on_this_connection_ && outcome->boundary) {
        stored_on_this_connection_ = true;
        backoff_.reset();
      }
      if (outcome->header.timestamp != 0) last_event_timestamp_ = outcome->header.timestamp;
      hazard_guard_.on_stored_event(
          event, handler_.checksum_algorithm(),
          {handler_.file(), outcome->began_file ? handler_.file_first_position() : transaction_start,
           &handler_.last_gtid()});
      caught_up_ = false;
      status_.source_position = outcome->source_position;
      break;
    case EventOutcome::Kind::kAlreadyStored:
    case EventOutcome::Kind::kArtificial: break;
  }
  if (ack_requested) {
    acknowledger_.request(handler_.file_ordinal(), outcome->source_position);
    if (const auto& synced = context_.commits.latest().synced_end) send_due_acknowledgement(*synced);
  }
  if (batch_.byte_size() >= kSubmitBytes) {
    submit_batch();
  } else {
    schedule_flush();
  }
}

void Upstream::on_stream_end(Connection* connection, const Status& status) {
  if (connection != connection_.get()) return;
  connection->streaming = false;
  if (status) {
    connection_failed("source", make_error("the source ended the dump (EOF)"));
    return;
  }
  if (is_dump_refused(status.error().code())) {
    on_dump_refused(status.error());
    return;
  }
  const bool server_error = status.error().code() > 0;
  connection_failed(server_error ? "source" : "network", status.error());
}

void Upstream::on_dump_refused(const Error& error) {
  // The source ends a connection whose dump failed: a second one asks which binlogs it still has,
  // to decide whether it purged what the relay needs and to say exactly what is missing.
  drop_connection();
  set_state(UpstreamState::kSettingUp);
  probe_ = std::make_unique<Connection>(*this, client_options());
  Connection* probe = probe_.get();
  auto finish = [this, probe, error](const SourceBinlogs& binlogs) {
    if (probe != probe_.get()) return;
    retire(std::move(probe_));
    report_dump_refusal(error, binlogs);
  };
  const bool ask_purged_gtids = mysql_gtid_dump();
  probe->client->connect([probe, finish, ask_purged_gtids](const Status& connected) {
    if (!connected) {
      finish(SourceBinlogs{});
      return;
    }
    ask_source_binlogs(*probe->client, ask_purged_gtids, finish);
  });
}

bool Upstream::mysql_gtid_dump() const {
  return request_.kind == DumpRequest::Kind::kGtid && setup_.identity.flavor != Flavor::kMariadb;
}

void Upstream::report_dump_refusal(const Error& error, const SourceBinlogs& binlogs) {
  const std::string needed =
      request_.kind == DumpRequest::Kind::kGtid
          ? fmt::format("the transactions after {}", request_.describe())
          : (request_.file.empty() ? std::string("the source's first binlog")
                                   : fmt::format("{} from position {} on", request_.file, request_.position));
  const std::string& text = error.message();
  const std::string store_end = handler_.empty() ? std::string("the relay's store is empty")
                                                 : fmt::format("the relay's store ends at {}:{}",
                                                               handler_.file(), handler_.boundary_position());
  // A GTID dump names the relay's own file only to make the source's log readable; it is judged by
  // that file only while the source names its binlogs alike (not after a failover to another server).
  const std::string relay_file = !request_.file.empty() ? request_.file : handler_.file();
  const std::string needed_file(request_.kind == DumpRequest::Kind::kGtid
                                    ? gtid_dump_needed_file(relay_file, binlogs)
                                    : std::string_view(relay_file));
  const binlog::GtidSet* requested_gtids = mysql_gtid_dump() ? &request_.mysql_set : nullptr;
  if (classify_dump_refusal(error.code(), needed_file, binlogs, requested_gtids) == DumpRefusal::kPurged) {
    const std::string oldest = !binlogs.listed ? std::string("could not be listed")
                               : binlogs.names.empty()
                                   ? std::string("are all gone")
                                   : fmt::format("now begin with {}", binlogs.names.front());
    stop_with_error(
        "purged",
        fmt::format("the source purged binlogs the relay needs: {}; the relay needs {}, but the source's "
                    "binlogs {} (the source said: {}). The relay stopped pulling and keeps serving what "
                    "it stored. To continue, restore the missing binlogs on the source, or start a relay "
                    "on an empty data directory with [source] start_file set to a binlog the source has",
                    store_end, needed, oldest, text));
    return;
  }
  stop_with_error("source_refused",
                  fmt::format("the source refused to send {} ({}; the source said: {}). The relay stopped "
                              "pulling and keeps serving what it stored; restart it once the source is fixed",
                              needed, store_end, text));
}

void Upstream::retire(std::unique_ptr<Connection> connection) {
  if (!connection) return;
  connection->streaming = false;
  connection->client->close();
  retired_.push_back(std::move(connection));
  retire_timer_.start(milliseconds(0), [this] { retired_.clear(); });
}

void Upstream::submit_batch() {
  flush_timer_.stop();
  if (unreported_events_ > 0) {
    received_events_counter_.add(static_cast<double>(unreported_events_));
    received_bytes_counter_.add(static_cast<double>(unreported_bytes_));
    status_.received_events += unreported_events_;
    status_.received_bytes += unreported_bytes_;
    unreported_events_ = 0;
    unreported_bytes_ = 0;
    if (status_.state == UpstreamState::kStreaming) update_seconds_behind();
  }
  if (batch_.empty()) return;
  status_.received_file = handler_.file();
  status_.received_position = handler_.next_position();
  auto admitted = context_.writer.submit(std::move(batch_));
  next_batch();
  if (!admitted) {
    on_writer_stopped(admitted.error());
    return;
  }
  if (admitted->queue_full && !stream_paused_ && connection_ && connection_->streaming) {
    stream_paused_ = true;
    connection_->client->pause_stream();
  }
}

void Upstream::next_batch() {
  batch_ = context_.writer.take_batch();
  batch_.reserve(kSubmitBytes, kBatchReserveEvents);
}

void Upstream::schedule_flush() {
  if (!flush_timer_.active()) flush_timer_.start(milliseconds(0), [this] { submit_batch(); });
}

void Upstream::on_progress(const storage::StoreWriter::Progress& progress) {
  status_.durable_end = progress.durable_end;
  if (!progress.accepting) {
    if (progress.error) on_writer_stopped(*progress.error);
    return;
  }
  if (progress.restarts > writer_restarts_seen_ && !stopped_with_error_ && !shut_down_) {
    // The writer resumed after an error: it dropped what was queued; pull again from its end.
    writer_restarts_seen_ = progress.restarts;
    writer_stopped_ = false;
    batch_.clear();
    if (auto restored = restore_from_store(progress.durable_end); !restored) {
      stop_with_error("store", fmt::format("reading the store's end after the writer resumed: {}",
                                           restored.error().message()));
      return;
    }
    spdlog::info("upstream: the storage writer accepts events again; pulling from {}", resume_description());
    reconnect_timer_.stop();
    connect();
    return;
  }
  if (progress.synced_end && setup_.semi_sync) send_due_acknowledgement(*progress.synced_end);
  if (stream_paused_ && !progress.queue_full) {
    stream_paused_ = false;
    last_activity_ms_ = uv_now(context_.loop.raw());
    if (connection_ && connection_->streaming) connection_->client->resume_stream();
  }
}

void Upstream::on_writer_stopped(const Error& error) {
  if (writer_stopped_ || shut_down_ || stopped_with_error_) return;
  writer_stopped_ = true;
  count_error("store");
  status_.last_error = error.message();
  spdlog::error("upstream: pausing the pull from the source: {}", error.message());
  drop_connection();
  batch_.clear();
  reconnect_timer_.stop();
  set_state(UpstreamState::kWaitingForStore);
}

void Upstream::send_due_acknowledgement(const storage::ResumePoint& durable_end) {
  if (!connection_ || !connection_->streaming || !setup_.semi_sync) return;
  const auto ack = acknowledger_.due(durable_end);
  if (!ack) return;
  if (Status sent = connection_->client->send_packet(net::encode_semi_sync_ack(*ack), 0); !sent) {
    connection_failed("network", sent.error().with_context("sending a semi-sync acknowledgement"));
    return;
  }
  ++status_.acknowledgements;
  acknowledgements_counter_.add();
  spdlog::trace("upstream: acknowledged {}:{} (durable end {}:{})", ack->file_name, ack->position,
                durable_end.file, durable_end.position);
}

void Upstream::check_liveness() {
  if (shut_down_) return;
  liveness_timer_.start(milliseconds(1000), [this] { check_liveness(); });
  if (!connection_ || stream_paused_) return;
  const std::uint64_t idle = uv_now(context_.loop.raw()) - last_activity_ms_;
  if (status_.state == UpstreamState::kStreaming) {
    if (config_.heartbeat_period.count() == 0) return;
    const milliseconds limit = liveness_timeout(config_.heartbeat_period);
    if (idle > static_cast<std::uint64_t>(limit.count())) {
      connection_failed("timeout",
                        make_error("no packet from the source for {} ms, although heartbeats are due "
                                   "every {} ms",
                                   idle, config_.heartbeat_period.count()));
    }
  } else if (status_.state == UpstreamState::kConnecting || status_.state == UpstreamState::kSettingUp) {
    if (idle > static_cast<std::uint64_t>(kSetupTimeout.count())) {
      connection_failed("timeout", make_error("the source did not answer for {} ms while {}", idle,
                                              to_string(status_.state)));
    }
  }
}

std::string Upstream::resume_description() const {
  if (handler_.empty()) return "the start";
  return fmt::format("{}:{}", handler_.file(), handler_.boundary_position());
}

void Upstream::update_seconds_behind() {
  std::int64_t behind = 0;
  if (!caught_up_ && last_event_timestamp_ != 0) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    behind = std::max<std::int64_t>(0, now + setup_.clock_offset_seconds - last_event_timestamp_);
  }
  status_.seconds_behind_source = behind;
  seconds_behind_gauge_.set(static_cast<double>(behind));
}

void Upstream::drop_connection() {
  // Moved out first: closing the client and submitting may call back into the upstream.
  std::unique_ptr<Connection> connection = std::move(connection_);
  stream_paused_ = false;
  if (connection) {
    retire(std::move(connection));
    handler_.end_connection(batch_);
    acknowledger_.clear();
    submit_batch();
  }
  connected_gauge_.set(0);
  status_.seconds_behind_source.reset();
  status_.semi_sync = false;
}

void Upstream::connection_failed(std::string_view kind, const Error& error, bool retry_at_once) {
  if (shut_down_ || stopped_with_error_) return;
  const bool was_streaming = status_.state == UpstreamState::kStreaming;
  drop_connection();
  if (writer_stopped_) return;  // drop_connection's submit found the writer stopped
  count_error(kind);
  status_.last_error = error.message();
  if (failover_due()) {
    spdlog::warn(
        "upstream: lost the source {}: {} ({}); it has been gone for {} ms ([source] failover_after "
        "{} ms): looking for another of [source] hosts",
        status_.source_address, error.message(), kind, uv_now(context_.loop.raw()) - source_alive_ms_,
        config_.failover_after.count());
    start_failover();
    return;
  }
  milliseconds delay = retry_at_once ? milliseconds(0) : backoff_.next_delay();
  if (failover_configured()) {
    // Not past failover_after: try the current source again, at the latest when it is due.
    const auto gone = static_cast<std::int64_t>(uv_now(context_.loop.raw()) - source_alive_ms_);
    delay = std::clamp(config_.failover_after - milliseconds(gone), milliseconds(0), delay);
  }
  if (retry_at_once) {
    spdlog::info("upstream: {}", error.message());
  } else {
    spdlog::warn("upstream: {} {} ({}); reconnecting in {} ms from {}",
                 was_streaming ? "lost the source's stream:" : "could not connect to the source:",
                 error.message(), kind, delay.count(), resume_description());
  }
  set_state(UpstreamState::kWaitingToReconnect);
  reconnect_timer_.start(delay, [this] {
    ++status_.reconnects;
    reconnects_counter_.add();
    connect();
  });
}

void Upstream::stop_with_error(std::string_view kind, const std::string& message) {
  if (shut_down_) return;
  drop_connection();
  count_error(kind);
  stopped_with_error_ = true;
  reconnect_timer_.stop();
  status_.last_error = message;
  spdlog::error("upstream: {}", message);
  set_state(UpstreamState::kStopped);
}

void Upstream::stop() {
  if (shut_down_) return;
  reconnect_timer_.stop();
  liveness_timer_.stop();
  if (started_) {
    drop_connection();
    retire(std::move(probe_));
    retire(std::move(candidate_));
    submit_batch();
  }
  flush_timer_.stop();
  shut_down_ = true;
  if (subscription_) {
    context_.commits.unsubscribe(*subscription_);
    subscription_.reset();
  }
  set_state(UpstreamState::kShutDown);
}

void Upstream::count_error(std::string_view kind) {
  context_.metrics
      .counter("binlog_relay_upstream_errors_total", "Upstream failures by kind",
               {{"kind", std::string(kind)}})
      .add();
}

void Upstream::set_state(UpstreamState state) {
  if (status_.state == state) return;
  status_.state = state;
  if (state != UpstreamState::kStreaming) status_.seconds_behind_source.reset();
  if (state_listener_) state_listener_(status_);
}

}  // namespace brelay::relay
