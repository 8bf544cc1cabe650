#include "relay/downstream/dump_request.h"

#include <algorithm>

#include "relay/downstream/mysql_errors.h"
#include "relay/downstream/sql_tokenizer.h"

namespace brelay::relay::downstream {
namespace {

// A MariaDB GTID position has one GTID per replication domain, and installations have a handful of
// domains. A @slave_connect_state of max_allowed_packet bytes could name millions, each a map node
// built on the loop thread: more than this many is refused before it is parsed.
constexpr std::size_t kMaxConnectStateDomains = 4096;

}  // namespace

Result<DumpRequest> dump_settings_from(const UserVariables& variables) {
  DumpRequest request;
  if (const UserValue* checksum = variables.find_any({"source_binlog_checksum", "master_binlog_checksum"})) {
    // Anything but CRC32 announced (NONE, or an algorithm it does not know) means no checksums.
    if (equals_ignore_case(checksum->text, "CRC32"))
      request.replica_checksum = binlog::ChecksumAlgorithm::kCrc32;
    else if (checksum->type != UserValue::Type::kNull || equals_ignore_case(checksum->text, "NONE"))
      request.replica_checksum = binlog::ChecksumAlgorithm::kOff;
  }
  if (const UserValue* period = variables.find_any({"source_heartbeat_period", "master_heartbeat_period"})) {
    request.heartbeat_period =
        std::chrono::nanoseconds(std::max<std::int64_t>(0, period->as_integer().value_or(0)));
  }
  if (const UserValue* semi_sync = variables.find_any({"rpl_semi_sync_replica", "rpl_semi_sync_slave"}))
    request.semi_sync = semi_sync->as_integer().value_or(0) != 0;
  if (const UserValue* capability = variables.find("mariadb_slave_capability"))
    request.mariadb_capability = static_cast<int>(capability->as_integer().value_or(0));
  if (const UserValue* state = variables.find("slave_connect_state");
      state != nullptr && state->type != UserValue::Type::kNull) {
    const bool too_many = static_cast<std::size_t>(std::count(state->text.begin(), state->text.end(), ',')) >=
                          kMaxConnectStateDomains;
    auto position = too_many ? Result<binlog::MariadbGtidPosition>(make_error(
                                   "the GTID position names more than {} domains", kMaxConnectStateDomains))
                             : binlog::MariadbGtidPosition::parse(state->text);
    if (!position) {
      return Error(
          fmt::format("Out of memory or malformed slave request when obtaining start position from GTID "
                      "state ({})",
                      position.error().message()),
          mysql_error::kUnknownError);
    }
    request.mariadb_connect_state = std::move(*position);
  }
  if (const UserValue* strict = variables.find("slave_gtid_strict_mode"))
    request.mariadb_gtid_strict_mode = strict->as_integer().value_or(0) != 0;
  if (const UserValue* duplicates = variables.find("slave_gtid_ignore_duplicates"))
    request.mariadb_gtid_ignore_duplicates = duplicates->as_integer().value_or(0) != 0;
  if (const UserValue* uuid = variables.find_any({"replica_uuid", "slave_uuid"}))
    request.replica_uuid = uuid->text;
  return request;
}

void apply_dump_command(const net::BinlogDump& command, DumpRequest& request) {
  request.gtid_command = false;
  request.file = command.file_name;
  request.position = command.position;
  request.flags = command.flags;
  request.server_id = command.server_id;
}

Status apply_dump_gtid_command(const net::BinlogDumpGtid& command, DumpRequest& request) {
  request.gtid_command = true;
  request.file = command.has_file_name() ? command.file_name : std::string();
  request.position = command.position;
  request.flags = command.flags;
  request.server_id = command.server_id;
  auto set = binlog::GtidSet::decode(command.gtid_set);
  if (!set) {
    return Error(fmt::format("Malformed GTID set encoding. ({})", set.error().message()),
                 mysql_error::kMalformedGtidSetEncoding);
  }
  request.mysql_gtids = std::move(*set);
  return {};
}

std::string DumpRequest::gtid_state_text() const {
  if (mysql_auto_position()) return mysql_gtids.to_string();
  if (mariadb_connect_state && !gtid_command) return mariadb_connect_state->to_string();
  return {};
}

}  // namespace brelay::relay::downstream
