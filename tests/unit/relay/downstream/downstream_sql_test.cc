// relay/downstream's statement parser: every statement protocol.md sections 1 and 7 lists, in the
// forms the replicas and clients send them (spaces or none around '=', @@global. and scopes, any
// case, comments, executable comments), and clean errors (with MySQL codes) for everything else.
#include "relay/downstream/sql_statement.h"

#include <gtest/gtest.h>

#include "relay/downstream/dump_request.h"
#include "relay/downstream/replica_registry.h"
#include "relay/downstream/user_variables.h"

namespace brelay::relay::downstream {
namespace {

template <typename T>
T parse_as(std::string_view sql) {
  auto statement = parse_statement(sql);
  EXPECT_TRUE(statement) << sql << ": " << statement.error().message();
  if (!statement) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*statement)) << sql;
  return std::holds_alternative<T>(*statement) ? std::get<T>(*statement) : T{};
}

int error_code(std::string_view sql) {
  auto statement = parse_statement(sql);
  EXPECT_FALSE(statement) << sql << " parsed";
  return statement ? 0 : statement.error().code();
}

TEST(SqlStatement, TheMysqlReplicaSequence) {
  auto select = parse_as<SelectStatement>("SELECT UNIX_TIMESTAMP()");
  ASSERT_EQ(select.items.size(), 1u);
  EXPECT_EQ(select.items[0].expression.kind, Expression::Kind::kFunction);
  EXPECT_EQ(select.items[0].expression.text, "unix_timestamp");
  EXPECT_EQ(select.items[0].column_name, "UNIX_TIMESTAMP()");

  select = parse_as<SelectStatement>("SELECT @@GLOBAL.SERVER_ID");
  EXPECT_EQ(select.items[0].expression.kind, Expression::Kind::kSystemVariable);
  EXPECT_EQ(select.items[0].expression.text, "SERVER_ID");
  EXPECT_EQ(select.items[0].expression.scope, VariableScope::kGlobal);
  EXPECT_EQ(select.items[0].column_name, "@@GLOBAL.SERVER_ID");

  auto set = parse_as<SetStatement>(
      "SET @master_heartbeat_period = 15000000000, @source_heartbeat_period = 15000000000");
  ASSERT_EQ(set.assignments.size(), 2u);
  EXPECT_EQ(set.assignments[0].target, Assignment::Target::kUserVariable);
  EXPECT_EQ(set.assignments[0].name, "master_heartbeat_period");
  EXPECT_EQ(set.assignments[1].value.text, "15000000000");

  set = parse_as<SetStatement>(
      "SET @master_binlog_checksum= @@global.binlog_checksum, "
      "@source_binlog_checksum=@@global.binlog_checksum");
  ASSERT_EQ(set.assignments.size(), 2u);
  EXPECT_EQ(set.assignments[0].value.kind, Expression::Kind::kSystemVariable);
  EXPECT_EQ(set.assignments[0].value.text, "binlog_checksum");
  EXPECT_EQ(set.assignments[1].value.scope, VariableScope::kGlobal);

  set =
      parse_as<SetStatement>("SET @slave_uuid = 'a1b2c3d4-0000-4000-8000-000000000101', @replica_uuid = 'x'");
  EXPECT_EQ(set.assignments[0].value.kind, Expression::Kind::kString);
  EXPECT_EQ(set.assignments[0].value.text, "a1b2c3d4-0000-4000-8000-000000000101");

  parse_as<SelectStatement>("SELECT @source_binlog_checksum");
  parse_as<SelectStatement>("SELECT @@GLOBAL.GTID_MODE");
  parse_as<SelectStatement>("SELECT @@global.rpl_semi_sync_source_enabled");
  parse_as<SetStatement>("SET @rpl_semi_sync_replica = 1, @rpl_semi_sync_slave = 1");
}

