// DownstreamSession: the relay's SessionHandler for one logged-in client (replica, binlog reader,
// CDC client, operator). It keeps the session's user variables, answers COM_QUERY through the
// statement parser and executor (an unsupported statement gets a clean ERR and the session goes
// on), runs PURGE BINARY LOGS for admins on the storage writer, answers SHOW BINLOG EVENTS in parts
// (BinlogEventsStream, for COM_QUERY and prepared statements), records COM_REGISTER_SLAVE, and
// turns COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID into a DumpSession. A dump that cannot start is
// answered with its ERR and the connection closes, as the servers do. Prepared statements
// (COM_STMT_*) and the schema queries of accounts with `schema = true` go to SessionStatements.
//
// Made by the DownstreamServer's handler factory; owned by its net::ServerSession; loop thread.
#pragma once

#include <memory>
#include <string_view>

#include "net/server_session.h"
#include "net/session_handler.h"
#include "relay/downstream/binlog_events_stream.h"
#include "relay/downstream/downstream_services.h"
#include "relay/downstream/dump_session.h"
#include "relay/downstream/session_statements.h"
#include "relay/downstream/sql_statement.h"
#include "relay/downstream/user_variables.h"

namespace brelay::relay::downstream {

class DownstreamSession final : public net::SessionHandler {
 public:
  DownstreamSession(DownstreamServices& services, net::ServerSession& session);
  ~DownstreamSession() override;

  void on_query(net::ServerSession& session, std::string_view sql) override;
  void on_command(net::ServerSession& session, std::uint8_t command, ByteView payload) override;
  void on_stream_packet(net::ServerSession& session, ByteView payload) override;
  void on_drained(net::ServerSession& session) override;
  void on_closed(net::ServerSession& session, const Status& reason) override;

  // The dump this session runs, if any.
  DumpSession* dump() { return dump_.get(); }

 private:
  void purge(net::ServerSession& session, const PurgeStatement& purge);
  void list_events(net::ServerSession& session, const ShowBinlogEventsStatement& show,
                   BinlogEventsStream::Rows rows);
  void start_dump(net::ServerSession& session, std::uint8_t command, ByteView payload);
  // Refuses a dump while the relay does not know its source, or when this session was greeted with
  // another version than the source's.
  Status check_greeting(const net::ServerSession& session);
  void register_replica(net::ServerSession& session, ByteView payload);
  void reply_error(net::ServerSession& session, const Error& error);

  DownstreamServices& services_;
  UserVariables variables_;
  std::unique_ptr<DumpSession> dump_;
  std::unique_ptr<BinlogEventsStream> events_;  // the SHOW BINLOG EVENTS answer, while it goes out
  SessionStatements statements_;                // prepared statements and forwarded schema queries
  // Expires with the handler, so that a purge finishing after the session closed answers nobody.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace brelay::relay::downstream
