#include "net/server_session.h"

#include <openssl/rand.h>

#include <algorithm>

#include "net/ip_range.h"
#include "net/mysql_constants.h"
#include "net/mysql_server.h"

namespace brelay::net {
namespace {

Bytes new_nonce() {
  Bytes nonce(kNonceSize);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    // Never reached with a working OpenSSL; fall back to something unpredictable enough to not repeat.
    for (std::size_t i = 0; i < nonce.size(); ++i)
      nonce[i] = static_cast<std::uint8_t>(std::rand());
  }
  // Printable ASCII without NUL, like the servers send: some clients treat the nonce as a C string.
  for (auto& byte : nonce)
    byte = static_cast<std::uint8_t>(byte % 94 + 33);
  return nonce;
}

ErrPacket out_of_order() {
  return {error_code::kNetPacketsOutOfOrder, "08S01", "Got packets out of order"};
}

ErrPacket bad_handshake() {
  return {error_code::kHandshakeError, "08S01", "Bad handshake"};
}

}  // namespace

ServerSession::ServerSession(MySqlServer& server, uv_loop_t* loop, std::uint32_t connection_id,
                             std::unique_ptr<TcpConnection> connection, SessionSettings settings,
                             const SessionHandlerFactory* handler_factory)
    : server_(server),
      connection_id_(connection_id),
      settings_(std::move(settings)),
      handler_factory_(handler_factory),
      channel_(std::move(connection), settings_.max_packet_before_auth),
      timer_(loop),
      next_packet_(loop),
      write_watch_(loop) {
  channel_.set_listener(this);
}

ServerSession::~ServerSession() {
  channel_.set_listener(nullptr);
}

bool ServerSession::deprecate_eof() const {
  return (client_capabilities_ & server_capabilities_ & capability::kDeprecateEof) != 0;
}

void ServerSession::start() {
  nonce_ = new_nonce();
  server_capabilities_ = capability::kLongPassword | capability::kFoundRows | capability::kLongFlag |
                         capability::kConnectWithDb | capability::kProtocol41 | capability::kTransactions |
                         capability::kSecureConnection | capability::kMultiResults | capability::kPluginAuth |
                         capability::kPluginAuthLenencClientData | capability::kConnectAttrs |
                         capability::kDeprecateEof;
  if (settings_.tls) server_capabilities_ |= capability::kSsl;
  HandshakeV10 greeting;
  greeting.server_version = settings_.server_version;
  greeting.connection_id = connection_id_;
  greeting.nonce = nonce_;
  greeting.capabilities = server_capabilities_;
  greeting.charset = settings_.charset;
  greeting.status_flags = server_status::kAutocommit;
  greeting.auth_plugin_name = settings_.greeting_auth_plugin;
  sequence_id_ = 0;
  if (Status sent = send(encode_handshake_v10(greeting)); !sent) {
    fail(sent.error(), std::nullopt);
    return;
  }
  if (Status reading = channel_.start_reading(); !reading) {
    fail(reading.error(), std::nullopt);
    return;
  }
  if (settings_.handshake_timeout.count() > 0) {
    timer_.start(settings_.handshake_timeout, [this] {
      fail_login(LoginRefusal::kTimeout,
                 make_error("the client did not log in within {} ms", settings_.handshake_timeout.count()),
                 std::nullopt);
    });
  }
}

Status ServerSession::send(ByteView payload) {
  Status sent = channel_.send_packet(payload, sequence_id_);
  after_send(sent);
  return sent;
}

Status ServerSession::send_all(std::span<const Bytes> payloads) {
  if (payloads.empty()) return {};
  Status sent = channel_.send_packets(payloads, sequence_id_);
  after_send(sent);
  return sent;
}

void ServerSession::after_send(const Status& sent) {
  // A write the kernel refused (the client reset the connection) ends the session here: nothing
  // else would notice while reading rests until the reply is complete.
  if (!sent) {
    fail(sent.error(), std::nullopt);
    return;
  }
  watch_writes();
}

