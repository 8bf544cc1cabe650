// One client connection to the MySqlServer: the greeting, the optional switch to TLS, the login
// (ServerAuthExchange), then the command phase, where net/ answers COM_PING, COM_QUIT and
// COM_INIT_DB itself and hands everything else to the relay's SessionHandler. For a binlog dump the
// handler turns the reply into a stream: many packets per call from a PacketBatch, with
// back-pressure, while the session keeps reading what the client sends (semi-sync acks, COM_QUIT).
//
// Owned by MySqlServer, which destroys it right after the handler heard on_closed(). Everything
// runs on the loop thread; a ServerSession& handed to the handler stays valid until on_closed().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "net/accounts.h"
#include "net/auth_caching_sha2.h"
#include "net/lifetime_guard.h"
#include "net/login_refusal.h"
#include "net/mysql_handshake.h"
#include "net/mysql_packets.h"
#include "net/packet_batch.h"
#include "net/packet_channel.h"
#include "net/rsa_key_source.h"
#include "net/server_auth.h"
#include "net/session_handler.h"
#include "net/timer.h"
#include "net/tls_context.h"

namespace brelay::net {

class MySqlServer;

// What a session takes from the server's settings when it starts; later changes to the server
// apply to new sessions only.
struct SessionSettings {
  std::string server_version;
  std::shared_ptr<const TlsContext> tls;
  bool require_tls = false;
  std::shared_ptr<const AccountStore> accounts;
  std::shared_ptr<const RsaKeyPair> rsa_keys;
  std::shared_ptr<RsaKeySource> rsa_key_source;  // when rsa_keys is null (may be pending)
  std::string greeting_auth_plugin;
  std::chrono::milliseconds handshake_timeout{0};
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::milliseconds write_timeout{0};  // 0 = never
  std::size_t max_packet_before_auth = 0;
  std::size_t max_packet = 0;
  std::uint8_t charset = 0;
};

class ServerSession final : private PacketChannel::Listener {
 public:
  // Between commands, while more than this many reply bytes wait for the client to read them, the
  // session reads no further command (and resumes once they are out): a client that never reads
  // cannot make the relay buffer one reply after the other.
  static constexpr std::size_t kMaxPendingReplyBytes = 4 * 1024 * 1024;

  // Called by MySqlServer; starts with the greeting.
  ServerSession(MySqlServer& server, uv_loop_t* loop, std::uint32_t connection_id,
                std::unique_ptr<TcpConnection> connection, SessionSettings settings,
                const SessionHandlerFactory* handler_factory);
  ~ServerSession() override;
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  void start();

  // Session information.
  std::uint32_t connection_id() const { return connection_id_; }
  const std::string& user() const { return user_; }
  const std::string& role() const { return role_; }  // the account's role; empty before the login
  const ConnectAttributes& connect_attributes() const { return connect_attributes_; }
  const std::string& database() const { return database_; }
  const std::string& auth_plugin() const { return auth_plugin_; }
  AuthMethod auth_method() const { return auth_method_; }
  const std::string& peer_address() const { return channel_.peer_address(); }
  // The version string this session's greeting carried (the server's when the session started).
  const std::string& greeted_version() const { return settings_.server_version; }
  const std::string& peer_host() const { return channel_.peer_host(); }
  bool tls() const { return channel_.tls_established(); }
  std::string tls_version() const { return channel_.tls_version(); }
  std::string tls_cipher() const { return channel_.tls_cipher(); }
  bool deprecate_eof() const;
  bool authenticated() const { return state_ == State::kCommand; }
  bool closing() const { return state_ == State::kClosing; }
  SessionHandler* handler() { return handler_.get(); }

  // Answers to the current command (exactly one per command). Errors mean the connection broke;
  // the session is closing then (every send below closes it on an error) and the handler will hear
  // on_closed().
  Status send_ok(const OkPacket& ok = OkPacket());
  Status send_error(std::uint16_t code, std::string_view sql_state, std::string_view message);
  Status send_error(const ErrPacket& err);
  Status send_result_set(const ResultSet& result);
  // Any reply made of several packets (a prepared statement's OK and definitions, a binary
  // result set).
  Status send_reply(std::span<const Bytes> payloads);
  // A reply too long to build at once (SHOW BINLOG EVENTS of a large file) goes out in parts: each
  // but the last with send_reply_part(), the last with send_reply(). Meanwhile nothing is read (no
  // pipelining) and SessionHandler::on_drained() fires as during a stream.
  Status send_reply_part(std::span<const Bytes> payloads);
  // The current command takes no reply (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA): read the next.
  void finish_without_reply();

  // Streams: the current command is answered by a stream of packets. While it runs, every packet
  // the client sends goes to SessionHandler::on_stream_packet() and the session is never idle.
  void start_stream();
  bool streaming() const { return streaming_; }
  // A cleared batch owned by the session, for send_batch().
  PacketBatch& batch();
  // Sends the batch's packets with the stream's next sequence ids.
  Status send_batch(PacketBatch& batch);
  // One packet of the stream (a heartbeat, the final EOF or ERR).
  Status send_stream_packet(ByteView payload);
  // Back to the command phase (after the final EOF/ERR of a non-blocking dump).
  void end_stream();

