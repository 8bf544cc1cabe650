// The live tail: a DownstreamServer (in this process, on its own loop thread) serves a store while
// the test appends to it as the upstream would. Replicas that caught up wait for the next commit
// and stream on; file changes go out as ROTATE, fake ROTATE and the next file's FDE, with no
// heartbeat between them; idle replicas get heartbeats; a non-blocking dump ends with EOF; a new
// dump of the same replica ends the old one; semi-sync replicas acknowledge; 16 readers at once
// (replicas and `mariadb-binlog --stop-never`) all receive everything, while a reader that stops
// reading neither delays them nor the writer and costs the relay a bounded amount of memory.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "net/replication_commands.h"
#include "relay/binlog/event_header.h"
#include "tests/support/mysql_replica_client.h"
#include "tests/support/process.h"
#include "tests/support/served_store.h"
#include "tests/support/synthetic_binlog.h"
#include "tests/support/temp_dir.h"
#include "tests/support/threaded_relay.h"

namespace brelay::testing {
namespace {

class LiveRelay : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("live");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    ThreadedRelayOptions options;
    options.data_dir = dir_->file("data");
    options.semi_sync = true;  // offers semi-sync to its replicas (SemiSyncReplicasAreAsked...)
    auto relay = ThreadedRelay::start(options);
    ASSERT_TRUE(relay) << relay.error().message();
    relay_ = std::move(*relay);
    auto binlog = SyntheticBinlog::create();
    ASSERT_TRUE(binlog) << binlog.error().message();
    binlog_.emplace(std::move(*binlog));
    storage::WriteBatch batch = relay_->writer().take_batch();
    binlog_->begin_file(batch);
    binlog_->transaction(batch, 200);
    commit(std::move(batch));
  }

  void commit(storage::WriteBatch batch) {
    Status committed = relay_->submit_and_wait(std::move(batch), binlog_->file(), binlog_->position());
    ASSERT_TRUE(committed) << committed.error().message();
  }
  // Appends `count` transactions of `bytes` each, rotating every `per_file` transactions.
  void append(int count, std::size_t bytes, int per_file = 0) {
    storage::WriteBatch batch = relay_->writer().take_batch();
    for (int i = 0; i < count; ++i) {
      binlog_->transaction(batch, bytes);
      if (per_file > 0 && (i + 1) % per_file == 0) binlog_->rotate(batch);
      if (batch.byte_size() > (4u << 20)) {
        commit(std::move(batch));
        batch = relay_->writer().take_batch();
      }
    }
    commit(std::move(batch));
  }

  MysqlReplicaOptions replica_options() const {
    MysqlReplicaOptions options;
    options.port = relay_->port();
    options.password = "replpw";
    options.timeout = std::chrono::seconds(30);
    return options;
  }

  // The replica has received everything stored so far.
  bool caught_up(const MysqlReplicaClient& replica) const {
    return reached(replica, binlog_->file(), binlog_->position());
  }
  static bool reached(const MysqlReplicaClient& replica, const std::string& file, std::uint64_t position) {
    return replica.file() == file && replica.position() >= position;
  }

  void expect_files_equal(const MysqlReplicaClient& replica) const {
    for (const auto& [name, bytes] : binlog_->files()) {
      SCOPED_TRACE(name);
      auto it = replica.files().find(name);
      ASSERT_NE(it, replica.files().end());
      EXPECT_TRUE(it->second.bytes == bytes)
          << it->second.bytes.size() << " bytes received of " << bytes.size();
    }
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ThreadedRelay> relay_;
  std::optional<SyntheticBinlog> binlog_;
};

TEST_F(LiveRelay, ACaughtUpReplicaStreamsOnAtEachCommitAcrossFiles) {
  auto replica = MysqlReplicaClient::connect(replica_options());
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_from(binlog_->file(), 4, net::dump_flag::kHeartbeatV2OrAnnotateRows));
  ASSERT_TRUE((*replica)->receive([&](const ReceivedEvent&) { return caught_up(**replica); }));
  for (int round = 0; round < 5; ++round) {
    append(10, 1000, round % 2 == 1 ? 5 : 0);
    Status received = (*replica)->receive([&](const ReceivedEvent&) { return caught_up(**replica); });
    ASSERT_TRUE(received) << "round " << round << ": " << received.error().message();
  }
  EXPECT_EQ(binlog_->files().size(), 5u);
  expect_files_equal(**replica);
  // Each file after the first opens with a fake ROTATE(next, 4) and the FDE, right after the ROTATE.
  const auto& events = (*replica)->events();
  int rotations = 0;
  for (std::size_t i = 0; i + 2 < events.size(); ++i) {
    if (events[i].type != binlog::type_code(binlog::EventType::kRotate) || events[i].artificial) continue;
    ++rotations;
    EXPECT_EQ(events[i + 1].type, binlog::type_code(binlog::EventType::kRotate));
    EXPECT_TRUE(events[i + 1].artificial);
    EXPECT_EQ(events[i + 2].type, binlog::type_code(binlog::EventType::kFormatDescription));
  }
  EXPECT_EQ(rotations, 4);
}

