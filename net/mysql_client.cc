#include "net/mysql_client.h"

#include <cstring>

#include "common/byte_reader.h"
#include "net/client_auth.h"
#include "net/mysql_constants.h"
#include "net/socket_address.h"

namespace brelay::net {
namespace {

// Before the login only the greeting and auth packets arrive; they are small.
constexpr std::size_t kMaxPacketBeforeLogin = 1024 * 1024;

constexpr std::uint32_t kWantedCapabilities =
    capability::kLongPassword | capability::kLongFlag | capability::kProtocol41 | capability::kTransactions |
    capability::kSecureConnection | capability::kMultiResults | capability::kPluginAuth |
    capability::kPluginAuthLenencClientData | capability::kConnectAttrs | capability::kDeprecateEof;

}  // namespace

Error server_error(const ErrPacket& err) {
  return make_error_code(err.code, "{} (server error {}, SQLSTATE {})", err.message, err.code, err.sql_state);
}

std::size_t held_bytes(const TextRow& row) {
  constexpr std::size_t kAllocationOverhead = 16;  // glibc malloc's header and rounding, roughly
  constexpr std::size_t kInlineChars = 15;         // libstdc++'s short string buffer
  std::size_t bytes = sizeof(TextRow) + kAllocationOverhead + row.capacity() * sizeof(TextRow::value_type);
  for (const auto& value : row) {
    if (value && value->capacity() > kInlineChars) bytes += value->capacity() + 1 + kAllocationOverhead;
  }
  return bytes;
}

struct MySqlClient::Resolver {
  uv_getaddrinfo_t request{};
  MySqlClient* owner = nullptr;
  std::uint16_t port = 0;
  std::string host;

  static void on_resolved(uv_getaddrinfo_t* request, int status, addrinfo* results) {
    auto* self = static_cast<Resolver*>(request->data);
    MySqlClient* owner = self->owner;
    // uv_strerror() allocates for codes it does not know (0 among them): only for real errors.
    Result<sockaddr_storage> address =
        status < 0 ? make_error("cannot resolve '{}': {}", self->host, uv_strerror(status))
                   : make_error("cannot resolve '{}': no address", self->host);
    if (status == 0 && results != nullptr) {
      sockaddr_storage storage{};
      std::memcpy(&storage, results->ai_addr, std::min<std::size_t>(results->ai_addrlen, sizeof(storage)));
      if (storage.ss_family == AF_INET)
        reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(self->port);
      else if (storage.ss_family == AF_INET6)
        reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(self->port);
      address = storage;
    }
    uv_freeaddrinfo(results);
    delete self;
    if (owner == nullptr) return;
    owner->resolver_ = nullptr;
    owner->resolved(std::move(address));
  }
};

MySqlClient::MySqlClient(EventLoop& loop, ClientOptions options)
    : loop_(loop), options_(std::move(options)), connect_timer_(loop.raw()), resume_timer_(loop.raw()) {}

MySqlClient::~MySqlClient() {
  if (resolver_ != nullptr) {
    resolver_->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolver_->request));
  }
  if (channel_) channel_->set_listener(nullptr);
}

void MySqlClient::connect(ConnectCallback done) {
  if (state_ != State::kDisconnected) {
    done(make_error("connect() was already called on this client"));
    return;
  }
  state_ = State::kConnecting;
  login_step_ = LoginStep::kGreeting;
  on_connect_ = std::move(done);
  if (options_.connect_timeout.count() > 0) {
    connect_timer_.start(options_.connect_timeout, [this] {
      fail(make_error("connecting to {}:{} timed out after {} ms", options_.host, options_.port,
                      options_.connect_timeout.count()));
    });
  }
  if (is_ip_literal(options_.host)) {
    resolved(numeric_address(options_.host, options_.port));
    return;
  }
  auto* resolver = new Resolver;
  resolver->owner = this;
  resolver->port = options_.port;
  resolver->host = options_.host;
  resolver->request.data = resolver;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string port = std::to_string(options_.port);
  if (int rc = uv_getaddrinfo(loop_.raw(), &resolver->request, &Resolver::on_resolved, options_.host.c_str(),
                              port.c_str(), &hints);
      rc != 0) {
    delete resolver;
    fail(make_error("cannot resolve '{}': {}", options_.host, uv_strerror(rc)));
    return;
  }
  resolver_ = resolver;
}

