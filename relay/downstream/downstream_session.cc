#include "relay/downstream/downstream_session.h"

#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/byte_reader.h"
#include "common/cut_for_log.h"
#include "net/mysql_constants.h"
#include "net/replication_commands.h"
#include "relay/core/source_identity.h"
#include "relay/downstream/downstream_accounts.h"
#include "relay/downstream/mysql_errors.h"
#include "relay/downstream/server_variables.h"
#include "relay/downstream/statement_executor.h"

namespace brelay::relay::downstream {
namespace {

constexpr std::uint16_t kWrongArguments = 1210;  // ER_WRONG_ARGUMENTS, HY000

// 'YYYY-MM-DD[ hh:mm[:ss]]' in UTC (the relay's @@system_time_zone).
std::optional<std::int64_t> parse_datetime(std::string_view text) {
  std::tm parts{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const std::string copy(text);
  const int matched =
      std::sscanf(copy.c_str(), "%d-%d-%d %d:%d:%d", &year, &month, &day, &hour, &minute, &second);
  if (matched != 3 && matched < 5) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 59)
    return std::nullopt;
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&parts));
}

}  // namespace

DownstreamSession::DownstreamSession(DownstreamServices& services, net::ServerSession& session)
    : services_(services),
      statements_(services, variables_, schema_allowed_for(services.context.config.users, session.user()),
                  [this](net::ServerSession& target, const ShowBinlogEventsStatement& show) {
                    list_events(target, show, BinlogEventsStream::Rows::kBinary);
                  }) {
  std::string attributes;
  for (const auto& [key, value] : session.connect_attributes())
    attributes += fmt::format("{}{}={}", attributes.empty() ? "" : " ", key, value);
  spdlog::debug("session {} logged in: {} from {} ({}{}) [{}]", session.connection_id(),
                cut_for_log(session.user()), session.peer_address(), session.auth_plugin(),
                session.tls() ? ", TLS" : "", cut_for_log(attributes));
}

DownstreamSession::~DownstreamSession() = default;

void DownstreamSession::reply_error(net::ServerSession& session, const Error& error) {
  (void)session.send_error(to_err_packet(error));
}

void DownstreamSession::on_query(net::ServerSession& session, std::string_view sql) {
  spdlog::trace("session {}: {}", session.connection_id(), cut_for_log(sql));
  auto statement = parse_statement(sql);
  if (!statement) {
    if (statements_.try_schema_query(session, sql)) return;
    reply_error(session, statement.error());
    return;
  }
  if (auto* purge_statement = std::get_if<PurgeStatement>(&*statement)) {
    purge(session, *purge_statement);
    return;
  }
  if (auto* show = std::get_if<ShowBinlogEventsStatement>(&*statement)) {
    list_events(session, *show, BinlogEventsStream::Rows::kText);
    return;
  }
  StatementExecutor executor(services_, session, variables_);
  auto reply = executor.execute(*statement);
  if (!reply) {
    reply_error(session, reply.error());
    return;
  }
  if (auto* ok = std::get_if<net::OkPacket>(&*reply)) {
    (void)session.send_ok(*ok);
  } else {
    (void)session.send_result_set(std::get<net::ResultSet>(*reply));
  }
}

void DownstreamSession::list_events(net::ServerSession& session, const ShowBinlogEventsStatement& show,
                                    BinlogEventsStream::Rows rows) {
  events_ = std::make_unique<BinlogEventsStream>(services_.context.store, services_.context.loop.raw(),
                                                 session, rows);
  events_->start(show);
}

