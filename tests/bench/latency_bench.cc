// Added end-to-end latency of the relay (issue 20): a real MariaDB source takes a paced load of small
// transactions (default 1000 a second, autocommit INSERTs of one row from --loaders client threads,
// each pacing its share); two readers speak to servers as a replica IO thread does
// (tests/support/mysql_replica_client, net/'s client underneath), one directly on the source and one
// through the relay, and both timestamp the arrival of each transaction (its XID event; both start
// at the same position, so the n-th commit is the same transaction in both streams). It prints
// p50 / p99 / p99.9 / max of relay arrival minus direct arrival, with [storage] sync = "commit", and
// again with semi-sync on (the source's rpl_semi_sync_master_enabled = ON and the relay's [source]
// semi_sync = true: every commit on the source waits for the relay's acknowledgement after its
// durable commit), and with semi-sync on a store encrypted at rest ([storage] encryption_key_file,
// as a relay in a DMZ runs). Beside them, p50 / p99 of each INSERT's round trip at its client (the
// source's commit as its applications see it): a semi-sync row minus the first row is what the
// relay's acknowledgement adds to every commit on the source. Goal: p99 <= 2 ms with sync = commit. The first
// --warmup transactions of each run are left out. The source itself does not sync
// (innodb_flush_log_at_trx_commit = 2, sync_binlog = 0), so the figure includes all of the relay's
// durability: at least the event files' fdatasync and the LMDB commit's before a transaction is served.
//
// Usage: latency_bench [--rate N] [--seconds S] [--loaders N] [--warmup N]
//   Starts its own mariadbd and relays in $TMPDIR (put it on the disk you want to measure) and
//   stops them by pid. Needs mariadbd and mariadb; run as root or a user who may run mariadbd.
//   LATENCY_BENCH_METRICS=1 also prints each relay's group-commit histograms (needs curl).
//   Timings are not checked by CTest; latency_bench_smoke (label integration) makes a short run.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "net/blocking_client.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/mysql_replica_client.h"
#include "tests/support/relay_process.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace brelay;
using namespace brelay::testing;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint8_t kXidEvent = 16;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "latency_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T must(Result<T> result, std::string_view what) {
  if (!result) die(fmt::format("{}: {}", what, result.error().message()));
  return std::move(result).value();
}

void must(const Status& status, std::string_view what) {
  if (!status) die(fmt::format("{}: {}", what, status.error().message()));
}

struct Options {
  int rate = 1000;
  double seconds = 10;
  int loaders = 4;
  int warmup = 500;
};

struct Position {
  std::string file;
  std::uint64_t position = 0;
};

Position source_end(MariaDbServer& source) {
  Rows status = must(source.query("SHOW MASTER STATUS"), "SHOW MASTER STATUS");
  return {status.at(0).at(0), std::stoull(status.at(0).at(1))};
}

// Arrival time of each transaction (GTID sequence number) at one reader, until `count` arrived.
class Reader {
 public:
  Reader(MysqlReplicaOptions options, Position from, std::uint64_t count)
      : options_(std::move(options)), from_(std::move(from)), count_(count) {}

  void start() {
    client_ = must(MysqlReplicaClient::connect(options_), fmt::format("a reader on port {}", options_.port));
    must(client_->dump_from(from_.file, from_.position), "COM_BINLOG_DUMP");
    thread_ = std::thread([this] { run(); });
  }
  void join() { thread_.join(); }
  const std::vector<Clock::time_point>& arrivals() const { return arrivals_; }

 private:
  // The replica client does not announce MariaDB's capabilities, so the source sends each GTID as
  // a BEGIN query event; both readers start at the same position of the same history, so the n-th
  // XID (commit) event is the same transaction in both streams.
  void run() {
    must(client_->receive([&](const ReceivedEvent& event) {
      if (event.type == kXidEvent) arrivals_.push_back(Clock::now());
      return arrivals_.size() >= count_;
    }),
         fmt::format("reading from port {}", options_.port));
  }

  MysqlReplicaOptions options_;
  Position from_;
  std::uint64_t count_;
  std::unique_ptr<MysqlReplicaClient> client_;
  std::thread thread_;
  std::vector<Clock::time_point> arrivals_;
};