TEST(SqlStatement, MariadbAndCdcClientForms) {
  auto show = parse_as<ShowVariablesStatement>("SHOW VARIABLES LIKE 'SERVER_ID'");
  EXPECT_EQ(show.filter, ShowVariablesStatement::Filter::kLike);
  EXPECT_EQ(show.values, std::vector<std::string>{"SERVER_ID"});
  show = parse_as<ShowVariablesStatement>("show global variables like 'gtid_purged'");
  EXPECT_EQ(show.scope, VariableScope::kGlobal);
  show = parse_as<ShowVariablesStatement>(
      "SHOW VARIABLES WHERE Variable_name IN "
      "('rpl_semi_sync_master_enabled','rpl_semi_sync_source_enabled')");
  EXPECT_EQ(show.filter, ShowVariablesStatement::Filter::kNameIn);
  EXPECT_EQ(show.values.size(), 2u);
  show = parse_as<ShowVariablesStatement>("SHOW GLOBAL VARIABLES WHERE variable_name = 'binlog_format'");
  EXPECT_EQ(show.filter, ShowVariablesStatement::Filter::kNameEquals);
  EXPECT_TRUE(parse_as<ShowVariablesStatement>("SHOW STATUS LIKE 'Uptime'").status);

  parse_as<SetStatement>("SET @mariadb_slave_capability=4");
  parse_as<SetStatement>("SET @slave_connect_state='0-1-100,1-2-5'");
  parse_as<SetStatement>("SET @slave_gtid_strict_mode=0");
  parse_as<SetStatement>("SET skip_replication=1");
  parse_as<SetStatement>("set net_write_timeout=1800");
  parse_as<SetStatement>("SET NAMES utf8mb4 COLLATE utf8mb4_general_ci");
  parse_as<SetStatement>("SET character_set_results = NULL");
  parse_as<SetStatement>("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  auto gtid_pos = parse_as<SelectStatement>("SELECT binlog_gtid_pos('mysql-bin.000001',330)");
  ASSERT_EQ(gtid_pos.items[0].expression.arguments.size(), 2u);
  EXPECT_EQ(gtid_pos.items[0].expression.arguments[1].text, "330");
  EXPECT_EQ(parse_as<SelectStatement>("select @@version_comment limit 1").limit,
            std::optional<std::uint64_t>(1));
  auto jdbc = parse_as<SelectStatement>(
      "/* mysql-connector-java-8.0.33 */SELECT  @@session.auto_increment_increment AS "
      "auto_increment_increment, "
      "@@character_set_client AS character_set_client, @@wait_timeout AS wait_timeout");
  ASSERT_EQ(jdbc.items.size(), 3u);
  EXPECT_EQ(jdbc.items[2].column_name, "wait_timeout");
  EXPECT_EQ(jdbc.items[0].expression.scope, VariableScope::kSession);
}

TEST(SqlStatement, ShowStatements) {
  parse_as<ShowMasterStatusStatement>("SHOW MASTER STATUS");
  parse_as<ShowMasterStatusStatement>("show binary log status");
  parse_as<ShowMasterStatusStatement>("SHOW BINLOG STATUS;");
  parse_as<ShowRelayStatusStatement>("show relay status");
  parse_as<ShowBinaryLogsStatement>("SHOW BINARY LOGS");
  parse_as<ShowBinaryLogsStatement>("SHOW MASTER LOGS");
  auto events =
      parse_as<ShowBinlogEventsStatement>("SHOW BINLOG EVENTS IN 'mysql-bin.000002' FROM 120 LIMIT 5, 10");
  EXPECT_EQ(events.file, std::optional<std::string>("mysql-bin.000002"));
  EXPECT_EQ(events.from, std::optional<std::uint64_t>(120));
  EXPECT_EQ(events.offset, 5u);
  EXPECT_EQ(events.count, std::optional<std::uint64_t>(10));
  events = parse_as<ShowBinlogEventsStatement>("SHOW BINLOG EVENTS");
  EXPECT_FALSE(events.file);
  EXPECT_TRUE(parse_as<ShowReplicasStatement>("SHOW REPLICAS").replica_names);
  EXPECT_FALSE(parse_as<ShowReplicasStatement>("SHOW SLAVE HOSTS").replica_names);
  EXPECT_FALSE(parse_as<ShowGrantsStatement>("SHOW GRANTS FOR CURRENT_USER").user);
  EXPECT_FALSE(parse_as<ShowGrantsStatement>("SHOW GRANTS FOR CURRENT_USER()").user);
  EXPECT_EQ(parse_as<ShowGrantsStatement>("SHOW GRANTS FOR 'repl'@'%'").user,
            std::optional<std::string>("repl"));
  parse_as<ShowWarningsStatement>("SHOW WARNINGS LIMIT 10");
}

TEST(SqlStatement, KillPurgeUseAndNoOps) {
  auto kill = parse_as<KillStatement>("KILL 42");
  EXPECT_EQ(kill.connection_id, 42u);
  EXPECT_FALSE(kill.query_only);
  EXPECT_TRUE(parse_as<KillStatement>("KILL QUERY 7").query_only);
  EXPECT_EQ(parse_as<KillStatement>("kill connection 9").connection_id, 9u);
  auto purge = parse_as<PurgeStatement>("PURGE BINARY LOGS TO 'mysql-bin.000010'");
  EXPECT_FALSE(purge.before);
  EXPECT_EQ(purge.argument, "mysql-bin.000010");
  purge = parse_as<PurgeStatement>("PURGE MASTER LOGS BEFORE '2024-01-02 03:04:05'");
  EXPECT_TRUE(purge.before);
  EXPECT_EQ(parse_as<UseStatement>("USE `my db`").database, "my db");
  parse_as<NoOpStatement>("BEGIN");
  parse_as<NoOpStatement>("COMMIT WORK");
  parse_as<NoOpStatement>("START TRANSACTION READ ONLY");
  parse_as<FlushHostsStatement>("FLUSH HOSTS");
  parse_as<FlushHostsStatement>("flush hosts;");
}

TEST(SqlStatement, CommentsQuotingAndExecutableComments) {
  auto select = parse_as<SelectStatement>("select /* a comment */ 'it''s', \"dq\\\"x\" -- trailing\n");
  ASSERT_EQ(select.items.size(), 2u);
  EXPECT_EQ(select.items[0].expression.text, "it's");
  EXPECT_EQ(select.items[1].expression.text, "dq\"x");
  select = parse_as<SelectStatement>("SELECT /*!40001 SQL_NO_CACHE */ @@server_id # why not");
  EXPECT_EQ(select.items.size(), 1u);
  select = parse_as<SelectStatement>("SELECT -1, 2.5, NULL, TRUE");
  EXPECT_TRUE(select.items[0].expression.negative);
  EXPECT_EQ(select.items[1].expression.kind, Expression::Kind::kDecimal);
  EXPECT_EQ(select.items[2].expression.kind, Expression::Kind::kNull);
  EXPECT_EQ(select.items[3].expression.text, "1");
  auto set = parse_as<SetStatement>("SET @`odd name` := 'v'");
  EXPECT_EQ(set.assignments[0].name, "odd name");
}

TEST(SqlStatement, UnsupportedAndBrokenStatementsGetMysqlCodes) {
  EXPECT_EQ(error_code(""), 1065);
  EXPECT_EQ(error_code("  -- only a comment"), 1065);
  EXPECT_EQ(error_code("SELECT * FROM mysql.user"), 1235);
  EXPECT_EQ(error_code("SELECT a FROM t"), 1235);
  EXPECT_EQ(error_code("CREATE TABLE t (a INT)"), 1235);
  EXPECT_EQ(error_code("SHOW PROCESSLIST"), 1235);
  EXPECT_EQ(error_code("DROP DATABASE x"), 1235);
  EXPECT_EQ(error_code("SELECT 'open"), 1064);
  EXPECT_EQ(error_code("SELECT 1 +"), 1064);
  EXPECT_EQ(error_code("SET @a"), 1064);
  EXPECT_EQ(error_code("SHOW BINLOG EVENTS FROM"), 1064);
  EXPECT_EQ(error_code("KILL"), 1064);
  EXPECT_EQ(error_code("SELECT 1 /* unterminated"), 1064);
  EXPECT_EQ(error_code("SELECT \x01"), 1064);
  auto broken = parse_statement("SELECT 1 +");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message().find("You have an error in your SQL syntax"), std::string::npos);
}

