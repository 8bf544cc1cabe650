#include "net/mysql_server.h"

#include <algorithm>

#include "net/ip_range.h"
#include "net/mysql_packets.h"
#include "net/packet_framer.h"

namespace brelay::net {
namespace {

// Refusals (ERR 1129) being sent at once; beyond, a refused connection is closed without a word.
constexpr std::size_t kMaxRefusing = 256;

}  // namespace

MySqlServer::MySqlServer(EventLoop& loop, ServerSettings settings, SessionHandlerFactory handler_factory)
    : loop_(loop),
      settings_(std::move(settings)),
      handler_factory_(std::move(handler_factory)),
      next_id_(settings_.first_connection_id == 0 ? 1 : settings_.first_connection_id),
      connect_errors_(settings_.max_connect_errors, settings_.connect_error_capacity),
      account_failures_(settings_.account_failure_burst, settings_.account_failure_refill) {}

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
  const std::string host = connection->peer_host();
  // A group the table cannot count (it is full of blocked groups) is refused as a blocked one.
  if (connect_errors_.blocked(host) || !connect_errors_.admits(host)) {
    report(LoginRefusal::kBlocked, "", host);
    refuse(std::move(connection), host_blocked_error(canonical_ip(host)));
    return;
  }
  make_room_for_handshake();
  SessionSettings session_settings;
  session_settings.server_version = settings_.server_version;
  session_settings.tls = settings_.tls;
  session_settings.require_tls = settings_.require_tls;
  session_settings.accounts = settings_.accounts;
  session_settings.rsa_keys = settings_.rsa_keys;
  session_settings.rsa_key_source = settings_.rsa_key_source;
  session_settings.greeting_auth_plugin = settings_.greeting_auth_plugin;
  session_settings.handshake_timeout = settings_.handshake_timeout;
  session_settings.idle_timeout = settings_.idle_timeout;
  session_settings.write_timeout = settings_.write_timeout;
  session_settings.max_packet_before_auth = settings_.max_packet_before_auth;
  session_settings.max_packet = settings_.max_packet;
  session_settings.charset = settings_.charset;
  const std::uint32_t id = next_connection_id();
  auto session = std::make_unique<ServerSession>(*this, loop_.raw(), id, std::move(connection),
                                                 std::move(session_settings), &handler_factory_);
  ServerSession* raw = session.get();
  raw->accept_sequence_ = ++accepted_;
  sessions_.emplace(id, std::move(session));
  raw->start();
}

void MySqlServer::make_room_for_handshake() {
  const std::size_t limit = std::max<std::size_t>(settings_.max_unauthenticated, 1);
  if (unauthenticated_count() < limit) return;  // closing ones included: room without looking
  // Handshakes still going (not closing), per address group (IPv6 /64: ConnectErrorTable's); the
  // victim is the oldest of the group holding the most, so that one group's burst, from however
  // many of its addresses, never pushes out another's client.
  std::unordered_map<std::string, std::size_t> per_address;
  std::size_t pending = 0;
  for (const auto& [id, session] : sessions_) {
    if (session->counted_ || session->closing()) continue;
    ++pending;
    ++per_address[address_group(session->peer_host())];
  }
  if (pending < limit) return;
  std::string busiest;
  std::size_t most = 0;
  for (const auto& [address, count] : per_address) {
    if (count > most) {
      most = count;
      busiest = address;
    }
  }
  ServerSession* victim = nullptr;
  for (const auto& [id, session] : sessions_) {
    if (session->counted_ || session->closing() || address_group(session->peer_host()) != busiest) continue;
    if (victim == nullptr || session->accept_sequence_ < victim->accept_sequence_) victim = session.get();
  }
  if (victim == nullptr) return;
  report(LoginRefusal::kUnauthenticatedLimit, victim->user(), victim->peer_host());
  victim->close(
      make_error("ended to make room for a new connection: {} handshakes were in progress "
                 "([server] max_unauthenticated_connections)",
                 pending));
}