TEST_F(LiveRelay, IdleReplicasGetHeartbeatsButNoneBetweenARotateAndTheNextFile) {
  auto options = replica_options();
  options.mysql57 = true;  // heartbeat v1
  options.heartbeat_period = std::chrono::milliseconds(50);
  auto replica = MysqlReplicaClient::connect(options);
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_from(binlog_->file(), 4));
  Status received = (*replica)->receive([&](const ReceivedEvent&) { return (*replica)->heartbeats() >= 3; });
  ASSERT_TRUE(received) << received.error().message();
  for (const ReceivedEvent& event : (*replica)->events()) {
    if (event.artificial && event.type != binlog::type_code(binlog::EventType::kRotate) &&
        event.type != binlog::type_code(binlog::EventType::kFormatDescription)) {
      EXPECT_EQ(event.type, binlog::type_code(binlog::EventType::kHeartbeat));
    }
  }
  // The file ends (ROTATE stored) but the next one has not begun: the replica waits without
  // heartbeats, which would name a file it has left (MDEV-29981).
  storage::WriteBatch batch = relay_->writer().take_batch();
  binlog_->rotate(batch, /*begin_next=*/false);
  const std::string ended = binlog_->file();
  commit(std::move(batch));
  ASSERT_TRUE((*replica)->receive([&](const ReceivedEvent& event) {
    return event.type == binlog::type_code(binlog::EventType::kRotate) && !event.artificial;
  }));
  const std::size_t heartbeats = (*replica)->heartbeats();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  batch = relay_->writer().take_batch();
  binlog_->begin_file(batch);
  binlog_->transaction(batch, 100);
  commit(std::move(batch));
  ASSERT_TRUE((*replica)->receive([&](const ReceivedEvent&) { return caught_up(**replica); }));
  EXPECT_EQ((*replica)->heartbeats(), heartbeats)
      << "a heartbeat went out between the ROTATE and the next FDE";
  EXPECT_NE(binlog_->file(), ended);
  expect_files_equal(**replica);
  ASSERT_TRUE(
      (*replica)->receive([&](const ReceivedEvent&) { return (*replica)->heartbeats() > heartbeats; }));
}

TEST_F(LiveRelay, ANonBlockingDumpEndsWithEofAtTheDurableEnd) {
  append(20, 500, 7);
  auto output_dir = TempDir::create("live-nonblocking");
  ASSERT_TRUE(output_dir);
  std::vector<std::string> argv = mariadb_binlog_argv(relay_->port(), "repl", "replpw");
  argv.insert(argv.end(), {"--raw", "--to-last-log", "--result-file=" + output_dir->path() + "/",
                           binlog_->files().begin()->first});
  auto output = run_command(argv, {}, std::chrono::seconds(60));
  ASSERT_TRUE(output) << output.error().message();
  ASSERT_EQ(output->exit_status, 0) << output->err;
  for (const auto& [name, bytes] : binlog_->files()) {
    auto received = read_file(output_dir->file(name));
    ASSERT_TRUE(received) << received.error().message();
    EXPECT_TRUE(to_bytes(*received) == bytes) << name;
  }
}

