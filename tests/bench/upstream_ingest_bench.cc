// Benchmark of the upstream's durable ingest against the real alternatives, measured in one run on
// one disk. A MariaDB source is given a binlog history of --size-mib (default 1024) MiB (multi-row
// InnoDB INSERTs of about 1 MiB each and a few 32 MiB transactions, rotating every 256 MiB), then the
// same history is pulled, each from nothing, by:
//   (a) the binlog-relay executable with [storage] sync = "commit" (every group commit fdatasynced
//       before it is published), until its store's durable end is the source's end;
//   (a') the same on a store encrypted at rest ([storage] encryption_key_file): issue 17's
//       encrypted ingest against plain, as a relay pulling from a real source sees it;
//   (b) the same with sync = "none";
//   (c) a second mariadbd's replica IO thread (CHANGE MASTER TO ..., START SLAVE IO_THREAD), until
//       SHOW SLAVE STATUS reports the source's end as Read_Master_Log_Pos (it syncs its relay log
//       every sync_relay_log = 10000 events, not per commit);
//   (d) mariadb-binlog --read-from-remote-server --raw --to-last-log writing the files (no fsync);
//   (e) a plain sequential write of the same number of bytes to a file on the same disk, with one
//       fdatasync at the end: the physical limit of durable ingest; and (e') the same with an
//       fdatasync every 8 MiB (the writer's commit size);
//   (f) the same dump received by net/'s client and thrown away: how fast the source sends on this
//       machine, the floor under every puller (the source shares the CPUs with the puller).
// It prints a table with each time, throughput and the ratios the goals are stated in: (a) against
// (e) (goal: within 1.1x), (b) against (c) (goal: no slower) and (a) against (a') (at least 0.9x:
// the encrypted relay's speed as a share of the plain one's).
//
// Usage: upstream_ingest_bench [--dir DIR] [--size-mib N] [--rounds N]
//   DIR (default $TMPDIR or /tmp) holds the servers, the relay's stores and the files: put it on
//   the disk you want to measure; it needs about 4 x size free. --rounds repeats (a), (a'), (b), (e)
//   and (f), alternating whether (a) or (e) goes first, and reports medians and each round's own
//   (a)/(e) ratio. Needs mariadbd, mariadb and mariadb-binlog; run as root or as a user who
//   may run mariadbd.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "net/event_loop.h"
#include "net/mysql_client.h"
#include "net/replication_commands.h"
#include "storage/at_rest_crypto.h"
#include "storage/binlog_store.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/process.h"
#include "tests/support/relay_process.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace brelay;
using namespace brelay::testing;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "upstream_ingest_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T must(Result<T> result, std::string_view what) {
  if (!result) die(fmt::format("{}: {}", what, result.error().message()));
  return std::move(result).value();
}

void must(Status status, std::string_view what) {
  if (!status) die(fmt::format("{}: {}", what, status.error().message()));
}

struct SourceEnd {
  std::string file;
  std::uint64_t position = 0;
  std::uint64_t bytes = 0;  // the total size of the source's binlog files
};

SourceEnd source_end(MariaDbServer& source) {
  Rows status = must(source.query("SHOW MASTER STATUS"), "SHOW MASTER STATUS");
  Rows logs = must(source.query("SHOW BINARY LOGS"), "SHOW BINARY LOGS");
  SourceEnd end{status.at(0).at(0), std::stoull(status.at(0).at(1)), 0};
  for (const auto& row : logs)
    end.bytes += std::stoull(row.at(1));
  return end;
}

void build_history(MariaDbServer& source, std::uint64_t size_mib) {
  must(source.execute(
           "CREATE DATABASE bench; CREATE TABLE bench.t (id BIGINT PRIMARY KEY, a INT, b VARCHAR(255), "
           "c TEXT) ENGINE=InnoDB"),
       "creating the table");
  // One statement: 1000 rows of about 1 KiB, about 1 MiB of row events.
  std::uint64_t next_id = 0;
  auto statement = [&] {
    std::string sql = fmt::format(
        "INSERT INTO bench.t SELECT seq + {}, seq, REPEAT(CHAR(97 + seq % 26), 200), "
        "REPEAT(CONCAT(seq, ' row of the benchmark history '), 25) FROM seq_1_to_1000;\n",
        next_id);
    next_id += 1000;
    return sql;
  };
  std::uint64_t written = 0;
  const std::uint64_t target = size_mib << 20;
  int big = 0;
  while (written < target) {
    std::string script = "USE bench;\n";
    // Every 8th batch: one transaction of 32 statements (about 32 MiB).
    const bool large = (++big % 8) == 0;
    if (large) script += "BEGIN;\n";
    for (int i = 0; i < 32; ++i)
      script += statement();
    if (large) script += "COMMIT;\n";
    must(source.execute(script), "writing the history");
    written = source_end(source).bytes;
  }
}

