// net/'s MySqlClient against a "server" that sends the input and closes: greeting, auth packets
// and the reply to a query are all whatever the input says. The client must report success or an
// error through its callbacks, exactly once each, and never crash.
#include <cstddef>
#include <cstdint>

#include "net/event_loop.h"
#include "net/mysql_client.h"
#include "net/tcp_listener.h"

namespace {

using namespace brelay;
using namespace brelay::net;

struct Fixture {
  EventLoop loop;
  std::unique_ptr<TcpListener> listener;
  ByteView reply;  // what the next accepted connection gets
  std::vector<std::unique_ptr<TcpConnection>> accepted;

  Fixture() {
    auto listening = TcpListener::listen(loop.raw(), "127.0.0.1:0", [this](std::unique_ptr<TcpConnection> c) {
      (void)c->write(reply);
      c->close_after_flush();
      accepted.push_back(std::move(c));
    });
    if (!listening) __builtin_trap();
    listener = std::move(*listening);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture* fixture = new Fixture;  // lives for the whole run
  fixture->reply = ByteView(data, size);
  ClientOptions options;
  options.port = fixture->listener->port();
  options.user = "u";
  options.password = "p";
  options.tls_mode = TlsMode::kDisabled;
  options.connect_timeout = std::chrono::milliseconds(2000);
  options.max_packet = 1 << 20;
  int connect_calls = 0;
  int query_calls = 0;
  {
    MySqlClient client(fixture->loop, options);
    client.connect([&](Status) { ++connect_calls; });
    client.query("SELECT 1", [&](Result<QueryResult> result) {
      ++query_calls;
      if (result && result->has_rows) {
        for (const auto& row : result->result_set.rows)
          if (row.size() != result->result_set.columns.size()) __builtin_trap();
      }
    });
    while (connect_calls == 0 || query_calls == 0)
      uv_run(fixture->loop.raw(), UV_RUN_ONCE);
  }
  if (connect_calls != 1 || query_calls != 1) __builtin_trap();
  fixture->accepted.clear();
  uv_run(fixture->loop.raw(), UV_RUN_NOWAIT);
  return 0;
}