void MySqlClient::resolved(Result<sockaddr_storage> address) {
  if (state_ != State::kConnecting) return;
  if (!address) {
    fail(address.error());
    return;
  }
  auto connection = TcpConnection::connect(loop_.raw(), reinterpret_cast<const sockaddr*>(&*address),
                                           [this](const Status& status) { tcp_connected(status); });
  if (!connection) {
    fail(connection.error());
    return;
  }
  channel_ = std::make_unique<PacketChannel>(std::move(*connection), kMaxPacketBeforeLogin);
  channel_->set_listener(this);
}

void MySqlClient::tcp_connected(const Status& status) {
  if (state_ != State::kConnecting) return;
  if (!status) {
    fail(status.error());
    return;
  }
  if (Status reading = channel_->start_reading(); !reading) fail(reading.error());
}

Status MySqlClient::send(ByteView payload) {
  return channel_->send_packet(payload, sequence_id_);
}

void MySqlClient::on_packets_available() {
  process_packets();
}

void MySqlClient::process_packets() {
  if (processing_ || !channel_) return;
  processing_ = true;
  auto watch = lifetime_.watch();
  while (state_ != State::kClosed && !(state_ == State::kStreaming && stream_paused_)) {
    auto next = channel_->next_packet();
    if (!next) {
      fail(next.error());
      if (watch.expired()) return;
      break;
    }
    if (!next->has_value()) break;
    const bool go_on = handle_packet(**next);
    if (watch.expired()) return;
    if (!go_on) break;
  }
  processing_ = false;
}

bool MySqlClient::handle_packet(const Packet& packet) {
  switch (state_) {
    case State::kConnecting:
      if (login_step_ == LoginStep::kGreeting) return handle_greeting(packet);
      if (login_step_ == LoginStep::kAuthenticating) return handle_auth_packet(packet);
      fail(make_error("unexpected packet from the server during the TLS handshake"));
      return false;
    case State::kAwaitReply: return handle_reply_packet(packet);
    case State::kStreaming: return handle_stream_packet(packet);
    case State::kIdle:
      if (is_err_packet(packet.payload)) {
        if (auto err = decode_err(packet.payload)) {
          last_server_error_ = *err;
          fail(server_error(*err));
          return false;
        }
      }
      fail(make_error("unexpected packet (0x{:02x}, {} bytes) from the server while no command runs",
                      packet.payload.empty() ? 0 : packet.payload[0], packet.payload.size()));
      return false;
    case State::kDisconnected:
    case State::kClosed: break;
  }
  return false;
}

bool MySqlClient::handle_greeting(const Packet& packet) {
  if (is_err_packet(packet.payload)) {
    auto err = decode_err(packet.payload);
    if (!err) {
      fail(err.error());
      return false;
    }
    last_server_error_ = *err;
    fail(server_error(*err).with_context(
        fmt::format("{}:{} refused the connection", options_.host, options_.port)));
    return false;
  }
  auto greeting = decode_handshake_v10(packet.payload);
  if (!greeting) {
    fail(greeting.error().with_context("the server's greeting"));
    return false;
  }
  greeting_ = std::move(*greeting);
  if (!(greeting_.capabilities & capability::kProtocol41)) {
    fail(make_error("the server {} does not speak protocol 4.1", greeting_.server_version));
    return false;
  }
  capabilities_ = kWantedCapabilities & greeting_.capabilities;
  if (!options_.deprecate_eof) capabilities_ &= ~capability::kDeprecateEof;
  if (!options_.database.empty()) capabilities_ |= capability::kConnectWithDb;
  sequence_id_ = static_cast<std::uint8_t>(packet.last_sequence_id + 1);
  const bool server_offers_tls = (greeting_.capabilities & capability::kSsl) != 0;
  const TlsMode mode = options_.tls_mode;
  if (mode == TlsMode::kDisabled || (mode == TlsMode::kPreferred && !server_offers_tls))
    return send_handshake_response();
  if (!server_offers_tls) {
    fail(make_error("the server at {}:{} does not offer TLS, which tls mode '{}' requires", options_.host,
                    options_.port, tls_mode_name(mode)));
    return false;
  }
  auto context = TlsContext::client(mode, options_.tls_ca_file);
  if (!context) {
    fail(context.error());
    return false;
  }
  capabilities_ |= capability::kSsl;
  SslRequest request{capabilities_, static_cast<std::uint32_t>(options_.max_packet), options_.charset};
  if (Status sent = send(encode_ssl_request(request)); !sent) {
    fail(sent.error());
    return false;
  }
  login_step_ = LoginStep::kTlsHandshake;
  const std::string& name = options_.tls_server_name.empty() ? options_.host : options_.tls_server_name;
  if (Status started = channel_->start_client_tls(*context, name); !started) {
    fail(started.error());
    return false;
  }
  return true;
}