// Polls the relay's store (a read-only open) until its durable end is the source's end.
void wait_for_store(const std::string& data_dir, const SourceEnd& end, RelayProcess& relay,
                    std::shared_ptr<const storage::crypto::MasterKeys> keys) {
  const auto deadline = Clock::now() + 30min;
  while (Clock::now() < deadline) {
    if (std::filesystem::exists(data_dir + "/data.mdb")) {
      storage::StoreOptions options;
      options.read_only = true;
      options.master_keys = keys;
      if (auto store = storage::BinlogStore::open(data_dir, options)) {
        auto durable = (*store)->durable_end();
        if (durable && durable->file == end.file && durable->position >= end.position) return;
      }
    }
    if (!relay.running()) die("the relay exited:\n" + relay.log());
    std::this_thread::sleep_for(20ms);
  }
  die("the relay did not catch up within 30 minutes:\n" + relay.log());
}

// User and system CPU seconds a process has used so far (/proc/<pid>/stat), all its threads.
double cpu_seconds(pid_t pid) {
  auto stat = read_file(fmt::format("/proc/{}/stat", pid));
  if (!stat) return 0;
  // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
  std::string_view rest = *stat;
  rest = rest.substr(rest.rfind(')') + 2);
  std::vector<std::string_view> fields;
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    fields.push_back(rest.substr(0, space));
    if (space == std::string_view::npos) break;
    rest = rest.substr(space + 1);
  }
  if (fields.size() < 13) return 0;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (std::stod(std::string(fields[11])) + std::stod(std::string(fields[12]))) / ticks;
}

double g_last_relay_cpu = 0;

// `encrypted`: the store is encrypted at rest ([storage] encryption_key_file, a fixed test key).
double run_relay(MariaDbServer& source, const SourceEnd& end, const std::string& dir, const std::string& sync,
                 bool encrypted = false) {
  const std::string data_dir = dir + "/relay-" + sync + (encrypted ? "-encrypted" : "");
  std::filesystem::remove_all(data_dir);
  TestRelayConfig config;
  config.data_dir = data_dir;
  config.source_port = source.port();
  config.sync = sync;
  config.log_level = "info";
  std::shared_ptr<const storage::crypto::MasterKeys> keys;
  if (encrypted) {
    const std::string key_file = dir + "/keys";
    must(write_file(key_file, "1 " + std::string(64, 'a') + "\n"), "writing the bench's key file");
    config.storage_extra = fmt::format("encryption_key_file = \"{}\"\n", key_file);
    keys = std::make_shared<storage::crypto::MasterKeys>(
        must(storage::crypto::load_key_file(key_file), "loading the bench's key file"));
  }
  const auto start = Clock::now();
  auto relay = must(RelayProcess::start(config), "starting binlog-relay");
  wait_for_store(data_dir, end, *relay, keys);
  const double seconds = seconds_since(start);
  g_last_relay_cpu = cpu_seconds(relay->pid());
  must(relay->stop(), "stopping binlog-relay");
  std::filesystem::remove_all(data_dir);
  return seconds;
}

