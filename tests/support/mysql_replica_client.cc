#include "tests/support/mysql_replica_client.h"

#include <cstdlib>

#include "common/byte_reader.h"
#include "net/mysql_constants.h"
#include "net/replication_commands.h"
#include "net/timer.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/heartbeat_event.h"
#include "relay/binlog/rotate_event.h"

namespace brelay::testing {
namespace {

constexpr std::uint16_t kUnknownSystemVariable = 1193;

std::string value_of(const net::QueryResult& result) {
  if (!result.has_rows || result.result_set.rows.empty() || result.result_set.rows[0].empty() ||
      !result.result_set.rows[0][0])
    return "";
  return *result.result_set.rows[0][0];
}

}  // namespace

class MysqlReplicaClient::Receiver : public net::MySqlClient::StreamReceiver {
 public:
  explicit Receiver(MysqlReplicaClient& owner) : owner_(owner) {}

  void on_stream_packet(ByteView payload) override {
    if (ended) return;
    Status checked = owner_.on_packet(payload);
    if (!checked) {
      ended = true;
      outcome = checked;
      return;
    }
    if (done && !owner_.events_.empty() && done(owner_.events_.back())) stop = true;
  }
  void on_stream_end(const Status& status) override {
    ended = true;
    outcome = status;
  }