void ServerSession::watch_writes() {
  if (settings_.write_timeout.count() <= 0 || write_watch_.active() || state_ == State::kClosing ||
      channel_.pending_bytes() == 0)
    return;
  watched_sent_bytes_ = channel_.sent_bytes();
  last_taken_ = std::chrono::steady_clock::now();
  schedule_write_check();
}

void ServerSession::schedule_write_check() {
  // Four looks per timeout: a client is cut between 1 and 1.25 timeouts after it stopped.
  write_watch_.start(std::max(settings_.write_timeout / 4, std::chrono::milliseconds(1)),
                     [this] { check_writes(); });
}

void ServerSession::check_writes() {
  if (state_ == State::kClosing || channel_.pending_bytes() == 0) return;  // the next send watches again
  const auto now = std::chrono::steady_clock::now();
  if (const std::uint64_t sent = channel_.sent_bytes(); sent != watched_sent_bytes_) {
    watched_sent_bytes_ = sent;
    last_taken_ = now;
  } else if (now - last_taken_ >= settings_.write_timeout) {
    fail(
        Error(fmt::format("the client took none of the {} bytes waiting for it for {} ms (net_write_timeout)",
                          channel_.pending_bytes(), settings_.write_timeout.count()),
              error_code::kNetWriteInterrupted),
        std::nullopt);
    return;
  }
  schedule_write_check();
}

void ServerSession::on_packets_available() {
  process_packets();
}

void ServerSession::process_packets() {
  if (processing_) return;
  processing_ = true;
  auto watch = lifetime_.watch();
  while (state_ != State::kClosing && state_ != State::kTlsHandshake && state_ != State::kRejecting &&
         !waiting_for_rsa_key_) {
    if (state_ == State::kCommand && awaiting_reply_ && !streaming_) {
      // No pipelining: the next command waits (and the socket rests) until this one is answered.
      channel_.pause_reading();
      break;
    }
    if (state_ == State::kCommand && !streaming_ && channel_.pending_bytes() > kMaxPendingReplyBytes) {
      // The client does not read its answers: read nothing more until they drain (on_drained()).
      output_blocked_ = true;
      channel_.pause_reading();
      break;
    }
    auto next = channel_.next_packet();
    if (!next) {
      const bool too_large = next.error().code() == error_code::kNetPacketTooLarge;
      if (state_ != State::kCommand) {
        fail_login(LoginRefusal::kMalformed, next.error(),
                   too_large ? ErrPacket{error_code::kNetPacketTooLarge, "08S01",
                                         "Got a packet bigger than 'max_allowed_packet' bytes"}
                             : out_of_order());
        break;
      }
      fail(next.error(), too_large ? ErrPacket{error_code::kNetPacketTooLarge, "08S01",
                                               "Got a packet bigger than 'max_allowed_packet' bytes"}
                                   : out_of_order());
      break;
    }
    if (!next->has_value()) break;
    handle_packet(**next);
    if (watch.expired()) return;
  }
  processing_ = false;
}

void ServerSession::schedule_processing() {
  if (processing_ || state_ == State::kClosing) return;
  next_packet_.start(std::chrono::milliseconds(0), [this] { process_packets(); });
}

void ServerSession::handle_packet(const Packet& packet) {
  switch (state_) {
    case State::kAwaitResponse:
    case State::kAuthenticating:
      if (packet.sequence_id != sequence_id_) {
        fail_login(LoginRefusal::kMalformed,
                   make_error("the client sent packet {} during the login, expected {}", packet.sequence_id,
                              sequence_id_),
                   out_of_order());
        return;
      }
      sequence_id_ = static_cast<std::uint8_t>(packet.last_sequence_id + 1);
      if (state_ == State::kAwaitResponse)
        handle_first_packet(packet);
      else if (!wait_for_rsa_key(packet.payload))
        handle_auth_step(auth_->on_client_data(packet.payload));
      return;
    case State::kCommand:
      if (streaming_) {
        if (packet.payload.size() == 1 && packet.payload[0] == command::kQuit) {
          close(Status());
          return;
        }
        handler_->on_stream_packet(*this, packet.payload);
        return;
      }
      sequence_id_ = static_cast<std::uint8_t>(packet.last_sequence_id + 1);
      handle_command(packet.payload);
      return;
    case State::kTlsHandshake:
    case State::kRejecting:
    case State::kClosing: return;
  }
}