void DownstreamSession::purge(net::ServerSession& session, const PurgeStatement& purge) {
  if (session.role() != kAdminRole) {
    reply_error(session, access_denied("SUPER, BINLOG_ADMIN"));
    return;
  }
  const bool protect = services_.context.config.storage.protect_replicas;
  storage::PurgeRequest request;
  if (purge.before) {
    const auto time = parse_datetime(purge.argument);
    if (!time) {
      reply_error(session,
                  Error(fmt::format("Incorrect arguments to PURGE LOGS BEFORE ('{}' is not a date and time "
                                    "'YYYY-MM-DD hh:mm:ss')",
                                    purge.argument),
                        kWrongArguments));
      return;
    }
    request = storage::PurgeRequest::before(*time, protect);
  } else {
    auto file = services_.context.store.find_file(purge.argument);
    if (!file || !*file) {
      reply_error(session, Error("Target log not found in binlog index", mysql_error::kUnknownTargetBinlog));
      return;
    }
    request = storage::PurgeRequest::to(purge.argument, protect);
  }
  if (protect)
    request.protect_replicas_seen_since =
        services_.context.store.now() -
        std::chrono::duration_cast<std::chrono::seconds>(services_.context.config.storage.replica_grace)
            .count();
  std::weak_ptr<bool> alive = alive_;
  net::EventLoop& loop = services_.context.loop;
  net::ServerSession* target = &session;
  const std::string who = session.user();
  services_.context.writer.request_purge(std::move(request), [&loop, alive, target,
                                                              who](Result<storage::PurgeReport> report) {
    // On the writer thread: hand the answer to the loop.
    loop.post([alive, target, who, report = std::move(report)]() mutable {
      if (!report) {
        spdlog::error("PURGE BINARY LOGS by {} failed: {}", who, report.error().message());
      } else if (!report->purged_files.empty()) {
        spdlog::info("PURGE BINARY LOGS by {}: removed {} file(s) from {} to {} ({} bytes)", who,
                     report->purged_files.size(), report->purged_files.front(), report->purged_files.back(),
                     report->purged_bytes);
      }
      if (alive.expired()) return;
      if (!report) {
        (void)target->send_error(to_err_packet(Error(report.error().message(), mysql_error::kUnknownError)));
        return;
      }
      net::OkPacket ok;
      if (report->kept_for_reader) {
        ok.warnings = 1;
        ok.info = fmt::format("file {} was not purged because it is being read by a replica",
                              *report->kept_for_reader);
      } else if (report->kept_for_replica) {
        ok.warnings = 1;
        ok.info =
            fmt::format("file {} was not purged because the remembered replica {} needs it (FORGET REPLICA)",
                        report->kept_for_replica_file, *report->kept_for_replica);
      }
      (void)target->send_ok(ok);
    });
  });
}

void DownstreamSession::on_command(net::ServerSession& session, std::uint8_t command, ByteView payload) {
  if (SessionStatements::handles(command)) {
    statements_.on_command(session, command, payload);
    return;
  }
  switch (command) {
    case net::command::kRegisterSlave: register_replica(session, payload); return;
    case net::command::kBinlogDump:
    case net::command::kBinlogDumpGtid: start_dump(session, command, payload); return;
    case net::command::kProcessKill: {
      ByteReader reader(payload.subspan(1));
      auto id = reader.u32("connection id");
      if (!id) {
        reply_error(session, Error("Malformed communication packet.", mysql_error::kMalformedPacket));
        return;
      }
      on_query(session, fmt::format("KILL {}", *id));
      return;
    }
    case net::command::kResetConnection:
      variables_ = UserVariables();
      (void)session.send_ok();
      return;
    default: net::SessionHandler::on_command(session, command, payload); return;
  }
}

void DownstreamSession::register_replica(net::ServerSession& session, ByteView payload) {
  auto command = net::decode_register_replica(payload);
  if (!command) {
    reply_error(session, Error("Malformed communication packet.", mysql_error::kMalformedPacket));
    return;
  }
  RegisteredReplica replica;
  replica.connection_id = session.connection_id();
  replica.server_id = command->server_id;
  replica.host = command->host;
  replica.port = command->port;
  replica.source_id = command->master_id;
  replica.user = session.user();
  if (const UserValue* uuid = variables_.find_any({"replica_uuid", "slave_uuid"})) replica.uuid = uuid->text;
  services_.registry.register_replica(std::move(replica));
  (void)session.send_ok();
}

