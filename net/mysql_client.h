// The client half of the MySQL protocol, asynchronous on the shared loop: connect (name resolution,
// TCP, TLS per TlsMode, login with mysql_native_password or caching_sha2_password including auth
// switch, full authentication over TLS and the RSA exchange), text queries with result sets, any
// command with an OK/ERR reply, and streams (a command followed by many packets, e.g. the binlog
// dump) with back-pressure and writes while streaming (semi-sync acks).
//
// Errors are values. An ERR from the server keeps its number as Error::code() (> 0) and its text
// in the message ("<message> (server error <code>, SQLSTATE <state>)"); last_server_error() has the
// whole packet. Local failures (network, TLS, protocol) have code 0 or a negative libuv code.
//
// Commands queue and run one at a time. Callbacks run on the loop thread, at most once each; the
// client may be destroyed at any time, also inside its own callbacks (no callback runs after
// that). Loop thread only.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "net/event_loop.h"
#include "net/lifetime_guard.h"
#include "net/mysql_handshake.h"
#include "net/mysql_packets.h"
#include "net/packet_channel.h"
#include "net/timer.h"
#include "net/tls_context.h"

namespace brelay::net {

class ClientAuthExchange;

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3306;
  std::string user;
  std::string password;
  std::string database;  // empty: none
  TlsMode tls_mode = TlsMode::kPreferred;
  std::string tls_ca_file;  // CA bundle for verify_ca / verify_identity (empty: the system's)
  // The name checked against the certificate in verify_identity (empty: `host`).
  std::string tls_server_name;
  // caching_sha2_password without TLS: the server's RSA public key (PEM); otherwise it is requested
  // from the server when allow_public_key_request is set.
  std::optional<std::string> server_public_key_pem;
  bool allow_public_key_request = true;
  std::chrono::milliseconds connect_timeout{10'000};  // name resolution, TCP, TLS and login together
  ConnectAttributes connect_attributes = {{"_client_name", "binlog-relay"}, {"program_name", "binlog-relay"}};
  std::size_t max_packet = 1024 * 1024 * 1024;
  std::uint8_t charset = 45;  // utf8mb4_general_ci
  // Ask for CLIENT_DEPRECATE_EOF (result sets end with OK instead of EOF) when the server offers it.
  bool deprecate_eof = true;
  // A query whose result set holds more bytes (column definitions and rows as received) fails with
  // an error once it has been read to its end; 0 = no bound.
  std::size_t max_result_bytes = 0;
  // Bounds on what a query's result set holds in memory: rows, and bytes counted as held (each
  // value's allocation plus the per-row and per-value bookkeeping, see held_bytes()), so that many
  // tiny rows cannot cost far more than their wire bytes. Past either, the rest is read and
  // dropped and the query fails with an error; 0 = no bound.
  std::size_t max_result_rows = 0;
  std::size_t max_result_memory = 0;
};

// A reply to a query: an OK (no rows) or a result set.
struct QueryResult {
  bool has_rows = false;  // a result set (possibly empty) rather than an OK
  OkPacket ok;
  ResultSet result_set;
};

// The memory a decoded text row holds: the row's vector, one std::optional<std::string> per value,
// the heap blocks of values too long for the string's inline buffer, and the allocator's overhead.
std::size_t held_bytes(const TextRow& row);

// An ERR packet as an Error value.
Error server_error(const ErrPacket& err);

class MySqlClient final : private PacketChannel::Listener {
 public:
  using ConnectCallback = std::function<void(Status)>;
  using QueryCallback = std::function<void(Result<QueryResult>)>;
  using CommandCallback = std::function<void(Result<OkPacket>)>;

  // Receives a stream started with start_stream().
  class StreamReceiver {
   public:
    virtual ~StreamReceiver() = default;
    // One packet (joined when it spanned several), e.g. 0x00 + [0xEF flag] + event. Valid only
    // during the call.
    virtual void on_stream_packet(ByteView payload) = 0;
    // The stream ended: ok for an EOF packet, an Error with the server's code for ERR, or a
    // connection failure. The client is idle again after an EOF or ERR.
    virtual void on_stream_end(const Status& status) = 0;
  };

  MySqlClient(EventLoop& loop, ClientOptions options);
  ~MySqlClient() override;
  MySqlClient(const MySqlClient&) = delete;
  MySqlClient& operator=(const MySqlClient&) = delete;

  // Connects and logs in; `done` runs once.
  void connect(ConnectCallback done);
  bool connected() const {
    return state_ != State::kDisconnected && state_ != State::kConnecting && state_ != State::kClosed;
  }

