// Serving a binlog history: the relay (the real `binlog-relay run`, its store imported from the
// source's files) against the MariaDB source serving the same files itself, measured in one run.
//
//   loopback TCP         one socket, 1 MiB writes: the physical limit of everything below
//   1 reader             net/'s client reading COM_BINLOG_DUMP (NON_BLOCK) to EOF and discarding it
//   mariadb-binlog --raw `--read-from-remote-server --raw --to-last-log`, writing the files to /tmp
//   replica IO thread    a MariaDB replica's START SLAVE IO_THREAD until Read_Master_Log_Pos is the end
//   16 readers           16 discarding readers at once (4 threads x 4 clients): aggregate GB/s
// For the discarding readers it also reports each server process's CPU time (utime + stime from
// /proc/PID/stat) per GB served, and the relay's anonymous resident memory (RssAnon, sampled every
// 10 ms; the LMDB map is file-backed and not counted) while the 16 readers run.
//
// Not run by CTest; run it by hand (it takes a few minutes and a few GB of /tmp):
//   build/tests/bench/downstream_serve_bench [history GiB (default 1)] [readers (default 16)]
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "net/blocking_client.h"
#include "net/event_loop.h"
#include "net/mysql_client.h"
#include "net/replication_commands.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/process.h"
#include "tests/support/relay_process.h"
#include "tests/support/served_store.h"
#include "tests/support/temp_dir.h"