struct Load {
  double rate = 0;
  std::vector<double> commit_ms;  // each INSERT's round trip as its client saw it, warm-up left out
};

// Paced autocommit INSERTs from `loaders` threads; returns the achieved rate and each commit's time.
Load run_load(MariaDbServer& source, const Options& options, std::uint64_t total) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(options.loaders));
  const auto start = Clock::now() + 50ms;
  const auto period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(options.loaders) / options.rate));
  std::atomic<std::uint64_t> next{0};
  std::vector<double> commit_ms(total);
  for (int t = 0; t < options.loaders; ++t) {
    threads.emplace_back([&, t] {
      net::ClientOptions client_options;
      client_options.port = source.port();
      client_options.user = "root";
      client_options.tls_mode = net::TlsMode::kDisabled;
      auto client = must(net::BlockingClient::connect(client_options), "the load's connection");
      const auto offset = period * t / options.loaders;
      for (std::uint64_t i = 0;; ++i) {
        const std::uint64_t n = next.fetch_add(1);
        if (n >= total) break;
        std::this_thread::sleep_until(start + offset + period * static_cast<long>(i));
        const auto sent = Clock::now();
        must(client->query(fmt::format("INSERT INTO bench.t (v) VALUES ({})", n)), "INSERT");
        commit_ms[n] = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
      }
      client->close();
    });
  }
  for (auto& thread : threads)
    thread.join();
  Load load;
  load.rate = static_cast<double>(total) / std::chrono::duration<double>(Clock::now() - start).count();
  load.commit_ms.assign(commit_ms.begin() + std::min<std::ptrdiff_t>(options.warmup, std::ssize(commit_ms)),
                        commit_ms.end());
  return load;
}

struct Figures {
  double rate = 0;
  std::size_t matched = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0, min = 0;
  double commit_p50 = 0, commit_p99 = 0;  // the source's INSERT round trip (with semi-sync: the ACK)
};

double percentile(const std::vector<double>& sorted, double p) {
  const auto index = static_cast<std::size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(index, sorted.size() - 1)];
}

Status wait_caught_up(std::uint16_t relay_port, const Position& end) {
  const std::string want = fmt::format("{}\t{}", end.file, end.position);
  for (int i = 0; i < 3000; ++i) {
    auto status = mariadb_cli_query(relay_port, "admin", "adminpw", "SHOW MASTER STATUS");
    if (status && status->rfind(want, 0) == 0) return {};
    std::this_thread::sleep_for(20ms);
  }
  return make_error("the relay did not reach the source's end {}:{}", end.file, end.position);
}