  // After connect: the server's greeting (version, connection id, capabilities), the negotiated
  // capabilities, TLS, and the plugin the login finished with.
  const HandshakeV10& greeting() const { return greeting_; }
  std::uint32_t capabilities() const { return capabilities_; }
  bool tls() const { return channel_ && channel_->tls_established(); }
  std::string tls_version() const { return channel_ ? channel_->tls_version() : std::string(); }
  const std::string& auth_plugin() const { return auth_plugin_; }
  const std::optional<ErrPacket>& last_server_error() const { return last_server_error_; }

  // COM_QUERY; the reply is an OK or a text result set (the first one when there are several).
  void query(std::string sql, QueryCallback done);
  // Any command whose reply is OK or ERR (COM_REGISTER_SLAVE, COM_PING, COM_INIT_DB, ...).
  // `payload` starts with the command byte.
  void command(Bytes payload, CommandCallback done);

  // Sends `payload` as a command and hands every following packet to `receiver` (not owned; it
  // must outlive the stream) until an EOF or ERR packet or a failure.
  void start_stream(Bytes payload, StreamReceiver* receiver);
  // Back-pressure for a stream: stop reading from the socket (packets already received are held
  // back too), and read again.
  void pause_stream();
  void resume_stream();
  // Writes one packet with the given sequence id (e.g. a semi-sync acknowledgement, sequence 0).
  Status send_packet(ByteView payload, std::uint8_t sequence_id);
  std::size_t pending_bytes() const { return channel_ ? channel_->pending_bytes() : 0; }

  // Sends COM_QUIT when idle and closes. Callbacks of queued commands run with an error. Idempotent.
  void close();

 private:
  enum class State {
    kDisconnected,
    kConnecting,  // resolving, TCP, greeting, TLS, login
    kIdle,
    kAwaitReply,  // a query or command is running
    kStreaming,
    kClosed,
  };
  enum class LoginStep { kGreeting, kTlsHandshake, kAuthenticating };
  enum class ReplyStep { kFirst, kColumns, kColumnsEof, kRows };

  struct Operation {
    enum class Kind { kQuery, kCommand, kStream } kind;
    Bytes payload;
    QueryCallback on_query;
    CommandCallback on_command;
    StreamReceiver* receiver = nullptr;
  };

  struct Resolver;

  // PacketChannel::Listener
  void on_packets_available() override;
  void on_tls_established() override;
  void on_channel_failed(const Status& why) override;
  void on_drained() override;
  void on_closed() override;

  void resolved(Result<sockaddr_storage> address);
  void tcp_connected(const Status& status);
  void process_packets();
  // Each returns false when the client was destroyed or closed inside a callback.
  bool handle_packet(const Packet& packet);
  bool handle_greeting(const Packet& packet);
  bool handle_auth_packet(const Packet& packet);
  bool send_handshake_response();
  bool handle_reply_packet(const Packet& packet);
  // The steps of a reply (handle_reply_packet): its first packet (OK, LOCAL INFILE or a column
  // count), then, after the columns, each row or the end of the result set.
  bool handle_first_reply_packet(const Packet& packet);
  bool handle_row_packet(ByteView payload, bool deprecate_eof);
  bool handle_stream_packet(const Packet& packet);
  void start_next_operation();
  bool finish_operation(Result<QueryResult> result);
  bool protocol_failure(const Error& error);
  // Ends the connection: every pending callback hears `error`.
  void fail(const Error& error, bool flush_first = false);
  bool finish_connect(const Status& status);
  Status send(ByteView payload);

  EventLoop& loop_;
  ClientOptions options_;
  State state_ = State::kDisconnected;
  LoginStep login_step_ = LoginStep::kGreeting;
  ConnectCallback on_connect_;
  Resolver* resolver_ = nullptr;  // owned by the resolution request until it completes
  std::unique_ptr<PacketChannel> channel_;
  Timer connect_timer_;
  Timer resume_timer_;
  HandshakeV10 greeting_;
  std::uint32_t capabilities_ = 0;
  std::uint8_t sequence_id_ = 0;
  std::unique_ptr<ClientAuthExchange> auth_;
  std::string auth_plugin_;
  std::optional<ErrPacket> last_server_error_;
  std::deque<Operation> operations_;  // front() is running when state_ is kAwaitReply / kStreaming
  ReplyStep reply_step_ = ReplyStep::kFirst;
  std::uint64_t column_count_ = 0;
  std::uint64_t columns_seen_ = 0;
  QueryResult reply_;
  bool first_result_done_ = false;
  std::size_t result_bytes_ = 0;  // of the running query's result set, against max_result_bytes
  std::size_t result_rows_ = 0;   // against max_result_rows
  std::size_t result_held_ = 0;   // held_bytes() of its rows, against max_result_memory
  bool result_dropped_ = false;   // past a bound: the rest is read and dropped
  bool stream_paused_ = false;
  bool processing_ = false;
  LifetimeGuard lifetime_;
};

}  // namespace brelay::net
