// The binlog-dump path through net/: a handler streams many packets per call from a PacketBatch
// (semi-sync prefixes, an event over 16 MiB split into several packets), stops while too much is
// pending and resumes on on_drained(); net/'s client reads the stream with pauses, sends semi-sync
// acknowledgements while it streams, and ends it with EOF or COM_QUIT. Plain and over TLS.
#include <gtest/gtest.h>

#include <thread>

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "net/blocking_client.h"
#include "net/mysql_constants.h"
#include "net/mysql_server.h"
#include "net/replication_commands.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/threaded_mysql_server.h"
#include "tests/support/wait_until.h"

namespace brelay::net {
namespace {

using testing::ThreadedMySqlServer;

constexpr std::size_t kMaxPending = 1024 * 1024;
constexpr std::size_t kLowWater = 256 * 1024;
constexpr std::size_t kBatchPayload = 256 * 1024;

// Event i: 4-byte index, then bytes derived from the index.
Bytes make_event(std::uint32_t index, std::size_t size) {
  Bytes event(std::max<std::size_t>(size, 4));
  for (std::size_t j = 0; j < event.size(); ++j)
    event[j] = static_cast<std::uint8_t>(index * 7 + j * 13);
  event[0] = static_cast<std::uint8_t>(index);
  event[1] = static_cast<std::uint8_t>(index >> 8);
  event[2] = static_cast<std::uint8_t>(index >> 16);
  event[3] = static_cast<std::uint8_t>(index >> 24);
  return event;
}

// What the streaming handlers saw, read by the test thread.
struct StreamLog {
  std::mutex mutex;
  std::size_t max_pending = 0;
  int drains = 0;
  std::vector<std::uint64_t> acknowledged;
  std::vector<std::string> closed;
  bool finished = false;
};

// Streams the events for COM_BINLOG_DUMP: position = first event index; server_id 1 = semi-sync
// (0x00 0xEF flag, an acknowledgement asked for on every 100th event); NON_BLOCK ends with EOF.
class StreamingHandler : public SessionHandler {
 public:
  StreamingHandler(std::shared_ptr<const std::vector<Bytes>> events, std::shared_ptr<StreamLog> log)
      : events_(std::move(events)), log_(std::move(log)) {}

  void on_query(ServerSession& session, std::string_view) override { (void)session.send_ok(); }

  void on_command(ServerSession& session, std::uint8_t command, ByteView payload) override {
    if (command != command::kBinlogDump) {
      SessionHandler::on_command(session, command, payload);
      return;
    }
    auto dump = decode_binlog_dump(payload);
    if (!dump) {
      (void)session.send_error(1236, "HY000", dump.error().message());
      return;
    }
    dump_ = *dump;
    next_ = dump->position;
    session.start_stream();
    session.set_low_water_mark(kLowWater);
    pump(session);
  }

  void on_drained(ServerSession& session) override {
    if (done_) return;
    {
      std::lock_guard lock(log_->mutex);
      ++log_->drains;
    }
    pump(session);
  }

  void on_stream_packet(ServerSession&, ByteView payload) override {
    auto ack = decode_semi_sync_ack(payload);
    std::lock_guard lock(log_->mutex);
    if (ack) log_->acknowledged.push_back(ack->position);
  }

  void on_closed(ServerSession&, const Status& reason) override {
    std::lock_guard lock(log_->mutex);
    log_->closed.push_back(reason ? "ok" : reason.error().message());
  }

 private:
  void pump(ServerSession& session) {
    const bool semi_sync = dump_.server_id == 1;
    while (next_ < events_->size()) {
      if (session.pending_bytes() > kMaxPending) return;  // on_drained() continues
      PacketBatch& batch = session.batch();
      while (next_ < events_->size() && batch.payload_bytes() < kBatchPayload) {
        const std::uint8_t flag = next_ % 100 == 99 ? kSemiSyncAckRequested : 0;
        const std::uint8_t prefix[3] = {0x00, kSemiSyncIndicator, flag};
        batch.add(ByteView(prefix, semi_sync ? 3 : 1), (*events_)[next_]);
        ++next_;
      }
      if (!session.send_batch(batch)) return;
      std::lock_guard lock(log_->mutex);
      log_->max_pending = std::max(log_->max_pending, session.pending_bytes());
    }
    {
      std::lock_guard lock(log_->mutex);
      log_->finished = true;
    }
    done_ = true;
    if (dump_.flags & dump_flag::kNonBlock) {
      (void)session.send_stream_packet(encode_eof(EofPacket()));
      session.end_stream();
    }
  }