void MySqlServer::report(LoginRefusal reason, std::string_view user, std::string_view address) {
  if (!settings_.on_login_refused) return;
  LoginRefusalEvent event;
  event.reason = reason;
  event.user = user;
  event.address = address;
  event.address_errors = connect_errors_.errors(address);
  event.address_blocked = connect_errors_.blocked(address);
  settings_.on_login_refused(event);
}

std::chrono::milliseconds MySqlServer::login_failed(LoginRefusal reason, std::string_view user,
                                                    std::string_view address) {
  std::chrono::milliseconds delay{0};
  if (is_auth_failure(reason) && reason != LoginRefusal::kBlocked)
    delay = connect_errors_.record_failure(address);
  if (reason == LoginRefusal::kBadPassword)
    account_failures_.record_failure(user, AccountFailureBudget::Clock::now());
  report(reason, user, address);
  return delay;
}

ErrPacket MySqlServer::host_blocked_error(std::string_view address) {
  return {error_code::kHostIsBlocked, "HY000",
          fmt::format("Host '{}' is blocked because of many connection errors; unblock with 'mysqladmin "
                      "flush-hosts'",
                      address)};
}

std::optional<ErrPacket> MySqlServer::admit_login(ServerSession& session, const Account& account) {
  connect_errors_.record_success(session.peer_host());
  account_failures_.record_success(session.user(), session.peer_host());
  if (settings_.admit) {
    if (auto refused = settings_.admit(session)) return refused;
  }
  const std::size_t allowed = settings_.max_connections + (account.reserved_connection ? 1 : 0);
  if (authenticated_ >= allowed) {
    report(LoginRefusal::kMaxConnections, session.user(), session.peer_host());
    return ErrPacket{error_code::kTooManyConnections, "08004", "Too many connections"};
  }
  std::size_t& mine = user_sessions_[session.user()];
  if (account.max_connections > 0 && mine >= account.max_connections) {
    if (mine == 0) user_sessions_.erase(session.user());
    report(LoginRefusal::kMaxUserConnections, session.user(), session.peer_host());
    return ErrPacket{
        error_code::kUserLimitReached, "42000",
        fmt::format("User '{}' has exceeded the 'max_user_connections' resource (current value: {})",
                    session.user(), account.max_connections)};
  }
  ++mine;
  ++authenticated_;
  session.counted_ = true;
  return std::nullopt;
}

void MySqlServer::refuse(std::unique_ptr<TcpConnection> connection, const ErrPacket& error) {
  if (*refusing_ >= kMaxRefusing) {
    connection->close();
    return;
  }
  // The connection closes itself once the ERR is out; nothing else refers to it.
  struct Refused final : TcpConnection::Observer {
    std::unique_ptr<TcpConnection> connection;
    void on_read(ByteView) override {}
    void on_read_end(const Status&) override { connection->close(); }
    void on_drained() override {}
    void on_write_error(const Error&) override { connection->close(); }
    void on_closed() override {
      --*count;
      delete this;
    }
    std::shared_ptr<std::size_t> count;  // the server's refusals in flight (outlives the server)
  };
  auto* refused = new Refused;
  refused->count = refusing_;
  ++*refusing_;
  refused->connection = std::move(connection);
  refused->connection->set_observer(refused);
  std::uint8_t sequence_id = 0;
  Bytes packet = encode_packet(encode_err(error), sequence_id);
  (void)refused->connection->write(packet);
  refused->connection->close_after_flush(std::chrono::milliseconds(1000));
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
  auto it = sessions_.find(connection_id);
  if (it == sessions_.end()) return;
  if (it->second->counted_) {
    --authenticated_;
    auto user = user_sessions_.find(it->second->user());
    if (user != user_sessions_.end() && --user->second == 0) user_sessions_.erase(user);
  }
  sessions_.erase(it);
}

}  // namespace brelay::net
