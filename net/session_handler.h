// The interface through which relay/ serves sessions that net/ has authenticated: queries, the
// commands net/ does not answer itself (COM_REGISTER_SLAVE, COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID,
// unknown ones), packets the client sends while a stream runs (semi-sync acknowledgements), drain
// notifications for back-pressure, and the end of the session. net/ answers COM_PING, COM_QUIT
// and COM_INIT_DB itself.
//
// One handler per session, made by the server's SessionHandlerFactory right after the login
// succeeded, owned by the session, called on the loop thread only. Each command must be answered
// exactly once (ServerSession::send_ok / send_error / send_result_set, or a stream), now or later;
// the session reads the next command only after the answer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::net {

class ServerSession;

class SessionHandler {
 public:
  virtual ~SessionHandler() = default;

  // COM_QUERY with its SQL text.
  virtual void on_query(ServerSession& session, std::string_view sql) = 0;
  // Any other command; `payload` starts with the command byte. The default answers ERR 1047
  // "Unknown command".
  virtual void on_command(ServerSession& session, std::uint8_t command, ByteView payload);
  // While a stream runs (ServerSession::start_stream()), each packet the client sends (semi-sync
  // acknowledgements start with 0xEF). COM_QUIT and a closed socket end the session instead.
  virtual void on_stream_packet(ServerSession& session, ByteView payload);
  // While a stream runs, or a reply goes out in parts (ServerSession::send_reply_part()):
  // ServerSession::pending_bytes() fell to the low-water mark (set_low_water_mark()) or below after
  // having been above it.
  virtual void on_drained(ServerSession& session);
  // The session has ended (client quit or closed, error, timeout, ServerSession::close()). The
  // session and this handler are destroyed right after this returns.
  virtual void on_closed(ServerSession& session, const Status& reason);
};

using SessionHandlerFactory = std::function<std::unique_ptr<SessionHandler>(ServerSession& session)>;

}  // namespace brelay::net