  MysqlReplicaClient& owner_;
  std::function<bool(const ReceivedEvent&)> done;
  bool ended = false;
  bool stop = false;
  Status outcome;
};

Result<std::unique_ptr<MysqlReplicaClient>> MysqlReplicaClient::connect(MysqlReplicaOptions options) {
  std::unique_ptr<MysqlReplicaClient> replica(new MysqlReplicaClient(std::move(options)));
  net::ClientOptions client;
  client.host = replica->options_.host;
  client.port = replica->options_.port;
  client.user = replica->options_.user;
  client.password = replica->options_.password;
  client.tls_mode = replica->options_.tls_mode;
  client.tls_ca_file = replica->options_.tls_ca_file;
  client.connect_attributes = {
      {"_client_role", "binary_log_listener"}, {"program_name", "mysqld"}, {"_client_name", "libmysql"}};
  client.connect_timeout = replica->options_.timeout;
  BRELAY_ASSIGN_OR_RETURN(replica->client_, net::BlockingClient::connect(std::move(client)));
  BRELAY_TRY(replica->setup());
  return replica;
}

MysqlReplicaClient::MysqlReplicaClient(MysqlReplicaOptions options) : options_(std::move(options)) {}

MysqlReplicaClient::~MysqlReplicaClient() {
  if (client_) client_->close();
}

Result<net::QueryResult> MysqlReplicaClient::query(const std::string& sql) {
  queries_.push_back(sql);
  return client_->query(sql);
}

Status MysqlReplicaClient::setup() {
  // 1. The version check on the greeting.
  const std::string& version = client_->greeting().server_version;
  if (version.empty() || version[0] < '0' || version[0] > '9' || std::atoi(version.c_str()) < 5)
    return make_error("the master's version '{}' is not one a replica accepts", version);
  // 2. Only warns on errors.
  (void)query("SELECT UNIX_TIMESTAMP()");
  // 3. The master's server id must differ from the replica's.
  auto server_id = query("SELECT @@GLOBAL.SERVER_ID");
  if (!server_id && server_id.error().code() != kUnknownSystemVariable)
    return server_id.error().with_context("SELECT @@GLOBAL.SERVER_ID");
  if (server_id && value_of(*server_id) == std::to_string(options_.server_id))
    return make_error("the master has the replica's own server_id {}", options_.server_id);
  // 4. The heartbeat period (any error is fatal).
  const long long period = static_cast<long long>(options_.heartbeat_period.count());
  if (options_.mysql57) {
    BRELAY_TRY(query(fmt::format("SET @master_heartbeat_period= {}", period)));
  } else {
    BRELAY_TRY(query(
        fmt::format("SET @master_heartbeat_period = {}, @source_heartbeat_period = {}", period, period)));
  }
  // 5. Checksum negotiation: one non-NULL row, NONE or CRC32.
  Result<net::QueryResult> set_checksum =
      options_.mysql57
          ? query("SET @master_binlog_checksum= @@global.binlog_checksum")
          : query(
                "SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = "
                "@@global.binlog_checksum");
  if (!set_checksum && set_checksum.error().code() != kUnknownSystemVariable) return set_checksum.error();
  if (set_checksum) {
    BRELAY_ASSIGN_OR_RETURN(auto selected, query(options_.mysql57 ? "SELECT @master_binlog_checksum"
                                                                  : "SELECT @source_binlog_checksum"));
    const std::string algorithm = value_of(selected);
    if (algorithm == "CRC32")
      announced_ = binlog::ChecksumAlgorithm::kCrc32;
    else if (algorithm == "NONE")
      announced_ = binlog::ChecksumAlgorithm::kOff;
    else
      return make_error("the master's checksum algorithm '{}' is neither NONE nor CRC32", algorithm);
  }
  // 6. GTID_MODE (1193 = OFF).
  auto gtid_mode = query("SELECT @@GLOBAL.GTID_MODE");
  if (!gtid_mode && gtid_mode.error().code() != kUnknownSystemVariable) return gtid_mode.error();
  if (gtid_mode) {
    const std::string mode = value_of(*gtid_mode);
    if (mode != "OFF" && mode != "OFF_PERMISSIVE" && mode != "ON_PERMISSIVE" && mode != "ON")
      return make_error("the master's GTID_MODE '{}' is not one a replica knows", mode);
  }
  // 7. The master's uuid must differ from the replica's.
  auto uuid = query("SELECT @@GLOBAL.SERVER_UUID");
  if (!uuid && uuid.error().code() != kUnknownSystemVariable) return uuid.error();
  if (uuid && value_of(*uuid) == options_.uuid)
    return make_error("the master has the replica's own server_uuid");
  // 8. The replica's uuid.
  if (options_.mysql57) {
    BRELAY_TRY(query(fmt::format("SET @slave_uuid= '{}'", options_.uuid)));
  } else {
    BRELAY_TRY(
        query(fmt::format("SET @slave_uuid = '{}', @replica_uuid = '{}'", options_.uuid, options_.uuid)));
  }
  // 9. COM_REGISTER_SLAVE.
  net::RegisterReplica registration;
  registration.server_id = options_.server_id;
  registration.host = "replica.test";
  registration.user = options_.user;
  registration.port = 3306;
  BRELAY_TRY(client_->command(net::encode_register_replica(registration)));
  // 10. Semi-sync, when the replica has it on.
  if (options_.semi_sync) {
    auto enabled = query(options_.mysql57 ? "SELECT @@global.rpl_semi_sync_master_enabled"
                                          : "SELECT @@global.rpl_semi_sync_source_enabled");
    if (!enabled) return enabled.error().with_context("semi-sync negotiation");
    if (value_of(*enabled) != "1") return make_error("the master does not have semi-sync enabled");
    BRELAY_TRY(query(options_.mysql57 ? "SET @rpl_semi_sync_slave= 1"
                                      : "SET @rpl_semi_sync_replica = 1, @rpl_semi_sync_slave = 1"));
  }
  return {};
}

Status MysqlReplicaClient::dump_from(const std::string& file, std::uint64_t position, std::uint16_t flags) {
  net::BinlogDump dump;
  dump.file_name = file;
  dump.position = static_cast<std::uint32_t>(position);
  dump.flags = flags;
  dump.server_id = options_.server_id;
  file_ = file;
  position_ = position;
  return start_stream(net::encode_binlog_dump(dump));
}

Status MysqlReplicaClient::dump_gtids(const binlog::GtidSet& executed) {
  net::BinlogDumpGtid dump;
  dump.server_id = options_.server_id;
  dump.position = 4;
  dump.gtid_set = executed.encode();
  if (options_.mysql57) {
    dump.flags = 0;
    dump.file_name = std::string(3, '\0');  // 5.7 sends strlen(file) NUL bytes
  } else {
    dump.flags = net::dump_flag::kHeartbeatV2OrAnnotateRows;
  }
  return start_stream(net::encode_binlog_dump_gtid(dump));
}

Status MysqlReplicaClient::start_stream(Bytes command) {
  receiver_ = std::make_unique<Receiver>(*this);
  client_->async().start_stream(std::move(command), receiver_.get());
  return {};
}

Status MysqlReplicaClient::receive(const std::function<bool(const ReceivedEvent&)>& done) {
  if (!receiver_) return make_error("no dump was started");
  if (receiver_->ended)
    return make_error("the stream has ended: {}",
                      receiver_->outcome ? "EOF" : receiver_->outcome.error().message());
  receiver_->done = done;
  receiver_->stop = false;
  bool timed_out = false;
  net::Timer timer(client_->loop().raw());
  timer.start(options_.timeout, [&] { timed_out = true; });
  while (!receiver_->ended && !receiver_->stop && !timed_out) {
    if (uv_run(client_->loop().raw(), UV_RUN_ONCE) == 0) break;
  }
  timer.stop();
  if (receiver_->stop) return {};
  if (receiver_->ended) return receiver_->outcome;
  return make_error("no stream end within {} ms ({} events received, at {}:{})", options_.timeout.count(),
                    events_.size(), file_, position_);
}

Status MysqlReplicaClient::receive_until_eof() {
  Status received = receive([](const ReceivedEvent&) { return false; });
  if (!received) return received;
  if (!receiver_->ended) return make_error("the stream did not end");
  return {};
}

Status MysqlReplicaClient::on_packet(ByteView payload) {
  ReceivedEvent received;
  ByteView event;
  if (payload.empty() || payload[0] != 0x00) return make_error("a stream packet without the 0x00 prefix");
  if (options_.semi_sync) {
    if (payload.size() < 3 || payload[1] != net::kSemiSyncIndicator)
      return make_error("a semi-sync stream packet without the 0xEF prefix");
    received.ack_requested = (payload[2] & net::kSemiSyncAckRequested) != 0;
    event = payload.subspan(3);
  } else {
    event = payload.subspan(1);
  }
  BRELAY_ASSIGN_OR_RETURN(binlog::EventHeader header, binlog::parse_event_header(event));
  if (header.event_size != event.size())
    return make_error("an event whose header says {} bytes arrived with {}", header.event_size, event.size());
  received.type = binlog::type_code(header.type);
  received.bytes.assign(event.begin(), event.end());
  const binlog::ChecksumAlgorithm current = seen_fde_ ? binlog_checksum_ : announced_;

  if (header.type == binlog::EventType::kRotate && (header.artificial() || header.log_pos == 0)) {
    if (current == binlog::ChecksumAlgorithm::kCrc32) BRELAY_TRY(binlog::verify_event_checksum(event));
    BRELAY_ASSIGN_OR_RETURN(binlog::EventView view, binlog::view_event(event, current));
    BRELAY_ASSIGN_OR_RETURN(binlog::RotateEvent rotate, binlog::parse_rotate(view));
    file_ = std::string(rotate.next_file);
    position_ = rotate.position;
    received.artificial = true;
    received.file = file_;
    events_.push_back(std::move(received));
    return {};
  }
  if (header.type == binlog::EventType::kFormatDescription) {
    BRELAY_ASSIGN_OR_RETURN(bool has_checksum, binlog::format_description_has_checksum(event));
    if (has_checksum) BRELAY_TRY(binlog::verify_event_checksum(event));
    BRELAY_ASSIGN_OR_RETURN(binlog::FormatDescription fde, binlog::parse_format_description(event));
    binlog_checksum_ = fde.checksum_algorithm;
    seen_fde_ = true;
    if (header.log_pos == 0) {
      received.artificial = true;
      received.file = file_;
      events_.push_back(std::move(received));
      return {};
    }
  } else if (binlog_checksum_ == binlog::ChecksumAlgorithm::kCrc32) {
    BRELAY_TRY(binlog::verify_event_checksum(event));
  }
  if (header.type == binlog::EventType::kHeartbeat || header.type == binlog::EventType::kHeartbeatV2) {
    BRELAY_ASSIGN_OR_RETURN(binlog::EventView view, binlog::view_event(event, binlog_checksum_));
    BRELAY_ASSIGN_OR_RETURN(binlog::Heartbeat heartbeat, binlog::parse_heartbeat(view));
    if (heartbeat.file != file_)
      return make_error("a heartbeat names {} while the replica is in {}", heartbeat.file, file_);
    if (heartbeat.position < position_)
      return make_error("a heartbeat at {} is behind the replica's position {}", heartbeat.position,
                        position_);
    position_ = heartbeat.position;
    ++heartbeats_;
    received.artificial = true;
    received.file = file_;
    events_.push_back(std::move(received));
    return {};
  }
  const std::uint64_t start = header.log_pos != 0 ? header.log_pos - event.size() : position_;
  if (header.log_pos != 0 && header.log_pos < event.size())
    return make_error("an event with log_pos {} smaller than its size {}", header.log_pos, event.size());
  if (start != position_) {
    return make_error(
        "{} event starts at {} of {}, but the replica is at {}: the stream skipped or repeated bytes",
        binlog::event_type_name(header.type), start, file_, position_);
  }
  ReceivedFile& file = files_[file_];
  if (file.bytes.empty()) {
    if (start == 4) {
      file.first_position = 0;
      file.bytes = {0xfe, 'b', 'i', 'n'};
    } else {
      file.first_position = start;
    }
  }
  const std::uint64_t received_end = file.first_position + file.bytes.size();
  if (received_end > start) {
    return make_error("{} event at {} of {} overlaps the bytes received before (up to {})",
                      binlog::event_type_name(header.type), start, file_, received_end);
  }
  if (received_end < start) {
    // Skipped by the master (GTID auto-positioning), announced by a heartbeat: a hole.
    file.holes.emplace_back(received_end, start);
    file.bytes.resize(file.bytes.size() + (start - received_end), 0);
  }
  file.bytes.insert(file.bytes.end(), event.begin(), event.end());
  received.file = file_;
  received.position = start;
  position_ = start + event.size();
  if (header.type == binlog::EventType::kRotate) {
    BRELAY_ASSIGN_OR_RETURN(binlog::EventView view, binlog::view_event(event, binlog_checksum_));
    BRELAY_ASSIGN_OR_RETURN(binlog::RotateEvent rotate, binlog::parse_rotate(view));
    file_ = std::string(rotate.next_file);
    position_ = rotate.position;
  }
  if (received.ack_requested) {
    net::SemiSyncAck ack;
    ack.position = position_;
    ack.file_name = received.file;
    BRELAY_TRY(client_->async().send_packet(net::encode_semi_sync_ack(ack), 0));
    ++acks_sent_;
  }
  events_.push_back(std::move(received));
  return {};
}

}  // namespace brelay::testing