void ServerSession::handle_first_packet(const Packet& packet) {
  if (!is_ssl_request(packet.payload) || channel_.tls_active()) {
    handle_handshake_response(packet.payload);
    return;
  }
  if (!settings_.tls) {
    fail_login(LoginRefusal::kMalformed,
               make_error("the client asked for TLS, which this server does not offer"), bad_handshake());
    return;
  }
  auto request = decode_ssl_request(packet.payload);
  if (!request) {
    fail_login(LoginRefusal::kMalformed, request.error(), bad_handshake());
    return;
  }
  state_ = State::kTlsHandshake;
  if (Status started = channel_.start_server_tls(settings_.tls); !started)
    fail(started.error(), std::nullopt);
}

void ServerSession::on_tls_established() {
  if (state_ == State::kTlsHandshake) state_ = State::kAwaitResponse;
}

void ServerSession::handle_handshake_response(ByteView payload) {
  if (settings_.require_tls && !channel_.tls_established()) {
    fail_login(
        LoginRefusal::kTlsRequired, make_error("the client did not use TLS, which this server requires"),
        ErrPacket{
            error_code::kSecureTransportRequired, "HY000",
            "Connections using insecure transport are prohibited while --require_secure_transport=ON."});
    return;
  }
  auto response = decode_handshake_response(payload);
  if (!response) {
    fail_login(LoginRefusal::kMalformed, response.error(), bad_handshake());
    return;
  }
  if (server_.address_blocked(channel_.peer_host())) {
    // Blocked while this handshake was going: no password is checked.
    user_ = response->user;
    fail_login(LoginRefusal::kBlocked, make_error("the client's address is blocked"),
               MySqlServer::host_blocked_error(canonical_ip(channel_.peer_host())));
    return;
  }
  client_capabilities_ = response->capabilities;
  user_ = response->user;
  if (response->database) database_ = *response->database;
  connect_attributes_ = std::move(response->connect_attributes);
  std::optional<Account> account = account_for_login();
  account_ = account;
  if (account) role_ = account->role;
  ServerAuthExchange::Params params;
  params.user = user_;
  params.client_host = channel_.peer_host();
  params.account = std::move(account);
  params.nonce = nonce_;
  params.secure_transport = channel_.tls_established();
  params.rsa_keys = settings_.rsa_keys;
  if (!params.rsa_keys && settings_.rsa_key_source) params.rsa_keys = settings_.rsa_key_source->key();
  params.greeting_plugin = settings_.greeting_auth_plugin;
  auth_ = std::make_unique<ServerAuthExchange>(std::move(params));
  state_ = State::kAuthenticating;
  handle_auth_step(auth_->begin(response->auth_plugin_name, response->auth_response));
}

bool ServerSession::wait_for_rsa_key(ByteView payload) {
  if (!settings_.rsa_key_source || !auth_->needs_rsa_keys()) return false;
  if (!settings_.rsa_key_source->pending()) {
    auth_->set_rsa_keys(settings_.rsa_key_source->key());  // null if generation failed: TLS needed
    return false;
  }
  parked_auth_data_.assign(payload.begin(), payload.end());
  waiting_for_rsa_key_ = true;
  channel_.pause_reading();
  settings_.rsa_key_source->when_ready([this, watch = lifetime_.watch()] {
    if (watch.expired()) return;
    waiting_for_rsa_key_ = false;
    if (state_ != State::kAuthenticating) return;
    auth_->set_rsa_keys(settings_.rsa_key_source->key());
    const Bytes data = std::move(parked_auth_data_);
    parked_auth_data_.clear();
    handle_auth_step(auth_->on_client_data(data));
    if (watch.expired() || state_ == State::kClosing) return;
    if (Status resumed = channel_.resume_reading(); !resumed) {
      fail(resumed.error(), std::nullopt);
      return;
    }
    schedule_processing();
  });
  return true;
}

