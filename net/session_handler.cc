#include "net/session_handler.h"

#include "net/mysql_constants.h"
#include "net/server_session.h"

namespace brelay::net {

void SessionHandler::on_command(ServerSession& session, std::uint8_t command, ByteView) {
  (void)session.send_error(error_code::kUnknownCommand, "08S01",
                           fmt::format("Unknown command 0x{:02x}", command));
}

void SessionHandler::on_stream_packet(ServerSession&, ByteView) {}

void SessionHandler::on_drained(ServerSession&) {}

void SessionHandler::on_closed(ServerSession&, const Status&) {}

}  // namespace brelay::net
