// A whole server session fed the input over a real loopback connection: the greeting goes out,
// the input comes in as the client's bytes, then the client side closes. The account "fuzz" has
// an empty password, so an input with a plausible HandshakeResponse logs in and its later packets
// reach the command phase (queries, replication commands, streams). The session must answer or
// close, never crash, and go away when the client does.
#include <cstddef>
#include <cstdint>

#include "net/event_loop.h"
#include "net/mysql_server.h"
#include "net/socket_address.h"
#include "net/tcp_connection.h"

namespace {

using namespace brelay;
using namespace brelay::net;

class FuzzHandler : public SessionHandler {
 public:
  void on_query(ServerSession& session, std::string_view sql) override {
    if (sql.size() % 3 == 0) {
      (void)session.send_error(1064, "42000", "no");
      return;
    }
    ResultSet result;
    result.columns.push_back(ColumnDefinition::text("q"));
    result.rows.push_back({std::string(sql.substr(0, 64)), std::nullopt});
    result.rows.back().resize(1);
    (void)session.send_result_set(result);
  }
  void on_command(ServerSession& session, std::uint8_t command, ByteView payload) override {
    if (command == 0x12) {  // a stream of a few packets, then EOF
      session.start_stream();
      PacketBatch& batch = session.batch();
      const std::uint8_t ok = 0;
      for (int i = 0; i < 3; ++i)
        batch.add(ByteView(&ok, 1), payload);
      (void)session.send_batch(batch);
      (void)session.send_stream_packet(encode_eof(EofPacket()));
      session.end_stream();
      return;
    }
    SessionHandler::on_command(session, command, payload);
  }
};

struct Fixture {
  EventLoop loop;
  std::unique_ptr<MySqlServer> server;
  sockaddr_storage address{};

  Fixture() {
    auto accounts = std::make_shared<StaticAccountStore>();
    accounts->add("fuzz", Account::from_password("", "admin"));
    ServerSettings settings;
    settings.accounts = accounts;
    settings.handshake_timeout = std::chrono::milliseconds(2000);
    server = std::make_unique<MySqlServer>(loop, settings,
                                           [](ServerSession&) { return std::make_unique<FuzzHandler>(); });
    if (!server->listen("127.0.0.1:0")) __builtin_trap();
    address = *numeric_address("127.0.0.1", server->port());
  }
};

struct Client : TcpConnection::Observer {
  bool closed = false;
  void on_read(ByteView) override {}
  void on_read_end(const Status&) override {}
  void on_drained() override {}
  void on_write_error(const Error&) override {}
  void on_closed() override { closed = true; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture* fixture = new Fixture;  // lives for the whole run
  Client observer;
  bool connected = false;
  bool failed = false;
  auto connection = TcpConnection::connect(
      fixture->loop.raw(), reinterpret_cast<const sockaddr*>(&fixture->address), [&](Status status) {
        connected = status.ok();
        failed = !status.ok();
      });
  if (!connection) return 0;
  (*connection)->set_observer(&observer);
  while (!connected && !failed)
    uv_run(fixture->loop.raw(), UV_RUN_ONCE);
  if (failed) return 0;
  (void)(*connection)->start_reading();
  (void)(*connection)->write(ByteView(data, size));
  (*connection)->close_after_flush();
  while (!observer.closed || fixture->server->session_count() > 0)
    uv_run(fixture->loop.raw(), UV_RUN_ONCE);
  return 0;
}