TEST_F(LiveRelay, ANewDumpOfTheSameReplicaEndsTheOldOne) {
  auto first = MysqlReplicaClient::connect(replica_options());
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_TRUE((*first)->dump_from(binlog_->file(), 4));
  ASSERT_TRUE((*first)->receive([&](const ReceivedEvent&) { return caught_up(**first); }));
  auto second = MysqlReplicaClient::connect(replica_options());  // the same uuid
  ASSERT_TRUE(second) << second.error().message();
  ASSERT_TRUE((*second)->dump_from(binlog_->file(), 4));
  ASSERT_TRUE((*second)->receive([&](const ReceivedEvent&) { return caught_up(**second); }));
  Status ended = (*first)->receive_until_eof();
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code(), 1236);
  // The synthetic binlog is a MySQL 5.7 one: 5.7's wording.
  EXPECT_NE(ended.error().message().find("A slave with the same server_uuid/server_id as this slave has "
                                         "connected to the master"),
            std::string::npos)
      << ended.error().message();
  // The newer one is unaffected and streams on.
  append(3, 100);
  ASSERT_TRUE((*second)->receive([&](const ReceivedEvent&) { return caught_up(**second); }));
}

TEST_F(LiveRelay, SemiSyncReplicasAreAskedForAcknowledgementsAtTransactionEnds) {
  auto options = replica_options();
  options.semi_sync = true;
  auto replica = MysqlReplicaClient::connect(options);
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_from(binlog_->file(), 4));
  append(10, 300);
  ASSERT_TRUE((*replica)->receive([&](const ReceivedEvent&) { return caught_up(**replica); }));
  EXPECT_EQ((*replica)->acknowledgements_sent(), 11u) << "one per transaction";
  for (const ReceivedEvent& event : (*replica)->events()) {
    EXPECT_EQ(event.ack_requested, event.type == binlog::type_code(binlog::EventType::kXid));
  }
  expect_files_equal(**replica);
  // The relay records what was acknowledged.
  const std::string file = binlog_->file();
  const std::uint64_t end = binlog_->position();
  for (int i = 0; i < 100; ++i) {
    auto dumps = relay_->call([](auto& server) { return server.registry().dumps(); });
    if (dumps.size() == 1 && dumps[0].acknowledged_file == file && dumps[0].acknowledged_position == end)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (i == 99) ADD_FAILURE() << "the relay did not record the acknowledgement of " << file << ":" << end;
  }
}

// A reader that sends COM_BINLOG_DUMP and then never reads: its socket buffers fill up.
class StalledReader {
 public:
  static Result<std::unique_ptr<StalledReader>> start(std::uint16_t port, const std::string& file) {
    net::ClientOptions options;
    options.port = port;
    options.user = "repl";
    options.password = "replpw";
    auto client = net::BlockingClient::connect(options);
    if (!client) return std::move(client).error();
    BRELAY_TRY((*client)->query("SET @master_binlog_checksum = 'CRC32'"));
    std::unique_ptr<StalledReader> reader(new StalledReader);
    reader->client_ = std::move(*client);
    net::BinlogDump dump;
    dump.file_name = file;
    dump.server_id = 777;
    reader->client_->async().start_stream(net::encode_binlog_dump(dump), &reader->receiver_);
    // Read the first packets, then stop reading for good.
    reader->client_->async().pause_stream();
    uv_run(reader->client_->loop().raw(), UV_RUN_NOWAIT);
    return reader;
  }

 private:
  struct Receiver : net::MySqlClient::StreamReceiver {
    void on_stream_packet(ByteView) override {}
    void on_stream_end(const Status&) override {}
  };
  StalledReader() = default;
  Receiver receiver_;
  std::unique_ptr<net::BlockingClient> client_;
};