  std::shared_ptr<const std::vector<Bytes>> events_;
  std::shared_ptr<StreamLog> log_;
  BinlogDump dump_;
  std::size_t next_ = 0;
  bool done_ = false;
};

// Collects the stream; pauses it every `pause_every` packets and resumes it 20 ms later from a
// timer on the client's loop (as an application waiting for its storage would).
class PausingReceiver : public MySqlClient::StreamReceiver {
 public:
  PausingReceiver(BlockingClient& client, std::size_t pause_every)
      : client_(client), pause_every_(pause_every) {
    uv_timer_init(client.loop().raw(), &resume_timer_);
    resume_timer_.data = this;
  }
  ~PausingReceiver() override {
    uv_close(reinterpret_cast<uv_handle_t*>(&resume_timer_), nullptr);
    uv_run(client_.loop().raw(), UV_RUN_NOWAIT);
  }

  void on_stream_packet(ByteView payload) override {
    EXPECT_FALSE(paused) << "a packet arrived while the stream was paused";
    packets.emplace_back(payload.begin(), payload.end());
    if (packets.size() % pause_every_ == 0) {
      client_.async().pause_stream();
      paused = true;
      ++pauses;
      uv_timer_start(
          &resume_timer_,
          [](uv_timer_t* timer) {
            auto* self = static_cast<PausingReceiver*>(timer->data);
            self->paused = false;
            self->client_.async().resume_stream();
          },
          20, 0);
    }
  }
  void on_stream_end(const Status& status) override {
    end = status;
    done = true;
  }

  BlockingClient& client_;
  std::size_t pause_every_;
  uv_timer_t resume_timer_;
  std::vector<Bytes> packets;
  Status end;
  bool done = false;
  bool paused = false;
  int pauses = 0;
};

class StreamTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    auto tls = testing::TlsTestDir::create("net-stream");
    ASSERT_TRUE(tls) << tls.error().message();
    tls_ = std::move(*tls);
  }
  static void TearDownTestSuite() { tls_.reset(); }

  void start(std::vector<std::size_t> sizes) {
    auto events = std::make_shared<std::vector<Bytes>>();
    for (std::size_t i = 0; i < sizes.size(); ++i)
      events->push_back(make_event(static_cast<std::uint32_t>(i), sizes[i]));
    events_ = events;
    log_ = std::make_shared<StreamLog>();
    auto store = std::make_shared<StaticAccountStore>();
    store->add("repl", Account::from_password("secret", "replica"));
    ServerSettings settings;
    settings.accounts = store;
    auto tls = TlsContext::server(tls_->certs().server_cert, tls_->certs().server_key);
    ASSERT_TRUE(tls) << tls.error().message();
    settings.tls = *tls;
    auto server = ThreadedMySqlServer::start(settings, [events = events_, log = log_](ServerSession&) {
      return std::make_unique<StreamingHandler>(events, log);
    });
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
  }

  std::unique_ptr<BlockingClient> login() {
    ClientOptions o;
    o.port = server_->port();
    o.user = "repl";
    o.password = "secret";
    o.tls_mode = GetParam() ? TlsMode::kVerifyCa : TlsMode::kDisabled;
    o.tls_ca_file = tls_->certs().ca_cert;
    auto client = BlockingClient::connect(o);
    EXPECT_TRUE(client) << client.error().message();
    return client ? std::move(*client) : nullptr;
  }

  // Runs the client's loop until the stream ends (or `each_turn` says it is over).
  static void read_stream(BlockingClient& client, PausingReceiver& receiver,
                          std::function<void()> each_turn = {}) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!receiver.done && std::chrono::steady_clock::now() < deadline) {
      uv_run(client.loop().raw(), UV_RUN_ONCE);
      if (each_turn) each_turn();
    }
    ASSERT_TRUE(receiver.done) << "the stream did not end: " << receiver.packets.size() << " packets";
  }

  static inline std::unique_ptr<testing::TlsTestDir> tls_;
  std::shared_ptr<const std::vector<Bytes>> events_;
  std::shared_ptr<StreamLog> log_;
  std::unique_ptr<ThreadedMySqlServer> server_;
};

