#include "net/mysql_server.h"

#include "net/mysql_packets.h"
#include "net/packet_framer.h"

namespace brelay::net {

MySqlServer::MySqlServer(EventLoop& loop, ServerSettings settings, SessionHandlerFactory handler_factory)
    : loop_(loop),
      settings_(std::move(settings)),
      handler_factory_(std::move(handler_factory)),
      next_id_(settings_.first_connection_id == 0 ? 1 : settings_.first_connection_id) {}

MySqlServer::~MySqlServer() {
  listeners_.clear();
  sessions_.clear();
}

Status MySqlServer::listen(std::string_view host_port) {
  BRELAY_ASSIGN_OR_RETURN(
      auto listener,
      TcpListener::listen(loop_.raw(), host_port, [this](std::unique_ptr<TcpConnection> connection) {
        accept(std::move(connection));
      }));
  listeners_.push_back(std::move(listener));
  return {};
}

std::uint16_t MySqlServer::port() const {
  return listeners_.empty() ? 0 : listeners_.front()->port();
}

std::uint32_t MySqlServer::next_connection_id() {
  while (true) {
    const std::uint32_t id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;
    if (id != 0 && !sessions_.contains(id)) return id;
  }
}

void MySqlServer::accept(std::unique_ptr<TcpConnection> connection) {
  if (sessions_.size() >= settings_.max_sessions) {
    refuse(std::move(connection), ErrPacket{1040, "08004", "Too many connections"});
    return;
  }
  SessionSettings session_settings;
  session_settings.server_version = settings_.server_version;
  session_settings.tls = settings_.tls;
  session_settings.require_tls = settings_.require_tls;
  session_settings.accounts = settings_.accounts;
  session_settings.rsa_keys = settings_.rsa_keys;
  session_settings.greeting_auth_plugin = settings_.greeting_auth_plugin;
  session_settings.handshake_timeout = settings_.handshake_timeout;
  session_settings.idle_timeout = settings_.idle_timeout;
  session_settings.max_packet_before_auth = settings_.max_packet_before_auth;
  session_settings.max_packet = settings_.max_packet;
  session_settings.charset = settings_.charset;
  const std::uint32_t id = next_connection_id();
  auto session = std::make_unique<ServerSession>(*this, loop_.raw(), id, std::move(connection),
                                                 std::move(session_settings), &handler_factory_);
  ServerSession* raw = session.get();
  sessions_.emplace(id, std::move(session));
  raw->start();
}

void MySqlServer::refuse(std::unique_ptr<TcpConnection> connection, const ErrPacket& error) {
  // The connection closes itself once the ERR is out; nothing else refers to it.
  struct Refused final : TcpConnection::Observer {
    std::unique_ptr<TcpConnection> connection;
    void on_read(ByteView) override {}
    void on_read_end(const Status&) override { connection->close(); }
    void on_drained() override {}
    void on_write_error(const Error&) override { connection->close(); }
    void on_closed() override { delete this; }
  };
  auto* refused = new Refused;
  refused->connection = std::move(connection);
  refused->connection->set_observer(refused);
  std::uint8_t sequence_id = 0;
  Bytes packet = encode_packet(encode_err(error), sequence_id);
  (void)refused->connection->write(packet);
  refused->connection->close_after_flush();
}

ServerSession* MySqlServer::find_session(std::uint32_t connection_id) {
  auto it = sessions_.find(connection_id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

std::vector<ServerSession*> MySqlServer::sessions() {
  std::vector<ServerSession*> all;
  all.reserve(sessions_.size());
  for (auto& [id, session] : sessions_)
    all.push_back(session.get());
  return all;
}

void MySqlServer::shutdown() {
  listeners_.clear();
  for (ServerSession* session : sessions())
    session->close(make_error("the server is shutting down"));
}

void MySqlServer::session_closed(std::uint32_t connection_id) {
  sessions_.erase(connection_id);
}

}  // namespace brelay::net