double run_replica_io_thread(MariaDbServer& source, const SourceEnd& end, const std::string& first_file) {
  MariaDbOptions options;
  options.server_id = 77;
  options.log_bin = false;
  auto replica = must(MariaDbServer::start(options), "starting the replica");
  must(replica->execute(
           fmt::format("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='root', "
                       "MASTER_LOG_FILE='{}', MASTER_LOG_POS=4, MASTER_USE_GTID=no",
                       source.port(), first_file)),
       "CHANGE MASTER TO");
  const auto start = Clock::now();
  must(replica->execute("START SLAVE IO_THREAD"), "START SLAVE IO_THREAD");
  while (true) {
    auto output =
        must(run_command({"mariadb", "--no-defaults", "--user=root", "--socket=" + replica->socket_path(),
                          "--batch", "-e", "SHOW SLAVE STATUS"}),
             "SHOW SLAVE STATUS");
    // --batch: a line of column names, then a line of values, tab-separated.
    const auto split = [](std::string_view line) {
      std::vector<std::string> fields;
      std::size_t at = 0;
      while (true) {
        const auto tab = line.find('\t', at);
        fields.emplace_back(line.substr(at, tab == std::string_view::npos ? line.npos : tab - at));
        if (tab == std::string_view::npos) break;
        at = tab + 1;
      }
      return fields;
    };
    const std::string_view text = output.out;
    const auto newline = text.find('\n');
    if (newline == std::string_view::npos) die("SHOW SLAVE STATUS returned nothing: " + output.err);
    const std::vector<std::string> names = split(text.substr(0, newline));
    const std::vector<std::string> values =
        split(text.substr(newline + 1, text.find('\n', newline + 1) - newline - 1));
    const auto field = [&](const std::string& name) {
      for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        if (names[i] == name) return values[i];
      }
      return std::string();
    };
    const std::string read_position = field("Read_Master_Log_Pos");
    if (field("Master_Log_File") == end.file && !read_position.empty() &&
        std::stoull(read_position) >= end.position) {
      break;
    }
    if (!field("Last_IO_Error").empty()) die("the replica's IO thread failed: " + field("Last_IO_Error"));
    if (seconds_since(start) > 1800) die("the replica did not catch up within 30 minutes");
    std::this_thread::sleep_for(20ms);
  }
  const double seconds = seconds_since(start);
  must(replica->execute("STOP SLAVE"), "STOP SLAVE");
  return seconds;
}

double run_mariadb_binlog(MariaDbServer& source, const std::string& dir, const std::string& first_file) {
  const std::string out = dir + "/mariadb-binlog/";
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  const auto start = Clock::now();
  auto result =
      must(run_command({"mariadb-binlog", "--no-defaults", "--read-from-remote-server", "--raw",
                        "--to-last-log", "--host=127.0.0.1", fmt::format("--port={}", source.port()),
                        "--user=root", "--result-file=" + out, first_file},
                       {}, std::chrono::minutes(30)),
           "mariadb-binlog");
  const double seconds = seconds_since(start);
  if (result.exit_status != 0) die("mariadb-binlog failed: " + result.err);
  std::filesystem::remove_all(out);
  return seconds;
}

// The same dump received by net/'s client and thrown away (non-blocking, so it ends with EOF): how
// fast the source sends, the floor under every puller on this machine.
double run_receive_only(MariaDbServer& source, const std::string& first_file) {
  net::EventLoop loop;
  net::ClientOptions options;
  options.host = "127.0.0.1";
  options.port = source.port();
  options.user = "root";
  net::MySqlClient client(loop, options);
  struct Receiver : net::MySqlClient::StreamReceiver {
    void on_stream_packet(ByteView payload) override { bytes += payload.size(); }
    void on_stream_end(const Status& status) override {
      ended = status;
      loop->stop();
    }
    net::EventLoop* loop = nullptr;
    std::uint64_t bytes = 0;
    Status ended;
  } receiver;
  receiver.loop = &loop;
  Clock::time_point start;
  client.connect([&](Status connected) {
    if (!connected) die("receive-only client: " + connected.error().message());
    client.query("SET @master_binlog_checksum= @@global.binlog_checksum, @mariadb_slave_capability= 4",
                 [&](Result<net::QueryResult> set) {
                   if (!set) die("receive-only client: " + set.error().message());
                   net::BinlogDump dump;
                   dump.file_name = first_file;
                   dump.server_id = 9999;
                   dump.flags = net::dump_flag::kNonBlock | net::dump_flag::kHeartbeatV2OrAnnotateRows;
                   start = Clock::now();
                   client.start_stream(net::encode_binlog_dump(dump), &receiver);
                 });
  });
  must(loop.run(), "receive-only loop");
  const double seconds = seconds_since(start);
  if (!receiver.ended) die("receive-only dump failed: " + receiver.ended.error().message());
  client.close();
  return seconds;
}