TEST_P(StreamTest, BatchedStreamWithBackPressureArrivesExactly) {
  // 20000 small events, a few large ones, one over 16 MiB, and one of exactly 16 MiB - 2 bytes
  // whose payload (with the 0x00 prefix) fills a chunk exactly, so an empty chunk must follow.
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 20000; ++i)
    sizes.push_back(20 + (i * 37) % 900);
  sizes[500] = 3 * 1024 * 1024;
  sizes[10000] = 17 * 1024 * 1024 + 5;
  sizes[15000] = kMaxPacketChunk - 1;
  sizes[15001] = 2000;
  start(sizes);
  auto client = login();
  ASSERT_TRUE(client);
  PausingReceiver receiver(*client, 3000);
  client->async().start_stream(
      encode_binlog_dump(
          {.position = 0, .flags = dump_flag::kNonBlock, .server_id = 7, .file_name = "binlog.000001"}),
      &receiver);
  read_stream(*client, receiver);
  ASSERT_TRUE(receiver.end) << receiver.end.error().message();
  ASSERT_EQ(receiver.packets.size(), events_->size());
  for (std::size_t i = 0; i < events_->size(); ++i) {
    const Bytes& packet = receiver.packets[i];
    ASSERT_EQ(packet.size(), (*events_)[i].size() + 1) << "event " << i;
    ASSERT_EQ(packet[0], 0x00);
    ASSERT_TRUE(std::equal(packet.begin() + 1, packet.end(), (*events_)[i].begin())) << "event " << i;
  }
  EXPECT_GE(receiver.pauses, 6);
  std::lock_guard lock(log_->mutex);
  EXPECT_TRUE(log_->finished);
  EXPECT_GE(log_->drains, 1) << "the client's pauses must have made the handler wait for on_drained()";
  EXPECT_LE(log_->max_pending, kMaxPending + 18 * 1024 * 1024) << "pending bytes must stay bounded";
  // After the EOF the session is in the command phase again.
  auto ok = client->query("SET @after = 1");
  EXPECT_TRUE(ok) << ok.error().message();
}

TEST_P(StreamTest, SemiSyncAcknowledgementsFlowWhileStreamingAndQuitEndsIt) {
  std::vector<std::size_t> sizes(1000, 300);
  start(sizes);
  auto client = login();
  ASSERT_TRUE(client);
  PausingReceiver receiver(*client, 400);
  // Blocking dump (no NON_BLOCK): the stream stays open after the last event.
  client->async().start_stream(
      encode_binlog_dump({.position = 0, .flags = 0, .server_id = 1, .file_name = "binlog.000001"}),
      &receiver);
  std::size_t acknowledged = 0;
  read_stream(*client, receiver, [&] {
    while (acknowledged < receiver.packets.size()) {
      const Bytes& packet = receiver.packets[acknowledged++];
      ASSERT_GE(packet.size(), 3u);
      ASSERT_EQ(packet[1], kSemiSyncIndicator);
      if (packet[2] & kSemiSyncAckRequested) {
        ASSERT_TRUE(client->async().send_packet(encode_semi_sync_ack({acknowledged, "binlog.000001"}), 0));
      }
    }
    if (receiver.packets.size() == events_->size()) {
      // All there: leave with COM_QUIT in the middle of the (still open) stream.
      const std::uint8_t quit = command::kQuit;
      ASSERT_TRUE(client->async().send_packet(ByteView(&quit, 1), 0));
      receiver.done = true;
    }
  });
  // Drives the client's loop until the server side has heard the stream close (or 5 s pass).
  (void)testing::wait_until([&] {
    {
      std::lock_guard lock(log_->mutex);
      if (!log_->closed.empty()) return true;
    }
    uv_run(client->loop().raw(), UV_RUN_NOWAIT);
    return false;
  });
  client->async().close();  // ends the stream while the receiver is still there to hear it
  std::lock_guard lock(log_->mutex);
  EXPECT_EQ(log_->acknowledged,
            (std::vector<std::uint64_t>{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000}));
  ASSERT_EQ(log_->closed.size(), 1u);
  EXPECT_EQ(log_->closed[0], "ok");
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, StreamTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Tls" : "Plain";
                         });

}  // namespace
}  // namespace brelay::net