void ServerSession::handle_auth_step(AuthStep step) {
  if (Status sent = send_all(step.send); !sent) {
    fail(sent.error(), std::nullopt);
    return;
  }
  switch (step.outcome) {
    case AuthStep::Outcome::kContinue: return;
    case AuthStep::Outcome::kAccept: finish_login(); return;
    case AuthStep::Outcome::kReject: {
      role_.clear();
      LoginRefusal reason = account_ ? LoginRefusal::kBadPassword : LoginRefusal::kUnknownAccount;
      if (hidden_refusal_) reason = *hidden_refusal_;
      const bool malformed = step.rejection.code == error_code::kHandshakeError;
      if (malformed) reason = LoginRefusal::kMalformed;
      fail_login(reason, Error(step.rejection.message, step.rejection.code), step.rejection, !malformed);
      return;
    }
  }
}

std::optional<Account> ServerSession::account_for_login() {
  std::optional<Account> account;
  if (settings_.accounts) account = settings_.accounts->find(user_);
  if (!account) return account;
  // As if the account did not exist: same exchange, same ERR 1045, same delay.
  if (!account->host_allowed(channel_.peer_host())) {
    hidden_refusal_ = LoginRefusal::kHostNotAllowed;
    return std::nullopt;
  }
  if (account->require_tls && !channel_.tls_established()) {
    hidden_refusal_ = LoginRefusal::kTlsRequired;
    return std::nullopt;
  }
  // Too many wrong passwords for this account lately, from addresses it never logged in from.
  if (!server_.account_login_allowed(user_, channel_.peer_host())) {
    hidden_refusal_ = LoginRefusal::kAccountThrottled;
    return std::nullopt;
  }
  return account;
}

void ServerSession::fail_login(LoginRefusal reason, const Error& error, std::optional<ErrPacket> reply,
                               bool delayed) {
  if (state_ == State::kClosing || state_ == State::kRejecting) return;
  const std::chrono::milliseconds delay = server_.login_failed(reason, user_, channel_.peer_host());
  if (!delayed || delay.count() <= 0 || !reply) {
    fail(error, std::move(reply));
    return;
  }
  // The answer waits on a timer; the session reads nothing meanwhile.
  state_ = State::kRejecting;
  channel_.pause_reading();
  next_packet_.stop();
  timer_.start(delay, [this, error, reply = std::move(reply)]() mutable {
    state_ = State::kAuthenticating;
    fail(error, std::move(reply));
  });
}

void ServerSession::finish_login() {
  auth_plugin_ = auth_->plugin();
  auth_method_ = auth_->method();
  auth_.reset();
  if (account_) {
    if (auto refused = server_.admit_login(*this, *account_)) {
      Error why(refused->message, refused->code);
      fail(why, std::move(refused));
      return;
    }
  }
  if (handler_factory_ != nullptr && *handler_factory_) handler_ = (*handler_factory_)(*this);
  if (!handler_) {
    fail(make_error("no session handler"),
         ErrPacket{error_code::kServerShutdown, "08S01", "Server shutdown in progress"});
    return;
  }
  state_ = State::kCommand;
  channel_.set_max_payload(settings_.max_packet);
  timer_.stop();
  if (Status sent = send(encode_ok(OkPacket())); !sent) {
    fail(sent.error(), std::nullopt);
    return;
  }
  restart_idle_timer();
}

void ServerSession::handle_command(ByteView payload) {
  timer_.stop();
  if (payload.empty()) {
    awaiting_reply_ = true;
    (void)send_error(error_code::kUnknownCommand, "08S01", "Unknown command (empty packet)");
    return;
  }
  const std::uint8_t code = payload[0];
  awaiting_reply_ = true;
  switch (code) {
    case command::kQuit:
      awaiting_reply_ = false;
      close(Status());
      return;
    case command::kPing: (void)send_ok(); return;
    case command::kInitDb:
      database_ = std::string(as_text(payload.subspan(1)));
      (void)send_ok();
      return;
    case command::kQuery: handler_->on_query(*this, as_text(payload.subspan(1))); return;
    default: handler_->on_command(*this, code, payload); return;
  }
}