// Writes `bytes` sequentially in 1 MiB writes; fdatasync every `sync_every` bytes and at the end.
double run_plain_file(const std::string& dir, std::uint64_t bytes, std::uint64_t sync_every) {
  const std::string path = dir + "/plain.bin";
  std::filesystem::remove(path);
  const std::vector<char> chunk(1 << 20, 'p');
  const auto start = Clock::now();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) die(fmt::format("open {}: {}", path, std::strerror(errno)));
  std::uint64_t written = 0;
  std::uint64_t since_sync = 0;
  while (written < bytes) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), bytes - written));
    if (::write(fd, chunk.data(), n) != static_cast<ssize_t>(n)) die("write failed");
    written += n;
    since_sync += n;
    if (sync_every != 0 && since_sync >= sync_every) {
      ::fdatasync(fd);
      since_sync = 0;
    }
  }
  ::fdatasync(fd);
  ::close(fd);
  const double seconds = seconds_since(start);
  std::filesystem::remove(path);
  return seconds;
}

}  // namespace

// Flushes every dirty page of earlier measurements (and the deletes of their files) and lets the
// disk go quiet, so that no measurement pays for the writeback of the one before it.
void settle_disk() {
  ::sync();
  std::this_thread::sleep_for(std::chrono::seconds(1));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int main(int argc, char** argv) {
  std::string dir_arg;
  std::uint64_t size_mib = 1024;
  int rounds = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir_arg = argv[++i];
    } else if (arg == "--size-mib" && i + 1 < argc) {
      size_mib = std::stoull(argv[++i]);
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::stoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: upstream_ingest_bench [--dir DIR] [--size-mib N] [--rounds N]\n");
      return 2;
    }
  }
  if (!dir_arg.empty()) ::setenv("TMPDIR", dir_arg.c_str(), 1);
  auto scratch = must(TempDir::create("upstream-bench"), "creating the bench directory");
  const std::string dir = scratch.path();

  MariaDbOptions options;
  options.max_binlog_size = 256 << 20;
  options.extra_args = {"--innodb-buffer-pool-size=512M", "--innodb-log-file-size=512M"};
  auto source = must(MariaDbServer::start(options), "starting the source");
  std::fprintf(stderr, "building a %llu MiB binlog history...\n", static_cast<unsigned long long>(size_mib));
  const auto built = Clock::now();
  build_history(*source, size_mib);
  must(source->execute("FLUSH BINARY LOGS"), "FLUSH BINARY LOGS");
  const SourceEnd end = source_end(*source);
  const std::string first_file = must(source->query("SHOW BINARY LOGS"), "SHOW BINARY LOGS").at(0).at(0);
  std::fprintf(stderr, "history: %.1f MiB in binlogs up to %s:%llu, built in %.1f s\n",
               static_cast<double>(end.bytes) / (1 << 20), end.file.c_str(),
               static_cast<unsigned long long>(end.position), seconds_since(built));

  struct Row {
    std::string name;
    double seconds;
  };
  std::vector<Row> rows;
  auto add = [&](std::string name, double seconds) {
    std::fprintf(stderr, "  %-58s %8.2f s\n", name.c_str(), seconds);
    rows.push_back({std::move(name), seconds});
  };
  // Each round measures (e), (a), (a') and (b) back to back, alternating whether the plain file or the relay
  // goes first, and yields its own ratios (a)/(e) and (a)/(a'): this VM's disk (cached by its host) varies
  // several-fold between minutes, so only ratios measured side by side mean anything. The table shows
  // medians.
  std::vector<double> commits, encrypted_commits, nones, limits, ratios, encrypted_ratios, receives;
  for (int round = 0; round < rounds; ++round) {
    // (a) next to (e), and (a') before or after the pair, alternating.
    double e = 0, a = 0, encrypted = 0, a_cpu = 0, encrypted_cpu = 0;
    const auto relay_plain = [&] {
      a = run_relay(*source, end, dir, "commit");
      a_cpu = g_last_relay_cpu;
    };
    const auto relay_encrypted = [&] {
      encrypted = run_relay(*source, end, dir, "commit", true);
      encrypted_cpu = g_last_relay_cpu;
    };
    settle_disk();
    if (round % 2 == 0) {
      e = run_plain_file(dir, end.bytes, 0);
      settle_disk();
      relay_plain();
      settle_disk();
      relay_encrypted();
    } else {
      relay_encrypted();
      settle_disk();
      relay_plain();
      settle_disk();
      e = run_plain_file(dir, end.bytes, 0);
    }
    settle_disk();
    add("(e) plain write + one fdatasync (physical limit)", e);
    add(fmt::format("(a) binlog-relay, sync = commit ({:.2f} CPU s)", a_cpu), a);
    add(fmt::format("(a') the same, encrypted at rest ({:.2f} CPU s)", encrypted_cpu), encrypted);
    const double b = run_relay(*source, end, dir, "none");
    add(fmt::format("(b) binlog-relay, sync = none ({:.2f} CPU s)", g_last_relay_cpu), b);
    commits.push_back(a);
    encrypted_commits.push_back(encrypted);
    encrypted_ratios.push_back(a / encrypted);
    nones.push_back(b);
    limits.push_back(e);
    ratios.push_back(a / e);
  }
  for (int round = 0; round < rounds; ++round) {
    const double f = run_receive_only(*source, first_file);
    add("(f) the dump received and discarded (net/ client)", f);
    receives.push_back(f);
  }
  const double relay_commit = median(commits), relay_none = median(nones), limit = median(limits);
  const double receive_only = median(receives);
  settle_disk();
  const double e8 = run_plain_file(dir, end.bytes, 8 << 20);
  settle_disk();
  add("(e') plain write + fdatasync every 8 MiB", e8);
  const double io_thread = run_replica_io_thread(*source, end, first_file);
  add("(c) MariaDB replica IO thread", io_thread);
  const double binlog_tool = run_mariadb_binlog(*source, dir, first_file);
  add("(d) mariadb-binlog --read-from-remote-server --raw", binlog_tool);

  const double mib = static_cast<double>(end.bytes) / (1 << 20);
  std::printf(
      "\nupstream ingest of a %.0f MiB MariaDB binlog history (median of %d rounds for a, a', b, e, f)\n\n",
      mib, rounds);
  std::printf("| %-52s | %9s | %9s | %16s |\n", "puller", "seconds", "MiB/s", "vs relay commit");
  std::printf("|%s|%s|%s|%s|\n", std::string(54, '-').c_str(), std::string(11, '-').c_str(),
              std::string(11, '-').c_str(), std::string(18, '-').c_str());
  auto print = [&](const std::string& name, double seconds) {
    std::printf("| %-52s | %9.2f | %9.1f | %15.2fx |\n", name.c_str(), seconds, mib / seconds,
                seconds / relay_commit);
  };
  print("(a) binlog-relay, sync = commit", relay_commit);
  print("(a') the same, encrypted at rest", median(encrypted_commits));
  print("(b) binlog-relay, sync = none", relay_none);
  print("(c) MariaDB replica IO thread", io_thread);
  print("(d) mariadb-binlog --read-from-remote-server --raw", binlog_tool);
  print("(e) plain write + one fdatasync", limit);
  print("(e') plain write + fdatasync every 8 MiB", e8);
  print("(f) the dump received and discarded", receive_only);
  std::printf("\n(a) / (e), median of the rounds' own ratios: %.2fx  (goal: at most 1.10x; per round: %s)\n",
              median(ratios), fmt::format("{:.2f}", fmt::join(ratios, " ")).c_str());
  std::printf("(a) / (e), medians: %.2fx\n", relay_commit / limit);
  std::printf(
      "(a) / (a'), the encrypted relay's speed against the plain one's, median of the rounds' own ratios: "
      "%.2fx  (goal: at least 0.9x; per round: %s)\n",
      median(encrypted_ratios), fmt::format("{:.2f}", fmt::join(encrypted_ratios, " ")).c_str());
  std::printf("(a) / (e'): %.2fx\n", relay_commit / e8);
  std::printf("(b) / (c): %.2fx  (goal: at most 1.00x)\n", relay_none / io_thread);
  std::printf("(a) / (f): %.2fx  (what storing durably adds to receiving)\n", relay_commit / receive_only);
  return 0;
}