void MySqlClient::on_tls_established() {
  if (state_ == State::kConnecting && login_step_ == LoginStep::kTlsHandshake) send_handshake_response();
}

bool MySqlClient::send_handshake_response() {
  ClientAuthExchange::Params params;
  params.password = options_.password;
  params.secure_transport = channel_->tls_established();
  params.server_public_key_pem = options_.server_public_key_pem;
  params.allow_public_key_request = options_.allow_public_key_request;
  params.capabilities = capabilities_;
  auth_ = std::make_unique<ClientAuthExchange>(std::move(params));
  HandshakeResponse response;
  response.capabilities = capabilities_;
  response.max_packet_size = static_cast<std::uint32_t>(options_.max_packet);
  response.charset = options_.charset;
  response.user = options_.user;
  response.auth_plugin_name = auth_->initial_plugin(greeting_.auth_plugin_name);
  response.auth_response = auth_->initial_response(response.auth_plugin_name, greeting_.nonce);
  if (!options_.database.empty()) response.database = options_.database;
  response.connect_attributes = options_.connect_attributes;
  login_step_ = LoginStep::kAuthenticating;
  if (Status sent = send(encode_handshake_response(response)); !sent) {
    fail(sent.error());
    return false;
  }
  return true;
}

bool MySqlClient::handle_auth_packet(const Packet& packet) {
  sequence_id_ = static_cast<std::uint8_t>(packet.last_sequence_id + 1);
  auto step = auth_->on_server_packet(packet.payload);
  if (!step) {
    fail(step.error().with_context("logging in"));
    return false;
  }
  switch (step->outcome) {
    case ClientAuthStep::Outcome::kSend:
      if (Status sent = send(step->send); !sent) {
        fail(sent.error());
        return false;
      }
      return true;
    case ClientAuthStep::Outcome::kWait: return true;
    case ClientAuthStep::Outcome::kAccepted:
      auth_plugin_ = auth_->plugin();
      auth_.reset();
      channel_->set_max_payload(options_.max_packet);
      return finish_connect(Status());
    case ClientAuthStep::Outcome::kRejected:
      last_server_error_ = step->error;
      fail(server_error(step->error));
      return false;
  }
  return false;
}

bool MySqlClient::finish_connect(const Status& status) {
  connect_timer_.stop();
  state_ = State::kIdle;
  auto watch = lifetime_.watch();
  auto done = std::move(on_connect_);
  on_connect_ = nullptr;
  if (done) done(status);
  if (watch.expired()) return false;
  start_next_operation();
  return state_ != State::kClosed;
}

void MySqlClient::query(std::string sql, QueryCallback done) {
  Operation operation{Operation::Kind::kQuery, {}, std::move(done), nullptr, nullptr};
  operation.payload.reserve(sql.size() + 1);
  operation.payload.push_back(command::kQuery);
  operation.payload.insert(operation.payload.end(), sql.begin(), sql.end());
  if (state_ == State::kClosed) {
    operation.on_query(make_error("the connection is closed"));
    return;
  }
  operations_.push_back(std::move(operation));
  start_next_operation();
}

void MySqlClient::command(Bytes payload, CommandCallback done) {
  Operation operation{Operation::Kind::kCommand, std::move(payload), nullptr, std::move(done), nullptr};
  if (state_ == State::kClosed) {
    operation.on_command(make_error("the connection is closed"));
    return;
  }
  operations_.push_back(std::move(operation));
  start_next_operation();
}

void MySqlClient::start_stream(Bytes payload, StreamReceiver* receiver) {
  if (state_ == State::kClosed) {
    receiver->on_stream_end(make_error("the connection is closed"));
    return;
  }
  operations_.push_back(Operation{Operation::Kind::kStream, std::move(payload), nullptr, nullptr, receiver});
  start_next_operation();
}

void MySqlClient::start_next_operation() {
  if (state_ != State::kIdle || operations_.empty()) return;
  const Operation& operation = operations_.front();
  sequence_id_ = 0;
  reply_ = QueryResult();
  reply_step_ = ReplyStep::kFirst;
  first_result_done_ = false;
  result_bytes_ = 0;
  result_rows_ = 0;
  result_held_ = 0;
  result_dropped_ = false;
  column_count_ = 0;
  stream_paused_ = false;
  state_ = operation.kind == Operation::Kind::kStream ? State::kStreaming : State::kAwaitReply;
  if (Status sent = send(operation.payload); !sent) fail(sent.error());
}