void ServerSession::reply_sent() {
  awaiting_reply_ = false;
  reply_in_parts_ = false;
  if (state_ != State::kCommand || streaming_) return;
  restart_idle_timer();
  if (Status resumed = channel_.resume_reading(); !resumed) {
    fail(resumed.error(), std::nullopt);
    return;
  }
  schedule_processing();
}

void ServerSession::restart_idle_timer() {
  if (state_ != State::kCommand || streaming_ || awaiting_reply_ || settings_.idle_timeout.count() <= 0) {
    timer_.stop();
    return;
  }
  timer_.start(settings_.idle_timeout, [this] {
    fail(make_error("the client was idle for more than {} ms", settings_.idle_timeout.count()), std::nullopt);
  });
}

Status ServerSession::send_ok(const OkPacket& ok) {
  Status sent = send(encode_ok(ok));
  reply_sent();
  return sent;
}

Status ServerSession::send_error(std::uint16_t code, std::string_view sql_state, std::string_view message) {
  return send_error(ErrPacket{code, std::string(sql_state), std::string(message)});
}

Status ServerSession::send_error(const ErrPacket& err) {
  Status sent = send(encode_err(err));
  reply_sent();
  return sent;
}

Status ServerSession::send_result_set(const ResultSet& result) {
  const std::vector<Bytes> payloads = encode_result_set(result, deprecate_eof());
  Status sent = send_all(payloads);
  reply_sent();
  return sent;
}

Status ServerSession::send_reply(std::span<const Bytes> payloads) {
  Status sent = send_all(payloads);
  reply_sent();
  return sent;
}

Status ServerSession::send_reply_part(std::span<const Bytes> payloads) {
  reply_in_parts_ = true;
  return send_all(payloads);
}

void ServerSession::finish_without_reply() {
  reply_sent();
}

void ServerSession::start_stream() {
  streaming_ = true;
  timer_.stop();
  (void)channel_.resume_reading();
}

PacketBatch& ServerSession::batch() {
  batch_.clear();
  return batch_;
}

Status ServerSession::send_batch(PacketBatch& batch) {
  Status sent = channel_.send_batch(batch, sequence_id_);
  after_send(sent);
  return sent;
}

Status ServerSession::send_stream_packet(ByteView payload) {
  return send(payload);
}

void ServerSession::end_stream() {
  if (!streaming_) return;
  streaming_ = false;
  reply_sent();
}

void ServerSession::fail(const Error& error, std::optional<ErrPacket> reply) {
  close(error, std::move(reply));
}

void ServerSession::close(const Status& reason, std::optional<ErrPacket> error) {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  close_reason_ = reason;
  next_packet_.stop();
  timer_.stop();
  write_watch_.stop();
  if (!error) {
    channel_.close();
    return;
  }
  (void)send(encode_err(*error));
  channel_.close_after_flush();
}

void ServerSession::on_channel_failed(const Status& why) {
  if (state_ == State::kClosing) {
    channel_.close();
    return;
  }
  state_ = State::kClosing;
  close_reason_ = why;
  timer_.stop();
  next_packet_.stop();
  write_watch_.stop();
  channel_.close();
}

void ServerSession::on_drained() {
  if (output_blocked_ && state_ == State::kCommand && !streaming_ && !awaiting_reply_) {
    output_blocked_ = false;
    if (Status resumed = channel_.resume_reading(); !resumed) {
      fail(resumed.error(), std::nullopt);
      return;
    }
    schedule_processing();
    return;
  }
  if (handler_ && state_ == State::kCommand && (streaming_ || reply_in_parts_)) handler_->on_drained(*this);
}

void ServerSession::on_closed() {
  timer_.stop();
  next_packet_.stop();
  write_watch_.stop();
  if (handler_) handler_->on_closed(*this, close_reason_);
  server_.session_closed(connection_id_);  // destroys this session
}

}  // namespace brelay::net