TEST(SqlStatement, LikePatterns) {
  EXPECT_TRUE(like_matches("gtid%", "gtid_mode"));
  EXPECT_TRUE(like_matches("GTID_MODE", "gtid_mode"));
  EXPECT_TRUE(like_matches("%semi_sync%", "rpl_semi_sync_master_enabled"));
  EXPECT_TRUE(like_matches("server_i_", "server_id"));
  EXPECT_FALSE(like_matches("server_id", "server_uuid"));
  EXPECT_TRUE(like_matches("binlog\\_format", "binlog_format"));
  EXPECT_FALSE(like_matches("binlog\\_format", "binlogXformat"));
  EXPECT_TRUE(like_matches("%", ""));
  EXPECT_FALSE(like_matches("_", ""));
}

TEST(DumpRequest, SettingsComeFromTheUserVariables) {
  UserVariables variables;
  auto request = dump_settings_from(variables);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->replica_checksum, binlog::ChecksumAlgorithm::kUndefined);
  EXPECT_FALSE(request->mariadb_capability);

  variables.set("Source_Binlog_Checksum", UserValue::string("CRC32"));
  variables.set("master_heartbeat_period", UserValue::integer(30'000'000'000));
  variables.set("rpl_semi_sync_slave", UserValue::integer(1));
  variables.set("mariadb_slave_capability", UserValue::integer(4));
  variables.set("slave_connect_state", UserValue::string("0-1-100,1-2-5"));
  variables.set("slave_uuid", UserValue::string("u"));
  request = dump_settings_from(variables);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->replica_checksum, binlog::ChecksumAlgorithm::kCrc32);
  EXPECT_EQ(request->heartbeat_period, std::chrono::seconds(30));
  EXPECT_TRUE(request->semi_sync);
  EXPECT_EQ(request->mariadb_capability, std::optional<int>(4));
  ASSERT_TRUE(request->mariadb_connect_state);
  EXPECT_EQ(request->mariadb_connect_state->to_string(), "0-1-100,1-2-5");
  EXPECT_EQ(request->replica_uuid, "u");

  // Flag 0x02 is heartbeat v2 for MySQL replicas, annotations for MariaDB ones.
  net::BinlogDump dump;
  dump.flags = 0x02;
  dump.server_id = 5;
  apply_dump_command(dump, *request);
  EXPECT_FALSE(request->heartbeat_v2());
  EXPECT_TRUE(request->send_annotate_rows());
  EXPECT_FALSE(request->non_blocking());

  variables.set("slave_connect_state", UserValue::string("0-1"));
  auto bad = dump_settings_from(variables);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), 1105);

  DumpRequest gtid_request;
  net::BinlogDumpGtid gtid;
  gtid.gtid_set = {2, 0, 0, 0, 0, 0, 0, 0};
  Status malformed = apply_dump_gtid_command(gtid, gtid_request);
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code(), 1773);
  gtid.gtid_set = binlog::GtidSet().encode();
  gtid.file_name = std::string(3, '\0');  // MySQL 5.7: NUL bytes, not a name
  ASSERT_TRUE(apply_dump_gtid_command(gtid, gtid_request));
  EXPECT_TRUE(gtid_request.mysql_auto_position());
}

