#include "relay/downstream/show_answers.h"

#include "relay/binlog/event_header.h"
#include "relay/binlog/format_description.h"
#include "relay/downstream/mysql_errors.h"

namespace brelay::relay::downstream {
namespace {

using net::ColumnDefinition;

bool passes(const ShowVariablesStatement& show, const std::string& name) {
  switch (show.filter) {
    case ShowVariablesStatement::Filter::kNone: return true;
    case ShowVariablesStatement::Filter::kLike:
    case ShowVariablesStatement::Filter::kNameLike: return like_matches(show.values.front(), name);
    case ShowVariablesStatement::Filter::kNameEquals: return equals_ignore_case(show.values.front(), name);
    case ShowVariablesStatement::Filter::kNameIn:
      for (const std::string& wanted : show.values)
        if (equals_ignore_case(wanted, name)) return true;
      return false;
  }
  return false;
}

}  // namespace

net::ResultSet show_variables(const ShowVariablesStatement& show,
                              const std::vector<SystemVariable>& variables) {
  net::ResultSet result;
  result.columns = {ColumnDefinition::text("Variable_name", 64), ColumnDefinition::text("Value", 4096)};
  for (const SystemVariable& variable : variables)
    if (passes(show, variable.name)) result.rows.push_back({variable.name, variable.value});
  return result;
}

Result<net::ResultSet> show_master_status(storage::BinlogStore& store, StoredGtidState& gtids,
                                          Flavor flavor) {
  net::ResultSet result;
  result.columns = {ColumnDefinition::text("File"), ColumnDefinition::unsigned_integer("Position"),
                    ColumnDefinition::text("Binlog_Do_DB"), ColumnDefinition::text("Binlog_Ignore_DB")};
  if (flavor == Flavor::kMysql) result.columns.push_back(ColumnDefinition::text("Executed_Gtid_Set", 65535));
  const auto end = store.durable_end();
  if (!end) return result;
  net::TextRow row = {end->file, std::to_string(end->position), std::string(), std::string()};
  if (flavor == Flavor::kMysql) {
    BRELAY_ASSIGN_OR_RETURN(binlog::GtidSet executed, gtids.mysql_executed());
    row.push_back(executed.to_string());
  }
  result.rows.push_back(std::move(row));
  return result;
}

Result<net::ResultSet> show_binary_logs(storage::BinlogStore& store, const SourceIdentity& source) {
  net::ResultSet result;
  result.columns = {ColumnDefinition::text("Log_name"), ColumnDefinition::unsigned_integer("File_size")};
  // MySQL 8.0.14 added Encrypted.
  const bool encrypted_column =
      source.flavor == Flavor::kMysql &&
      binlog::split_server_version(source.version) >= std::array<unsigned, 3>{8, 0, 14};
  if (encrypted_column) result.columns.push_back(ColumnDefinition::text("Encrypted", 3));
  BRELAY_ASSIGN_OR_RETURN(auto files, store.list_files());
  for (const storage::FileInfo& file : files) {
    net::TextRow row = {file.name, std::to_string(file.end_position)};
    if (encrypted_column) row.push_back("No");
    result.rows.push_back(std::move(row));
  }
  return result;
}

net::ResultSet show_replicas(const std::vector<RegisteredReplica>& replicas, Flavor flavor,
                             bool replica_names) {
  net::ResultSet result;
  const bool uuid_column = flavor == Flavor::kMysql;
  if (replica_names) {
    result.columns = {ColumnDefinition::unsigned_integer("Server_Id"), ColumnDefinition::text("Host"),
                      ColumnDefinition::unsigned_integer("Port"),
                      ColumnDefinition::unsigned_integer("Source_Id")};
    if (uuid_column) result.columns.push_back(ColumnDefinition::text("Replica_UUID"));
  } else {
    result.columns = {ColumnDefinition::unsigned_integer("Server_id"), ColumnDefinition::text("Host"),
                      ColumnDefinition::unsigned_integer("Port"),
                      ColumnDefinition::unsigned_integer("Master_id")};
    if (uuid_column) result.columns.push_back(ColumnDefinition::text("Slave_UUID"));
  }
  for (const RegisteredReplica& replica : replicas) {
    net::TextRow row = {std::to_string(replica.server_id), replica.host, std::to_string(replica.port),
                        std::to_string(replica.source_id)};
    if (uuid_column) row.push_back(replica.uuid);
    result.rows.push_back(std::move(row));
  }
  return result;
}

net::ResultSet show_grants(const std::string& user, const std::string& role, Flavor flavor) {
  const std::string account = fmt::format("`{}`@`%`", user);
  net::ResultSet result;
  result.columns = {ColumnDefinition::text(fmt::format("Grants for {}@%", user), 1024)};
  if (role == "admin") {
    result.rows.push_back(
        {fmt::format("GRANT RELOAD, PROCESS, SUPER, REPLICATION SLAVE, REPLICATION CLIENT ON *.* "
                     "TO {}",
                     account)});
    if (flavor == Flavor::kMysql)
      result.rows.push_back({fmt::format("GRANT BINLOG_ADMIN,CONNECTION_ADMIN ON *.* TO {}", account)});
  } else {
    result.rows.push_back({fmt::format("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO {}", account)});
  }
  return result;
}

net::ResultSet show_warnings() {
  net::ResultSet result;
  result.columns = {ColumnDefinition::text("Level", 7), ColumnDefinition::unsigned_integer("Code"),
                    ColumnDefinition::text("Message", 512)};
  return result;
}

}  // namespace brelay::relay::downstream