TEST_F(LiveRelay, SixteenReadersReceiveEverythingWhileAStalledReaderDelaysNobody) {
  constexpr int kReplicas = 8;
  constexpr int kBinlogReaders = 8;
  auto stalled = StalledReader::start(relay_->port(), binlog_->file());
  ASSERT_TRUE(stalled) << stalled.error().message();

  // 8 MySQL replicas, each on its own thread, with its own server id and uuid.
  std::atomic<int> replicas_done{0};
  // Where the replicas must get to: set by this thread once it has appended everything, before
  // appending_done (the replicas' threads read them only after they see the flag, never binlog_
  // itself, which this thread changes meanwhile).
  std::string end_file;
  std::uint64_t end_position = 0;
  std::atomic<bool> appending_done{false};
  auto reached_end = [&](const MysqlReplicaClient& replica) {
    return appending_done && reached(replica, end_file, end_position);
  };
  std::vector<std::string> failures(kReplicas);
  std::vector<std::unique_ptr<MysqlReplicaClient>> replicas(kReplicas);
  for (int i = 0; i < kReplicas; ++i) {
    auto options = replica_options();
    options.server_id = static_cast<std::uint32_t>(200 + i);
    options.uuid = fmt::format("a1b2c3d4-0000-4000-8000-{:012}", 200 + i);
    // A replica waiting at the end looks at the flag again on each heartbeat.
    options.heartbeat_period = std::chrono::milliseconds(100);
    auto replica = MysqlReplicaClient::connect(options);
    ASSERT_TRUE(replica) << replica.error().message();
    ASSERT_TRUE((*replica)->dump_from(binlog_->file(), 4));
    replicas[static_cast<std::size_t>(i)] = std::move(*replica);
  }
  // 8 mariadb-binlog --stop-never readers, each with its own --stop-never-slave-server-id.
  auto output_dir = TempDir::create("live-readers");
  ASSERT_TRUE(output_dir);
  std::vector<Process> readers;
  for (int i = 0; i < kBinlogReaders; ++i) {
    const std::string dir = output_dir->file(std::to_string(i));
    std::filesystem::create_directories(dir);
    ProcessOptions options;
    options.argv = mariadb_binlog_argv(relay_->port(), "repl", "replpw");
    options.argv.insert(options.argv.end(), {"--raw", "--to-last-log", "--stop-never",
                                             "--stop-never-slave-server-id=" + std::to_string(300 + i),
                                             "--result-file=" + dir + "/", binlog_->file()});
    options.stderr_path = dir + ".err";
    auto reader = Process::start(options);
    ASSERT_TRUE(reader) << reader.error().message();
    readers.push_back(std::move(*reader));
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&, i] {
      MysqlReplicaClient& replica = *replicas[static_cast<std::size_t>(i)];
      Status received = replica.receive([&](const ReceivedEvent&) { return reached_end(replica); });
      while (received && !reached_end(replica))
        received = replica.receive([&](const ReceivedEvent&) { return reached_end(replica); });
      if (!received) failures[static_cast<std::size_t>(i)] = received.error().message();
      ++replicas_done;
    });
  }
  // The writer goes on at full speed: 40 MiB in 4 KiB transactions over 8 files. A stalled reader
  // must not hold it back.
  const auto started = std::chrono::steady_clock::now();
  append(10'000, 4096, 1250);
  const auto append_time = std::chrono::steady_clock::now() - started;
  end_file = binlog_->file();
  end_position = binlog_->position();
  appending_done = true;
  for (auto& thread : threads)
    thread.join();
  for (int i = 0; i < kReplicas; ++i) {
    EXPECT_EQ(failures[static_cast<std::size_t>(i)], "") << "replica " << i;
    expect_files_equal(*replicas[static_cast<std::size_t>(i)]);
  }
  // The binlog readers reach the end of the last file.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int i = 0; i < kBinlogReaders; ++i) {
    const std::string dir = output_dir->file(std::to_string(i));
    const std::string last = dir + "/" + binlog_->file();
    while (std::chrono::steady_clock::now() < deadline &&
           (!std::filesystem::exists(last) || std::filesystem::file_size(last) < binlog_->position()))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (const auto& [name, bytes] : binlog_->files()) {
      auto received = read_file(dir + "/" + name);
      ASSERT_TRUE(received) << "reader " << i << ": " << received.error().message();
      EXPECT_TRUE(to_bytes(*received) == bytes) << "reader " << i << ", " << name;
    }
  }
  for (Process& reader : readers)
    reader.stop(std::chrono::seconds(5)).value_or(0);
  // The stalled reader holds at most about one batch of copied bytes in the relay.
  const std::size_t most_pending = relay_->call([](auto& server) {
    std::size_t most = 0;
    for (const auto& dump : server.registry().dumps())
      most = std::max<std::size_t>(most, dump.pending_bytes);
    return most;
  });
  EXPECT_LE(most_pending, 2 * relay::downstream::DumpSession::kReadBytes);
  // Writing 40 MiB with sync = none takes well under the time limit even with a stalled reader.
  EXPECT_LT(append_time, std::chrono::seconds(60));
}

}  // namespace
}  // namespace brelay::testing