TEST(UserVariables, NamesIgnoreCaseAndValuesConvertLikeMysql) {
  UserVariables variables;
  variables.set("MiXeD", UserValue::string("12abc"));
  ASSERT_NE(variables.find("mixed"), nullptr);
  EXPECT_EQ(variables.find("MIXED")->as_integer(), std::optional<std::int64_t>(12));
  EXPECT_EQ(UserValue::null().as_integer(), std::nullopt);
  EXPECT_EQ(UserValue::string("x").as_integer(), std::optional<std::int64_t>(0));
  EXPECT_EQ(variables.find_any({"nope", "mixed"}), variables.find("mixed"));
}

ActiveDump dump(std::uint32_t connection_id, std::uint32_t server_id, std::string uuid) {
  ActiveDump dump;
  dump.connection_id = connection_id;
  dump.server_id = server_id;
  dump.uuid = std::move(uuid);
  return dump;
}

RegisteredReplica registered(std::uint32_t connection_id, std::uint32_t server_id, std::string host) {
  RegisteredReplica replica;
  replica.connection_id = connection_id;
  replica.server_id = server_id;
  replica.host = std::move(host);
  return replica;
}

TEST(ReplicaRegistry, ANewDumpOfTheSameReplicaNamesTheOldOne) {
  ReplicaRegistry registry;
  EXPECT_TRUE(registry.start_dump(dump(1, 10, "uuid-a")).empty());
  EXPECT_TRUE(registry.start_dump(dump(2, 11, "")).empty());
  EXPECT_TRUE(registry.start_dump(dump(3, 0, "")).empty()) << "server_id 0 (mysqlbinlog) is nobody's twin";
  EXPECT_TRUE(registry.start_dump(dump(4, 0, "")).empty());
  EXPECT_EQ(registry.start_dump(dump(5, 99, "uuid-a")), std::vector<std::uint32_t>{1}) << "same uuid";
  EXPECT_EQ(registry.start_dump(dump(6, 11, "")), std::vector<std::uint32_t>{2}) << "same server_id, no uuid";
  EXPECT_TRUE(registry.start_dump(dump(7, 10, "uuid-b")).empty()) << "a uuid decides when set";
  registry.end_dump(5);
  EXPECT_EQ(registry.dump_count(), 6u);

  registry.register_replica(registered(1, 10, "h1"));
  registry.register_replica(registered(2, 10, "h2"));  // same server_id replaces
  registry.register_replica(registered(3, 5, "h3"));
  const auto replicas = registry.replicas();
  ASSERT_EQ(replicas.size(), 2u);
  EXPECT_EQ(replicas[0].server_id, 5u);
  EXPECT_EQ(replicas[1].host, "h2");
  registry.forget_connection(2);
  EXPECT_EQ(registry.replicas().size(), 1u);
}

TEST(SqlStatement, RememberedReplicaStatements) {
  parse_as<ShowRelayReplicasStatement>("SHOW RELAY REPLICAS");
  EXPECT_EQ(parse_as<ForgetReplicaStatement>("forget replica 4005;").server_id, 4005u);
  EXPECT_FALSE(parse_statement("FORGET REPLICA 'x'"));
  EXPECT_FALSE(parse_statement("FORGET REPLICA"));
}

}  // namespace
}  // namespace brelay::relay::downstream