  // Back-pressure: bytes accepted but not yet taken by the kernel, and the mark at or below which
  // SessionHandler::on_drained() fires. Bytes the kernel does not take at once are copied into
  // the session, so a handler that stops sending while pending_bytes() > 0 (low-water mark 0)
  // copies least; one that allows more pending trades memory and copies for fewer wake-ups.
  std::size_t pending_bytes() const { return channel_.pending_bytes(); }
  void set_low_water_mark(std::size_t bytes) { channel_.set_low_water_mark(bytes); }
  // How much the kernel may queue beyond what the peer's window takes (TcpConnection::
  // limit_unsent_bytes()); for streams whose reader is slower than this side.
  Status limit_unsent_bytes(std::size_t bytes) { return channel_.limit_unsent_bytes(bytes); }

  // Ends the session. Without `error` the socket closes at once (unsent bytes are dropped: a kill).
  // With one, the ERR is sent first and the socket closes once it is out and the client has closed
  // too (at most a few seconds later), so that the client reads it. The handler hears
  // on_closed(reason) either way. Idempotent.
  void close(const Status& reason, std::optional<ErrPacket> error = std::nullopt);

 private:
  friend class MySqlServer;
  // kRejecting: a failed login whose ERR waits out the server's delay (nothing is read meanwhile).
  enum class State { kAwaitResponse, kTlsHandshake, kAuthenticating, kRejecting, kCommand, kClosing };

  // PacketChannel::Listener
  void on_packets_available() override;
  void on_tls_established() override;
  void on_channel_failed(const Status& why) override;
  void on_drained() override;
  void on_closed() override;

  void process_packets();
  void handle_packet(const Packet& packet);
  void handle_first_packet(const Packet& packet);
  void handle_handshake_response(ByteView payload);
  void handle_auth_step(AuthStep step);
  // The client's packet needs the RSA key, which is still being generated: keeps the packet, reads
  // nothing more and goes on when the key is there (the loop is not blocked). False: go on now.
  bool wait_for_rsa_key(ByteView payload);
  void handle_command(ByteView payload);
  void finish_login();
  void reply_sent();
  void restart_idle_timer();
  // After a send: ends the session when it failed; else, while bytes wait for the client, checks
  // that it takes some at least every settings_.write_timeout, else ends the session.
  void after_send(const Status& sent);
  void watch_writes();
  void schedule_write_check();
  void check_writes();
  Status send(ByteView payload);
  Status send_all(std::span<const Bytes> payloads);
  void fail(const Error& error, std::optional<ErrPacket> reply);
  // A login that failed for `reason`: reported to the server, answered after its delay when
  // `delayed` (password checks), else at once.
  void fail_login(LoginRefusal reason, const Error& error, std::optional<ErrPacket> reply,
                  bool delayed = false);
  // The account to check the password against, or none when it may not log in from here.
  std::optional<Account> account_for_login();
  void schedule_processing();

  MySqlServer& server_;
  std::uint32_t connection_id_;
  SessionSettings settings_;
  const SessionHandlerFactory* handler_factory_;  // not owned; the server's
  PacketChannel channel_;
  Timer timer_;        // handshake, idle, and closing linger
  Timer next_packet_;  // processes packets left buffered after an answer given outside a callback
  Timer write_watch_;  // net_write_timeout
  std::uint64_t watched_sent_bytes_ = 0;              // sent_bytes() at the last look
  std::chrono::steady_clock::time_point last_taken_;  // when the client last took bytes
  State state_ = State::kAwaitResponse;
  std::uint8_t sequence_id_ = 0;  // of the next packet this side sends
  Bytes nonce_;
  std::uint32_t server_capabilities_ = 0;
  std::uint32_t client_capabilities_ = 0;
  std::string user_;
  std::string role_;
  std::string database_;
  std::string auth_plugin_;
  AuthMethod auth_method_ = AuthMethod::kNone;
  ConnectAttributes connect_attributes_;
  std::unique_ptr<ServerAuthExchange> auth_;
  std::optional<Account> account_;              // the account logging in (for the server's limits)
  std::optional<LoginRefusal> hidden_refusal_;  // why an existing account is treated as unknown
  std::uint64_t accept_sequence_ = 0;           // set by the server: older handshakes are smaller
  bool counted_ = false;                        // the server counts it as logged in
  std::unique_ptr<SessionHandler> handler_;
  bool awaiting_reply_ = false;
  bool output_blocked_ = false;  // reading stopped until the pending replies drain
  bool streaming_ = false;
  bool reply_in_parts_ = false;  // send_reply_part() began the current reply
  bool processing_ = false;
  bool waiting_for_rsa_key_ = false;
  Bytes parked_auth_data_;  // the client's packet that waits for the RSA key
  Status close_reason_;
  PacketBatch batch_;
  LifetimeGuard lifetime_;
};

}  // namespace brelay::net