bool MySqlClient::finish_operation(Result<QueryResult> result) {
  Operation operation = std::move(operations_.front());
  operations_.pop_front();
  state_ = State::kIdle;
  auto watch = lifetime_.watch();
  if (operation.kind == Operation::Kind::kQuery) {
    operation.on_query(std::move(result));
  } else if (result) {
    operation.on_command(std::move(result->ok));
  } else {
    operation.on_command(std::move(result).error());
  }
  if (watch.expired()) return false;
  start_next_operation();
  return state_ != State::kClosed;
}

bool MySqlClient::protocol_failure(const Error& error) {
  // The reply cannot be followed any further: the connection is out of step and must end.
  fail(error.with_context(fmt::format("reading the reply from {}:{}", options_.host, options_.port)));
  return false;
}

bool MySqlClient::handle_reply_packet(const Packet& packet) {
  const ByteView payload = packet.payload;
  const bool deprecate_eof = (capabilities_ & capability::kDeprecateEof) != 0;
  if (is_err_packet(payload) && (reply_step_ == ReplyStep::kFirst || reply_step_ == ReplyStep::kRows)) {
    auto err = decode_err(payload);
    if (!err) return protocol_failure(err.error());
    last_server_error_ = *err;
    return finish_operation(server_error(*err));
  }
  switch (reply_step_) {
    case ReplyStep::kFirst: return handle_first_reply_packet(packet);
    case ReplyStep::kColumns: {
      auto column = decode_column_definition(payload);
      if (!column) return protocol_failure(column.error());
      if (!first_result_done_) reply_.result_set.columns.push_back(std::move(*column));
      if (++columns_seen_ == column_count_)
        reply_step_ = deprecate_eof ? ReplyStep::kRows : ReplyStep::kColumnsEof;
      return true;
    }
    case ReplyStep::kColumnsEof:
      if (!is_eof_packet(payload))
        return protocol_failure(make_error("expected EOF after the column definitions"));
      reply_step_ = ReplyStep::kRows;
      return true;
    case ReplyStep::kRows: return handle_row_packet(payload, deprecate_eof);
  }
  return true;
}

bool MySqlClient::handle_first_reply_packet(const Packet& packet) {
  const ByteView payload = packet.payload;
  const Operation& operation = operations_.front();
  if (payload.empty()) return protocol_failure(make_error("empty reply from the server"));
  if (payload[0] == kOkHeader || (operation.kind == Operation::Kind::kCommand && is_eof_packet(payload))) {
    auto ok = payload[0] == kOkHeader ? decode_ok(payload, capabilities_) : Result<OkPacket>(OkPacket());
    if (!ok) return protocol_failure(ok.error());
    if (!first_result_done_) reply_.ok = *ok;
    if (ok->status_flags & server_status::kMoreResultsExist) {
      first_result_done_ = true;
      return true;
    }
    return finish_operation(std::move(reply_));
  }
  if (operation.kind == Operation::Kind::kCommand)
    return protocol_failure(make_error("unexpected reply 0x{:02x} to a command", payload[0]));
  if (payload[0] == 0xfb) {
    // LOCAL INFILE request: answer with an empty file; the server then replies OK or ERR.
    sequence_id_ = static_cast<std::uint8_t>(packet.last_sequence_id + 1);
    if (Status sent = send(ByteView()); !sent) return protocol_failure(sent.error());
    return true;
  }
  ByteReader reader(payload);
  auto count = reader.lenenc("column count");
  if (!count) return protocol_failure(count.error());
  if (*count == 0 || !reader.at_end())
    return protocol_failure(make_error("bad column count packet ({} bytes)", payload.size()));
  column_count_ = *count;
  columns_seen_ = 0;
  if (!first_result_done_) reply_.result_set.columns.reserve(std::min<std::uint64_t>(column_count_, 4096));
  reply_step_ = ReplyStep::kColumns;
  return true;
}