Status DownstreamSession::check_greeting(const net::ServerSession& session) {
  // A replica picks its protocol from the greeting and its set-up queries: a relay that has not
  // reached its source yet greets with a placeholder, and a replica streaming on it would get the
  // source's events in another flavour's forms (a MariaDB source's GTIDs as MySQL stand-ins). Not an
  // error replicas give up on (1236): they reconnect (after their connect retry) and meet the real
  // greeting.
  const SourceIdentity& source = services_.variables.source();
  if (is_unknown_source(source)) return Error(unknown_source_message(), mysql_error::kUnknownError);
  if (session.greeted_version() != source.version) {
    // Greeted before the relay learnt (or re-learnt) its source: new sessions get the source's
    // greeting from now on, even before the commit that would refresh it.
    Error stale(fmt::format("this connection was greeted as {}, but the relay's source is {}: reconnect "
                            "(replicas retry on their own)",
                            session.greeted_version(), source.version),
                mysql_error::kUnknownError);
    if (services_.refresh_greeting) services_.refresh_greeting();  // may re-derive `source`
    return stale;
  }
  return {};
}

void DownstreamSession::start_dump(net::ServerSession& session, std::uint8_t command, ByteView payload) {
  // After a dump, as on the servers, the connection ends: the ERR goes out and the socket closes.
  auto refuse = [&session](const Error& error) {
    spdlog::warn("session {} ({} from {}): dump refused: {}", session.connection_id(), session.user(),
                 session.peer_address(), cut_for_log(error.message()));
    session.close(Status(error), to_err_packet(error));
  };
  auto request = dump_settings_from(variables_);
  if (!request) {
    refuse(request.error());
    return;
  }
  if (command == net::command::kBinlogDump) {
    auto dump = net::decode_binlog_dump(payload);
    if (!dump) {
      refuse(Error("Malformed communication packet.", mysql_error::kMalformedPacket));
      return;
    }
    apply_dump_command(*dump, *request);
  } else {
    auto dump = net::decode_binlog_dump_gtid(payload);
    if (!dump) {
      refuse(Error(fmt::format("Malformed communication packet. ({})", dump.error().message()),
                   mysql_error::kMalformedPacket));
      return;
    }
    if (Status applied = apply_dump_gtid_command(*dump, *request); !applied) {
      refuse(applied.error());
      return;
    }
  }
  if (Status greeting = check_greeting(session); !greeting) {
    refuse(greeting.error());
    return;
  }
  dump_ = std::make_unique<DumpSession>(services_.dumps, session, std::move(*request));
  if (Status started = dump_->start(); !started) {
    dump_.reset();
    refuse(started.error());
  }
}

void DownstreamSession::on_stream_packet(net::ServerSession&, ByteView payload) {
  if (dump_) dump_->on_stream_packet(payload);
}

void DownstreamSession::on_drained(net::ServerSession&) {
  if (dump_) dump_->on_drained();
  if (events_) events_->on_drained();
}

void DownstreamSession::on_closed(net::ServerSession& session, const Status& reason) {
  if (!reason && reason.error().code() == net::error_code::kNetWriteInterrupted) {
    // A reader that stopped reading (or a network path that stalled): worth an operator's look.
    spdlog::warn("session {} ({} from {}) disconnected: {}", session.connection_id(),
                 cut_for_log(session.user()), session.peer_address(), reason.error().message());
  } else if (!reason) {
    spdlog::debug("session {} ({} from {}) closed: {}", session.connection_id(), session.user(),
                  session.peer_address(), cut_for_log(reason.error().message()));
  }
  dump_.reset();
  events_.reset();
  services_.registry.forget_connection(session.connection_id());
}

}  // namespace brelay::relay::downstream