Figures run_mode(MariaDbServer& source, const Options& options, bool semi_sync, bool encrypted) {
  must(source.execute(fmt::format("SET GLOBAL rpl_semi_sync_master_enabled = {}", semi_sync ? 1 : 0)),
       "setting semi-sync");
  TempDir dir = must(TempDir::create("latency-bench"), "a directory for the relay's store");
  TestRelayConfig config;
  config.source_port = source.port();
  config.data_dir = dir.file("store");
  config.sync = "commit";
  config.log_level = "warn";
  if (semi_sync) config.source_extra = "semi_sync = true\n";
  if (encrypted) {
    const std::string key_file = dir.file("keys");
    must(write_file(key_file, "1 " + std::string(64, 'a') + "\n"), "writing the key file");
    config.storage_extra = fmt::format("encryption_key_file = \"{}\"\n", key_file);
  }
  const std::uint16_t relay_port = must(free_loopback_port(), "a free port");
  const std::uint16_t metrics_port = must(free_loopback_port(), "a free port");
  config.metrics_listen = fmt::format("127.0.0.1:{}", metrics_port);
  config.listen = fmt::format("127.0.0.1:{}", relay_port);
  auto relay = must(RelayProcess::start(config), "starting the relay");
  const Position from = source_end(source);
  must(wait_caught_up(relay_port, from), "catching up");

  const auto total = static_cast<std::uint64_t>(options.rate * options.seconds);
  MysqlReplicaOptions direct;
  direct.port = source.port();
  direct.user = "root";
  direct.server_id = 201;
  direct.tls_mode = net::TlsMode::kDisabled;
  MysqlReplicaOptions through = direct;
  through.port = relay_port;
  through.user = "repl";
  through.password = "replpw";
  through.server_id = 202;
  Reader a(direct, from, total), b(through, from, total);
  a.start();
  b.start();
  Figures figures;
  Load load = run_load(source, options, total);
  figures.rate = load.rate;
  if (load.commit_ms.empty()) die("no INSERT was timed");
  std::sort(load.commit_ms.begin(), load.commit_ms.end());
  figures.commit_p50 = percentile(load.commit_ms, 0.5);
  figures.commit_p99 = percentile(load.commit_ms, 0.99);
  a.join();
  b.join();
  std::vector<double> added;
  for (std::size_t i = static_cast<std::size_t>(options.warmup); i < total; ++i)
    added.push_back(std::chrono::duration<double, std::milli>(b.arrivals()[i] - a.arrivals()[i]).count());
  if (added.empty()) die("no transaction reached both readers");
  std::sort(added.begin(), added.end());
  figures.matched = added.size();
  figures.p50 = percentile(added, 0.5);
  figures.p99 = percentile(added, 0.99);
  figures.p999 = percentile(added, 0.999);
  figures.max = added.back();
  figures.min = added.front();
  if (std::getenv("LATENCY_BENCH_METRICS") != nullptr) {  // the relay's commit histograms, to stderr
    const std::string command = fmt::format(
        "curl -s http://127.0.0.1:{}/metrics | grep -E 'store_(commit|fsync)_seconds|commits' >&2",
        metrics_port);
    if (std::system(command.c_str()) != 0) std::fprintf(stderr, "no metrics from the relay\n");
  }
  must(relay->stop(), "stopping the relay");
  return figures;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--rate")
      options.rate = std::atoi(value);
    else if (flag == "--seconds")
      options.seconds = std::atof(value);
    else if (flag == "--loaders")
      options.loaders = std::atoi(value);
    else if (flag == "--warmup")
      options.warmup = std::atoi(value);
    else
      die(fmt::format("unknown option {} (see the file's header)", flag));
  }
  if (options.rate <= 0 || options.seconds <= 0 || options.loaders <= 0 || options.warmup < 0)
    die("--rate, --seconds and --loaders must be positive");
  // Compared with the whole number of transactions run_mode() makes.
  const auto total = static_cast<std::uint64_t>(options.rate * options.seconds);
  if (static_cast<std::uint64_t>(options.warmup) >= total) options.warmup = 0;
  return options;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = parse(argc, argv);
  MariaDbOptions source_options;
  source_options.semi_sync_master = true;
  source_options.semi_sync_master_timeout_ms = 2000;
  source_options.extra_args = {"--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0"};
  auto source = must(MariaDbServer::start(source_options), "starting mariadbd");
  must(source->execute("CREATE DATABASE bench; CREATE TABLE bench.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                       "v BIGINT) ENGINE=InnoDB"),
       "creating the table");
  std::printf(
      "\n%d trx/s for %.0f s from %d client threads, the first %d left out; relay arrival minus "
      "direct arrival (ms)\n\n",
      options.rate, options.seconds, options.loaders, options.warmup);
  std::printf("| relay | achieved trx/s | matched | min | p50 | p99 | p99.9 | max | ");
  std::printf("source commit p50 | p99 |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  struct Mode {
    bool semi_sync;
    bool encrypted;
    const char* name;
  };
  for (const Mode& mode : {Mode{false, false, ""}, Mode{true, false, ", semi-sync on"},
                           Mode{true, true, ", semi-sync on, encrypted at rest"}}) {
    const Figures f = run_mode(*source, options, mode.semi_sync, mode.encrypted);
    std::printf("| sync = commit%s | %.0f | %zu | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
                mode.name, f.rate, f.matched, f.min, f.p50, f.p99, f.p999, f.max, f.commit_p50, f.commit_p99);
    std::fflush(stdout);
  }
  std::printf(
      "\ngoal: p99 <= 2 ms with sync = commit\n"
      "source commit: each INSERT's round trip at its client; a semi-sync row minus the first row is what "
      "the relay's acknowledgement adds\n");
  return 0;
} catch (const std::exception& e) {
  die(e.what());
}