bool MySqlClient::handle_row_packet(ByteView payload, bool deprecate_eof) {
  if (is_result_set_end(payload)) {
    std::uint16_t status = 0;
    if (deprecate_eof) {
      auto ok = decode_ok(payload, capabilities_);
      if (!ok) return protocol_failure(ok.error());
      status = ok->status_flags;
    } else {
      auto eof = decode_eof(payload);
      if (!eof) return protocol_failure(eof.error());
      status = eof->status_flags;
    }
    if (!first_result_done_) reply_.has_rows = true;
    first_result_done_ = true;
    if (status & server_status::kMoreResultsExist) {
      reply_step_ = ReplyStep::kFirst;
      return true;
    }
    if (result_dropped_) {
      return finish_operation(
          make_error("the result set is larger than {} bytes ({} in memory) or has more than {} rows",
                     options_.max_result_bytes, options_.max_result_memory, options_.max_result_rows));
    }
    return finish_operation(std::move(reply_));
  }
  result_bytes_ += payload.size();
  if (result_dropped_ || first_result_done_) return true;  // read to the end, keep nothing
  auto row = decode_text_row(payload, static_cast<std::size_t>(column_count_));
  if (!row) return protocol_failure(row.error());
  ++result_rows_;
  result_held_ += held_bytes(*row) + sizeof(TextRow);  // and its slot in the rows vector
  const auto over = [](std::size_t value, std::size_t bound) { return bound > 0 && value > bound; };
  if (over(result_bytes_, options_.max_result_bytes) || over(result_rows_, options_.max_result_rows) ||
      over(result_held_, options_.max_result_memory)) {
    result_dropped_ = true;
    reply_.result_set.rows = {};  // frees the memory at once
    return true;
  }
  reply_.result_set.rows.push_back(std::move(*row));
  return true;
}

bool MySqlClient::handle_stream_packet(const Packet& packet) {
  const ByteView payload = packet.payload;
  StreamReceiver* receiver = operations_.front().receiver;
  auto watch = lifetime_.watch();
  if (is_err_packet(payload) || is_eof_packet(payload)) {
    Status end;
    if (is_err_packet(payload)) {
      auto err = decode_err(payload);
      if (err) {
        last_server_error_ = *err;
        end = server_error(*err);
      } else {
        end = err.error();
      }
    }
    operations_.pop_front();
    state_ = State::kIdle;
    stream_paused_ = false;
    receiver->on_stream_end(end);
    if (watch.expired()) return false;
    start_next_operation();
    return state_ != State::kClosed;
  }
  receiver->on_stream_packet(payload);
  return !watch.expired();
}

void MySqlClient::pause_stream() {
  if (state_ != State::kStreaming) return;
  stream_paused_ = true;
  channel_->pause_reading();
}

void MySqlClient::resume_stream() {
  if (!stream_paused_) return;
  stream_paused_ = false;
  if (state_ == State::kClosed) return;
  if (Status resumed = channel_->resume_reading(); !resumed) {
    fail(resumed.error());
    return;
  }
  resume_timer_.start(std::chrono::milliseconds(0), [this] { process_packets(); });
}

Status MySqlClient::send_packet(ByteView payload, std::uint8_t sequence_id) {
  if (!channel_ || state_ == State::kClosed) return make_error("the connection is closed");
  return channel_->send_packet(payload, sequence_id);
}

void MySqlClient::on_channel_failed(const Status& why) {
  if (why) {
    fail(make_error("the server {}:{} closed the connection", options_.host, options_.port));
  } else {
    fail(why.error().with_context(fmt::format("connection to {}:{}", options_.host, options_.port)));
  }
}

void MySqlClient::on_drained() {}

void MySqlClient::on_closed() {}

void MySqlClient::fail(const Error& error, bool flush_first) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  connect_timer_.stop();
  resume_timer_.stop();
  if (resolver_ != nullptr) {
    resolver_->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolver_->request));
    resolver_ = nullptr;
  }
  if (channel_) {
    if (flush_first)
      channel_->close_after_flush();
    else
      channel_->close();
  }
  auto watch = lifetime_.watch();
  if (on_connect_) {
    auto done = std::move(on_connect_);
    on_connect_ = nullptr;
    done(error);
    if (watch.expired()) return;
  }
  while (!operations_.empty()) {
    Operation operation = std::move(operations_.front());
    operations_.pop_front();
    if (operation.kind == Operation::Kind::kQuery)
      operation.on_query(error);
    else if (operation.kind == Operation::Kind::kCommand)
      operation.on_command(error);
    else
      operation.receiver->on_stream_end(error);
    if (watch.expired()) return;
  }
}

void MySqlClient::close() {
  if (state_ == State::kClosed) return;
  const bool idle = state_ == State::kIdle && channel_;
  if (idle) {
    std::uint8_t sequence_id = 0;
    const std::uint8_t quit = command::kQuit;
    (void)channel_->send_packet(ByteView(&quit, 1), sequence_id);
  }
  fail(make_error("the connection was closed by this client"), idle);
}

}  // namespace brelay::net