namespace brelay {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// utime + stime of a process, in seconds.
double process_cpu_seconds(pid_t pid) {
  auto stat = testing::read_file(fmt::format("/proc/{}/stat", pid));
  if (!stat) return 0;
  // Fields after the ")" that ends the command name: state is field 3; utime 14, stime 15.
  std::istringstream fields(stat->substr(stat->rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int index = 3; index <= 15 && fields >> field; ++index)
    if (index == 14 || index == 15) ticks += std::stod(field);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long rss_anon_kib(pid_t pid) {
  auto status = testing::read_file(fmt::format("/proc/{}/status", pid));
  if (!status) return -1;
  const auto at = status->find("RssAnon:");
  return at == std::string::npos ? -1 : std::strtol(status->c_str() + at + 8, nullptr, 10);
}

// Loopback TCP: one connection, one thread writing 1 MiB buffers, one reading.
double loopback_gbps(std::uint64_t bytes) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return 0;
  std::thread writer([&] {
    const int out = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(out, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return;
    std::vector<char> buffer(1 << 20, 'x');
    std::uint64_t sent = 0;
    while (sent < bytes) {
      const ssize_t n = ::send(out, buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      sent += static_cast<std::uint64_t>(n);
    }
    ::close(out);
  });
  const int in = ::accept(listener, nullptr, nullptr);
  std::vector<char> buffer(1 << 20);
  std::uint64_t received = 0;
  const auto started = Clock::now();
  while (true) {
    const ssize_t n = ::recv(in, buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    received += static_cast<std::uint64_t>(n);
  }
  const double seconds = seconds_since(started);
  writer.join();
  ::close(in);
  ::close(listener);
  return received / seconds / 1e9;
}

struct Endpoint {
  std::string name;
  std::uint16_t port = 0;
  pid_t pid = -1;
};

// A reader that discards the stream.
class DiscardingReader : public net::MySqlClient::StreamReceiver {
 public:
  void on_stream_packet(ByteView payload) override { bytes += payload.size() - 1; }
  void on_stream_end(const Status& status) override {
    end = status;
    done = true;
  }
  std::uint64_t bytes = 0;
  Status end;
  bool done = false;
};

net::ClientOptions client_options(std::uint16_t port) {
  net::ClientOptions options;
  options.port = port;
  options.user = "bench";
  options.password = "bench";
  options.tls_mode = net::TlsMode::kDisabled;
  return options;
}

// `clients` discarding readers on one thread's loop, each dumping everything from `first_file`.
Result<std::uint64_t> read_all(std::uint16_t port, const std::string& first_file, int clients) {
  net::EventLoop loop;
  std::vector<std::unique_ptr<net::MySqlClient>> connections;
  std::vector<std::unique_ptr<DiscardingReader>> readers;
  int connected = 0;
  Status failure;
  for (int i = 0; i < clients; ++i) {
    auto& client = connections.emplace_back(std::make_unique<net::MySqlClient>(loop, client_options(port)));
    auto& reader = readers.emplace_back(std::make_unique<DiscardingReader>());
    client->connect([&, client = client.get(), reader = reader.get()](Status status) {
      if (!status) {
        failure = status;
        ++connected;
        reader->done = true;
        return;
      }
      client->query("SET @master_binlog_checksum = @@global.binlog_checksum", [](auto) {});
      client->query("SET @mariadb_slave_capability = 4", [](auto) {});
      net::BinlogDump dump;
      dump.position = 4;
      dump.flags = net::dump_flag::kNonBlock;
      dump.file_name = first_file;
      client->start_stream(net::encode_binlog_dump(dump), reader);
      ++connected;
    });
  }
  auto all_done = [&] {
    for (const auto& reader : readers)
      if (!reader->done) return false;
    return true;
  };
  while (!all_done())
    uv_run(loop.raw(), UV_RUN_ONCE);
  std::uint64_t bytes = 0;
  for (const auto& reader : readers) {
    if (!reader->end) return reader->end.error();
    bytes += reader->bytes;
  }
  if (!failure) return failure.error();
  connections.clear();
  uv_run(loop.raw(), UV_RUN_NOWAIT);
  return bytes;
}

struct Served {
  double seconds = 0;
  std::uint64_t bytes = 0;
  double cpu_seconds = 0;
  long peak_rss_anon_kib = -1;
  double gbps() const { return bytes / seconds / 1e9; }
  double cpu_per_gb() const { return cpu_seconds / (bytes / 1e9); }
};

// `threads` x `per_thread` discarding readers at once against `endpoint`.
Result<Served> serve_readers(const Endpoint& endpoint, const std::string& first_file, int threads,
                             int per_thread) {
  Served served;
  std::atomic<bool> running{true};
  std::atomic<long> peak{-1};
  std::thread sampler([&] {
    while (running) {
      peak = std::max(peak.load(), rss_anon_kib(endpoint.pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  const double cpu_before = process_cpu_seconds(endpoint.pid);
  const auto started = Clock::now();
  std::vector<std::thread> workers;
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      auto read = read_all(endpoint.port, first_file, per_thread);
      if (!read) {
        fmt::print(stderr, "{}: {}\n", endpoint.name, read.error().message());
        ++failures;
      } else {
        bytes += *read;
      }
    });
  }
  for (auto& worker : workers)
    worker.join();
  served.seconds = seconds_since(started);
  served.cpu_seconds = process_cpu_seconds(endpoint.pid) - cpu_before;
  running = false;
  sampler.join();
  served.peak_rss_anon_kib = peak;
  served.bytes = bytes;
  if (failures > 0) return make_error("{} reader thread(s) failed", failures.load());
  return served;
}

// Flushes the dirty pages earlier measurements left (the clients' files and relay logs) and lets the
// disk go quiet, so that no measurement pays for the writeback of the one before it.
void settle_disk() {
  ::sync();
  std::this_thread::sleep_for(std::chrono::seconds(1));
}

Result<Served> best_of(int runs, const std::function<Result<Served>()>& run) {
  Served best;
  for (int i = 0; i < runs; ++i) {
    BRELAY_ASSIGN_OR_RETURN(Served served, run());
    if (best.seconds == 0 || served.seconds < best.seconds) best = served;
  }
  return best;
}

// mariadb-binlog --raw --to-last-log of everything into a fresh directory.
Result<Served> mariadb_binlog_raw(const Endpoint& endpoint, const std::string& first_file,
                                  std::uint64_t bytes) {
  BRELAY_ASSIGN_OR_RETURN(testing::TempDir out, testing::TempDir::create("bench-raw"));
  std::vector<std::string> argv = testing::mariadb_binlog_argv(endpoint.port, "bench", "bench");
  argv.insert(argv.end(), {"--raw", "--to-last-log", "--result-file=" + out.path() + "/", first_file});
  const auto started = Clock::now();
  BRELAY_ASSIGN_OR_RETURN(auto output, testing::run_command(argv, {}, std::chrono::minutes(10)));
  if (output.exit_status != 0) return make_error("mariadb-binlog: {}", output.err);
  Served served;
  served.seconds = seconds_since(started);
  served.bytes = bytes;
  return served;
}

// A MariaDB replica's IO thread pulling everything from `endpoint` into its relay log, up to the
// end `endpoint` itself reports (the source may have opened a new file since the relay imported).
Result<Served> replica_io_thread(testing::MariaDbServer& replica, const Endpoint& endpoint,
                                 const std::string& first_file, std::uint64_t bytes) {
  BRELAY_ASSIGN_OR_RETURN(auto client, net::BlockingClient::connect(client_options(endpoint.port)));
  BRELAY_ASSIGN_OR_RETURN(net::ResultSet master, client->query_rows("SHOW MASTER STATUS"));
  client->close();
  if (master.rows.empty() || master.rows[0].size() < 2 || !master.rows[0][0] || !master.rows[0][1])
    return make_error("{}: SHOW MASTER STATUS returned no coordinates", endpoint.name);
  const std::string last_file = *master.rows[0][0];
  const std::string last_end = *master.rows[0][1];
  BRELAY_TRY(replica.execute("STOP SLAVE; RESET SLAVE ALL"));
  BRELAY_TRY(
      replica.execute(fmt::format("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, "
                                  "MASTER_USER='bench', MASTER_PASSWORD='bench', MASTER_LOG_FILE='{}', "
                                  "MASTER_LOG_POS=4, MASTER_USE_GTID=no",
                                  endpoint.port, first_file)));
  const auto started = Clock::now();
  BRELAY_TRY(replica.execute("START SLAVE IO_THREAD"));
  while (true) {
    auto status = testing::slave_status(replica);
    if (status["Last_IO_Errno"] != "0" && !status["Last_IO_Errno"].empty())
      return make_error("replica IO thread: {}", status["Last_IO_Error"]);
    if (status["Master_Log_File"] == last_file && status["Read_Master_Log_Pos"] == last_end) break;
    if (seconds_since(started) > 600) return make_error("the replica IO thread did not finish in 10 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Served served;
  served.seconds = seconds_since(started);
  served.bytes = bytes;
  BRELAY_TRY(replica.execute("STOP SLAVE; RESET SLAVE ALL"));
  return served;
}

int run(int argc, char** argv) {
  const double history_gib = argc > 1 ? std::atof(argv[1]) : 1.0;
  const int readers = argc > 2 ? std::atoi(argv[2]) : 16;
  const std::uint64_t history_bytes = static_cast<std::uint64_t>(history_gib * (1ull << 30));

  fmt::print("loopback TCP ...\n");
  const double loopback = loopback_gbps(std::uint64_t{4} << 30);

  fmt::print("starting the MariaDB source and writing a {:.2f} GiB history ...\n", history_gib);
  testing::MariaDbOptions source_options;
  source_options.max_binlog_size = 256 << 20;
  auto source = testing::MariaDbServer::start(source_options);
  if (!source) return fmt::print(stderr, "{}\n", source.error().message()), 1;
  Status created = (*source)->execute(
      "CREATE USER 'bench'@'%' IDENTIFIED BY 'bench'; GRANT ALL ON *.* TO 'bench'@'%';"
      "CREATE DATABASE b; CREATE TABLE b.t (id BIGINT PRIMARY KEY, v VARCHAR(4000)) ENGINE=InnoDB;");
  if (!created) return fmt::print(stderr, "{}\n", created.error().message()), 1;
  std::uint64_t written = 0;
  for (long chunk = 0; written < history_bytes; ++chunk) {
    Status inserted = (*source)->execute(fmt::format(
        "USE b; INSERT INTO b.t SELECT {0} + seq, REPEAT(CHAR(65 + seq % 26), 200) FROM seq_1_to_500000",
        chunk * 500000));
    if (!inserted) return fmt::print(stderr, "{}\n", inserted.error().message()), 1;
    auto logs = (*source)->query("SHOW BINARY LOGS");
    if (!logs) return fmt::print(stderr, "{}\n", logs.error().message()), 1;
    written = 0;
    for (const auto& row : *logs)
      written += std::stoull(row[1]);
  }
  if (Status flushed = (*source)->execute("FLUSH BINARY LOGS"); !flushed)
    return fmt::print(stderr, "{}\n", flushed.error().message()), 1;
  // MariaDB writes a BINLOG_CHECKPOINT into the new file a moment after the flush: wait until the
  // files stop changing, so that the relay imports exactly what the source serves.
  auto logs = (*source)->query("SHOW BINARY LOGS");
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto again = (*source)->query("SHOW BINARY LOGS");
    if (!logs || !again) return fmt::print(stderr, "SHOW BINARY LOGS failed\n"), 1;
    if (*again == *logs) break;
    logs = std::move(again);
  }
  std::vector<std::string> paths;
  std::uint64_t total = 0;
  for (const auto& row : *logs) {
    paths.push_back((*source)->binlog_path(row[0]));
    total += std::stoull(row[1]);
  }
  const std::string first_file = logs->front()[0];
  fmt::print("history: {} files, {:.1f} MB\n", paths.size(), total / 1e6);

  fmt::print("importing it into the relay's store and starting the relay ...\n");
  testing::TestRelayConfig config;
  config.users = "[[users]]\nname = \"bench\"\npassword = \"bench\"\nrole = \"replica\"\n";
  config.log_level = "warn";
  const auto import_started = Clock::now();
  auto served_store = testing::serve_binlogs(paths, config);
  if (!served_store) return fmt::print(stderr, "{}\n", served_store.error().message()), 1;
  fmt::print("import and start: {:.1f} s\n\n", seconds_since(import_started));

  const Endpoint mariadb{"mariadbd", (*source)->port(), (*source)->pid()};
  const Endpoint relay{"binlog-relay", served_store->port, served_store->relay->pid()};
  // Warm both: the files and the LMDB map in the page cache.
  for (const Endpoint* endpoint : {&mariadb, &relay}) {
    auto warm = serve_readers(*endpoint, first_file, 1, 1);
    if (!warm) return fmt::print(stderr, "{}: {}\n", endpoint->name, warm.error().message()), 1;
  }

  // BRELAY_BENCH_HOLD=<file>: keep both servers (and a replica) up for hand-run experiments until
  // <file> exists, then stop.
  if (const char* hold = std::getenv("BRELAY_BENCH_HOLD"); hold != nullptr) {
    testing::MariaDbOptions replica_options;
    replica_options.server_id = 99;
    replica_options.log_bin = false;
    auto replica = testing::MariaDbServer::start(replica_options);
    if (!replica) return fmt::print(stderr, "{}\n", replica.error().message()), 1;
    fmt::print(
        "HOLD source_port={} source_pid={} relay_port={} relay_pid={} first_file={} total={} "
        "replica_socket={} replica_pid={} replica_port={}\n",
        mariadb.port, mariadb.pid, relay.port, relay.pid, first_file, total, (*replica)->socket_path(),
        (*replica)->pid(), (*replica)->port());
    std::fflush(stdout);
    while (!std::filesystem::exists(hold))
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return 0;
  }
  struct Row {
    std::string what;
    Served source;
    Served relay;
  };
  std::vector<Row> rows;
  auto measure = [&](const std::string& what,
                     const std::function<Result<Served>(const Endpoint&)>& run) -> bool {
    fmt::print("measuring {} ...\n", what);
    settle_disk();
    auto on_source = run(mariadb);
    settle_disk();
    auto on_relay = run(relay);
    if (!on_source || !on_relay) {
      fmt::print(stderr, "{}: {}\n", what,
                 !on_source ? on_source.error().message() : on_relay.error().message());
      return false;
    }
    rows.push_back({what, *on_source, *on_relay});
    return true;
  };
  if (!measure("1 reader", [&](const Endpoint& e) {
        return best_of(3, [&] { return serve_readers(e, first_file, 1, 1); });
      }))
    return 1;
  if (!measure("mariadb-binlog --raw", [&](const Endpoint& e) {
        return best_of(2, [&] {
          settle_disk();
          return mariadb_binlog_raw(e, first_file, total);
        });
      }))
    return 1;
  testing::MariaDbOptions replica_options;
  replica_options.server_id = 99;
  replica_options.log_bin = false;
  auto replica = testing::MariaDbServer::start(replica_options);
  if (!replica) return fmt::print(stderr, "{}\n", replica.error().message()), 1;
  if (!measure("replica IO thread", [&](const Endpoint& e) {
        return best_of(2, [&] {
          settle_disk();
          return replica_io_thread(**replica, e, first_file, total);
        });
      }))
    return 1;
  replica->reset();
  const int threads = std::min(4, readers);
  // BRELAY_BENCH_PROFILE=<file>: record the relay with `perf record -g` while the readers run.
  const char* profile = std::getenv("BRELAY_BENCH_PROFILE");
  if (!measure(fmt::format("{} readers", readers), [&](const Endpoint& e) -> Result<Served> {
        std::optional<testing::Process> perf;
        if (profile != nullptr && e.pid == relay.pid) {
          testing::ProcessOptions options;
          options.argv = {"perf", "record", "-g", "-o", profile, "-p", std::to_string(e.pid)};
          options.stderr_path = std::string(profile) + ".log";
          auto started = testing::Process::start(options);
          if (started) perf.emplace(std::move(*started));
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        auto served = best_of(2, [&] { return serve_readers(e, first_file, threads, readers / threads); });
        if (perf) {
          perf->signal(SIGINT);
          (void)perf->wait(std::chrono::seconds(30));
        }
        return served;
      }))
    return 1;

  fmt::print("\nloopback TCP (one connection): {:.2f} GB/s\n\n", loopback);
  fmt::print("{:<22} {:>12} {:>12} {:>10} {:>14} {:>14}\n", "reader", "source GB/s", "relay GB/s",
             "relay/src", "src CPU s/GB", "relay CPU s/GB");
  for (const Row& row : rows) {
    const bool discarding = row.what.find("reader") != std::string::npos;
    fmt::print("{:<22} {:>12.2f} {:>12.2f} {:>9.2f}x {:>14} {:>14}\n", row.what, row.source.gbps(),
               row.relay.gbps(), row.relay.gbps() / row.source.gbps(),
               discarding ? fmt::format("{:.3f}", row.source.cpu_per_gb()) : "-",
               discarding ? fmt::format("{:.3f}", row.relay.cpu_per_gb()) : "-");
  }
  const Row& many = rows.back();
  fmt::print("\n{} readers: relay CPU per GB = {:.2f} of mariadbd's; relay RssAnon peak {:.1f} MiB\n",
             readers, many.relay.cpu_per_gb() / many.source.cpu_per_gb(),
             many.relay.peak_rss_anon_kib / 1024.0);
  return 0;
}

}  // namespace
}  // namespace brelay

int main(int argc, char** argv) {
  return brelay::run(argc, argv);
}
