// Benchmark of the binlog store against the plain-file alternative, measured in one run on one disk.
// Prints tables:
//   1. durable append throughput (sync = commit) for 200 B, 2 KiB and 1 MiB events, against a plain
//      sequential write + fdatasync of the same bytes to a file, with as many fdatasync calls as the
//      store made group commits (so both sides make the same bytes durable the same number of times);
//   1b. the same durable append into an encrypted store ([storage] encryption_key_file) against a
//      plain one, rotating (issue 17's goal: at least 0.9x), and as a control the plain store while
//      a thread spins for the CPU time the encryption adds (what that much load alone costs here);
//   2. commit latency of single small transactions (p50/p99): when the writer reports them synced
//      (what a semi-sync source is acknowledged) and when readers see them, against one write +
//      fdatasync of the same bytes and a raw LMDB commit with LMDB's default two syncs, interleaved
//      round by round (issue 17's goal: synced p50 at most 1.3x one fdatasync);
//   3. positioned seeks by (file, position) and by GTID on a store of 10 million events;
//   4. sequential read throughput from the warm store against pread of the same bytes from a plain
//      file in the page cache.
// Sections 3 and 4 also run on a store written with one key per event (max_run_bytes = 1), to
// measure what storing runs of consecutive events buys.
//
// Usage: store_bench [--dir DIR] [--quick] [--events N] [--only append|encryption|latency|seek]
//                    [--event-size N] [--commit-kib N] [--queue-kib N] [--encrypted]
//   DIR defaults to $TMPDIR or /tmp (put it on the disk you want to measure); --quick shrinks every
//   volume tenfold for a smoke run; --events sets the seek store's size (default 10 million);
//   --event-size runs one append case only; --commit-kib and --queue-kib override the writer's
//   max_commit_bytes and queue_limit_bytes. Needs about 6 GB free in DIR for the default run.
//   The machine's other load shows directly in these figures: the append table prints each
//   round's ratio and the CPU seconds per GiB, which vary less than wall-clock throughput.
//   --encrypted writes the append and latency stores encrypted at rest (issue 17: a fixed test key),
//   to compare with a run without it.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "storage/binlog_store.h"
#include "storage/lmdb_txn.h"
#include "storage/store_reader.h"
#include "storage/store_writer.h"

namespace {

using brelay::Bytes;
using brelay::ByteView;
using namespace brelay::storage;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kBatchBytes = 256 * 1024;

// Keeps the compiler from dropping the reads whose speed is measured.
volatile std::uint64_t g_sink = 0;

// Command-line overrides of the writer's defaults for the append measurements (0: the default).
std::size_t g_commit_bytes = 0;
std::size_t g_queue_bytes = 0;
std::size_t g_only_size = 0;
// --encrypted: the master keys the append and latency stores are written under (null: plain).
std::shared_ptr<const brelay::storage::crypto::MasterKeys> g_keys;

brelay::storage::StoreOptions bench_store_options() {
  brelay::storage::StoreOptions options;
  options.master_keys = g_keys;
  return options;
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "store_bench: %s\n", message.c_str());
  std::exit(1);
}

template <typename T>
T check(brelay::Result<T> result, const char* what) {
  if (!result) die(fmt::format("{}: {}", what, result.error().message()));
  return std::move(result).value();
}

void check(const brelay::Status& status, const char* what) {
  if (!status) die(fmt::format("{}: {}", what, status.error().message()));
}

// Random bytes that events are sliced from; their content does not matter to either side.
const Bytes& source_bytes() {
  static const Bytes bytes = [] {
    Bytes b(std::size_t{3} << 20);
    std::mt19937_64 random(42);
    for (std::size_t i = 0; i + 8 <= b.size(); i += 8) {
      const std::uint64_t v = random();
      std::memcpy(b.data() + i, &v, 8);
    }
    return b;
  }();
  return bytes;
}

ByteView event_slice(std::uint64_t index, std::size_t size) {
  const Bytes& source = source_bytes();
  const std::size_t offset = (index * 4099) % (source.size() - size);
  return ByteView(source).subspan(offset, size);
}

// A MySQL-shaped GTID key: a 16-byte source uuid, then the transaction number big-endian.
Bytes gtid_key(std::uint64_t gno) {
  Bytes key(24, 0x3e);
  for (int i = 0; i < 8; ++i)
    key[16 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(gno >> (8 * (7 - i)));
  return key;
}

// Waits for the writer's durable end and queue room.
class Progress {
 public:
  StoreWriter::ProgressCallback callback() {
    return [this](const StoreWriter::Progress& progress) {
      std::lock_guard lock(mutex_);
      if (progress.error) error_ = progress.error->message();
      if (progress.durable_end) durable_ = {progress.durable_end->file_seq, progress.durable_end->position};
      if (progress.synced_end) synced_ = {progress.synced_end->file_seq, progress.synced_end->position};
      changed_.notify_all();
    };
  }
  void wait_durable(std::uint32_t file_seq, std::uint64_t position) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !error_.empty() || durable_ >= std::pair{file_seq, position}; });
    if (!error_.empty()) die(error_);
  }
  // Until the writer reports `position` on disk (Progress::synced_end: what a semi-sync source
  // is acknowledged), which may come before readers see it.
  void wait_synced(std::uint32_t file_seq, std::uint64_t position) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !error_.empty() || synced_ >= std::pair{file_seq, position}; });
    if (!error_.empty()) die(error_);
  }
  void wait_room(StoreWriter& writer) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !error_.empty() || !writer.progress().queue_full; });
    if (!error_.empty()) die(error_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::pair<std::uint32_t, std::uint64_t> durable_{0, 0};
  std::pair<std::uint32_t, std::uint64_t> synced_{0, 0};
  std::string error_;
};

std::string make_dir(const std::string& base, const std::string& name) {
  const std::string path = base + "/" + name;
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

// Writes `total_bytes` of `event_size` events as transactions of `per_transaction` events.
struct AppendResult {
  double seconds = 0;
  double cpu_seconds = 0;  // user + system time of the whole process (every thread)
  std::uint64_t bytes = 0;
  std::uint64_t events = 0;
  std::uint64_t commits = 0;
  std::uint64_t encrypted_ahead = 0;     // event bytes whose AES-CTR the writer's helper did ahead
  std::uint64_t run_macs = 0;            // run MACs of encrypted files
  std::uint64_t macs_while_written = 0;  // of which the helper computed while the round was written
};

AppendResult append_to_store(const std::string& dir, std::size_t event_size, int per_transaction,
                             std::uint64_t total_bytes, std::size_t max_run_bytes) {
  auto store = check(BinlogStore::open(dir, bench_store_options()), "opening the store");
  Progress progress;
  StoreWriter::Options options;
  options.max_run_bytes = max_run_bytes;
  if (g_commit_bytes != 0) options.max_commit_bytes = g_commit_bytes;
  if (g_queue_bytes != 0) options.queue_limit_bytes = g_queue_bytes;
  std::atomic<std::uint64_t> encrypted_ahead{0};
  std::atomic<std::uint64_t> run_macs{0};
  std::atomic<std::uint64_t> macs_while_written{0};
  auto writer = check(StoreWriter::start(*store, options, progress.callback(),
                                         [&](const StoreWriter::CommitStats& stats) {
                                           encrypted_ahead += stats.event_bytes_encrypted_ahead;
                                           run_macs += stats.run_macs;
                                           macs_while_written += stats.run_macs_while_written;
                                         }),
                      "starting the writer");
  AppendResult result;
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  WriteBatch batch;
  batch.begin_file(FileStart{"bench-bin.000001", 4, event_slice(0, 100), {}});
  std::uint64_t position = 4;
  std::uint64_t gno = 0;
  while (result.bytes < total_bytes) {
    const Bytes gtid = gtid_key(++gno);
    for (int i = 0; i < per_transaction; ++i) {
      batch.append(EventAppend{position,
                               event_slice(result.events, event_size),
                               i == per_transaction - 1,
                               i == 0 ? ByteView(gtid) : ByteView(),
                               1'700'000'000,
                               {}});
      position += event_size;
      result.bytes += event_size;
      result.events += 1;
    }
    if (batch.byte_size() >= kBatchBytes || result.bytes >= total_bytes) {
      auto admitted = check(writer->submit(std::move(batch)), "appending");
      batch = writer->take_batch();
      if (admitted.queue_full) progress.wait_room(*writer);
    }
  }
  progress.wait_durable(1, position);
  result.seconds = seconds_since(start);
  result.cpu_seconds = process_cpu_seconds() - cpu_start;
  result.commits = writer->progress().commits;
  check(writer->stop(), "stopping the writer");
  result.encrypted_ahead = encrypted_ahead;
  result.run_macs = run_macs;
  result.macs_while_written = macs_while_written;
  return result;
}

// The same bytes, written sequentially to a plain file in 256 KiB writes, with one fdatasync per
// `sync_every` bytes and a last one at the end.
AppendResult append_to_plain_file(const std::string& path, std::size_t event_size, std::uint64_t total_bytes,
                                  std::uint64_t sync_every) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die(fmt::format("creating {}: {}", path, std::strerror(errno)));
  AppendResult result;
  Bytes buffer;
  buffer.reserve(kBatchBytes + event_size);
  std::uint64_t unsynced = 0;
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  while (result.bytes < total_bytes) {
    const ByteView event = event_slice(result.events, event_size);
    buffer.insert(buffer.end(), event.begin(), event.end());
    result.bytes += event_size;
    result.events += 1;
    if (buffer.size() >= kBatchBytes || result.bytes >= total_bytes) {
      if (::write(fd, buffer.data(), buffer.size()) != static_cast<ssize_t>(buffer.size()))
        die("plain write failed");
      unsynced += buffer.size();
      buffer.clear();
      if (unsynced >= sync_every || result.bytes >= total_bytes) {
        if (::fdatasync(fd) != 0) die("fdatasync failed");
        result.commits += 1;
        unsynced = 0;
      }
    }
  }
  result.seconds = seconds_since(start);
  result.cpu_seconds = process_cpu_seconds() - cpu_start;
  ::close(fd);
  return result;
}

// The same bytes through LMDB alone, without the store: values of about 256 KiB (whole events,
// like the store's runs) appended with MDB_RESERVE, one commit per `sync_every` bytes with
// MDB_NOMETASYNC (one fdatasync per commit, as the store's busy writer) and a final sync. It shows
// what LMDB itself costs against the plain file, apart from the store's own work.
AppendResult append_to_raw_lmdb(const std::string& dir, std::size_t event_size, std::uint64_t total_bytes,
                                std::uint64_t sync_every) {
  LmdbEnv::Options options;
  options.map_size = std::size_t{64} << 30;
  options.flags = MDB_NOMETASYNC;
  auto env = check(LmdbEnv::open(dir, options), "opening a plain LMDB environment");
  const std::size_t per_value = std::max<std::size_t>(1, (std::size_t{256} << 10) / event_size);
  AppendResult result;
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  std::uint64_t key = 0;
  MDB_dbi dbi = 0;
  while (result.bytes < total_bytes) {
    auto txn = check(LmdbTxn::begin_write(env), "beginning");
    if (key == 0) dbi = check(txn.open_database(nullptr, 0), "opening the main database");
    for (std::uint64_t in_commit = 0; in_commit < sync_every && result.bytes < total_bytes;) {
      const std::size_t events = static_cast<std::size_t>(
          std::min<std::uint64_t>(per_value, (total_bytes - result.bytes + event_size - 1) / event_size));
      const std::uint64_t big_endian = __builtin_bswap64(key++);
      auto value = check(txn.reserve(dbi, ByteView(reinterpret_cast<const std::uint8_t*>(&big_endian), 8),
                                     events * event_size, MDB_APPEND),
                         "writing");
      for (std::size_t i = 0; i < events; ++i) {
        const ByteView event = event_slice(result.events++, event_size);
        std::memcpy(value.data() + i * event_size, event.data(), event_size);
      }
      result.bytes += events * event_size;
      in_commit += events * event_size;
    }
    check(txn.commit(), "committing");
    result.commits += 1;
  }
  check(env.sync(true), "syncing");
  result.seconds = seconds_since(start);
  result.cpu_seconds = process_cpu_seconds() - cpu_start;
  return result;
}

std::string size_name(std::size_t bytes) {
  if (bytes >= (1 << 20)) return fmt::format("{} MiB", bytes >> 20);
  if (bytes >= 1024) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} B", bytes);
}

// Lets the filesystem settle between measurements: the previous phase's deletes and writeback.
void settle(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::syncfs(fd);
    ::close(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void bench_append(const std::string& base, std::uint64_t scale_down) {
  constexpr int kRounds = 3;
  std::printf(
      "\n1. Durable append throughput, sync = commit, 1 GiB per measurement, median of %d rounds that\n"
      "   alternate which side goes first. store: the StoreWriter (group commit); plain: 256 KiB writes\n"
      "   with as many fdatasync calls as the store made group commits in that round; LMDB only: the\n"
      "   same bytes as ~256 KiB values through LMDB alone with as many commits (what LMDB itself\n"
      "   costs). CPU s: process CPU seconds (user + system, all threads) per GiB appended.\n\n",
      kRounds);
  std::printf("%-6s %-17s | %9s %10s %7s %6s | %9s %6s | %6s | %9s %6s | %s\n", "event", "store layout",
              "store MB/s", "events/s", "commits", "CPU s", "plain MB/s", "CPU s", "ratio", "LMDB MB/s",
              "CPU s", "ratio per round");
  struct Case {
    std::size_t size;
    int per_transaction;
    std::size_t max_run_bytes;
    const char* label;
  };
  const std::vector<Case> cases = {
      {200, 4, std::size_t{256} << 10, "runs (default)"},
      {200, 4, 1, "one key per event"},
      {2048, 4, std::size_t{256} << 10, "runs (default)"},
      {1 << 20, 1, std::size_t{256} << 10, "runs (default)"},
  };
  for (const Case& c : cases) {
    if (g_only_size != 0 && g_only_size != c.size) continue;
    const std::uint64_t total = (std::uint64_t{1} << 30) / scale_down;
    std::vector<double> store_mbs, plain_mbs, lmdb_mbs, ratios, store_cpu, plain_cpu, lmdb_cpu;
    AppendResult store;
    AppendResult plain;
    AppendResult lmdb;
    for (int round = 0; round < kRounds; ++round) {
      auto run_store = [&] {
        settle(base);
        const std::string dir = make_dir(base, "append-store");
        store = append_to_store(dir, c.size, c.per_transaction, total, c.max_run_bytes);
        std::filesystem::remove_all(dir);
      };
      auto run_plain = [&](std::uint64_t commits) {
        settle(base);
        const std::string path = base + "/append-plain.bin";
        plain = append_to_plain_file(path, c.size, total,
                                     std::max<std::uint64_t>(total / std::max<std::uint64_t>(commits, 1), 1));
        std::filesystem::remove(path);
      };
      auto run_lmdb = [&](std::uint64_t commits) {
        settle(base);
        const std::string dir = make_dir(base, "append-lmdb");
        lmdb = append_to_raw_lmdb(dir, c.size, total,
                                  std::max<std::uint64_t>(total / std::max<std::uint64_t>(commits, 1), 1));
        std::filesystem::remove_all(dir);
      };
      if (round % 2 == 0) {
        run_store();
        run_plain(store.commits);
        run_lmdb(store.commits);
      } else {
        run_lmdb(store.commits);  // the previous round's commit count
        run_plain(store.commits);
        run_store();
      }
      store_mbs.push_back(static_cast<double>(store.bytes) / store.seconds / 1e6);
      plain_mbs.push_back(static_cast<double>(plain.bytes) / plain.seconds / 1e6);
      ratios.push_back(store_mbs.back() / plain_mbs.back());
      store_cpu.push_back(store.cpu_seconds * static_cast<double>(std::uint64_t{1} << 30) /
                          static_cast<double>(store.bytes));
      plain_cpu.push_back(plain.cpu_seconds * static_cast<double>(std::uint64_t{1} << 30) /
                          static_cast<double>(plain.bytes));
      lmdb_mbs.push_back(static_cast<double>(lmdb.bytes) / lmdb.seconds / 1e6);
      lmdb_cpu.push_back(lmdb.cpu_seconds * static_cast<double>(std::uint64_t{1} << 30) /
                         static_cast<double>(lmdb.bytes));
    }
    const double s = median(store_mbs);
    const double p = median(plain_mbs);
    std::printf("%-6s %-17s | %10.0f %10.0f %7llu %6.2f | %10.0f %6.2f | %5.2fx | %9.0f %6.2f | %s\n",
                size_name(c.size).c_str(), c.label, s, s * 1e6 / static_cast<double>(c.size),
                static_cast<unsigned long long>(store.commits), median(store_cpu), p, median(plain_cpu),
                s / p, median(lmdb_mbs), median(lmdb_cpu),
                fmt::format("{:.2f}", fmt::join(ratios, " ")).c_str());
  }
}

std::shared_ptr<const brelay::storage::crypto::MasterKeys> bench_keys() {
  brelay::storage::crypto::MasterKey key;
  key.id = 1;
  key.key.fill(0x5a);
  return std::make_shared<const brelay::storage::crypto::MasterKeys>(
      std::vector<brelay::storage::crypto::MasterKey>{key});
}

// A thread that keeps a core busy for `share` of every 6 ms while it lives: the control of table
// 1b, unrelated load of about the CPU time the encryption adds to an encrypted store's ingest (on a
// virtual machine whose disk shares the guest's CPUs, load alone slows fdatasync).
class SideLoad {
 public:
  explicit SideLoad(double share)
      : thread_([this, busy = std::chrono::duration<double, std::milli>(6 * share)] {
          const auto period = std::chrono::milliseconds(6);
          while (!stop_.load(std::memory_order_relaxed)) {
            const auto start = Clock::now();
            while (Clock::now() - start < busy) {
            }
            std::this_thread::sleep_until(start + period);
          }
        }) {}
  SideLoad(const SideLoad&) = delete;
  SideLoad& operator=(const SideLoad&) = delete;
  ~SideLoad() {
    stop_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Issue 17: durable ingest into an encrypted store against a plain one, the same events through
// the same writer, rotating which goes first (goal: encrypted at least 0.9x of plain), with a
// control: the plain store again while a SideLoad runs.
void bench_encrypted_append(const std::string& base, std::uint64_t scale_down) {
  constexpr int kRounds = 9;
  std::printf(
      "\n1b. Durable append throughput with encryption at rest against without, sync = commit, 1 GiB per\n"
      "   measurement, median of %d rounds that rotate which store goes first (issue 17's goal:\n"
      "   encrypted at least 0.9x of plain). CPU s: process CPU seconds per GiB. ahead: share of the\n"
      "   encrypted bytes whose AES-CTR the writer's crypto helper did while the round before committed.\n"
      "   MACs in write: share of the run MACs the helper computed while their round was written.\n"
      "   Control: the plain store while a thread of the same process spins for the CPU time per GiB\n"
      "   that the encryption added in the runs before (a third of a core until that is known), against\n"
      "   plain; its CPU s include the spinning.\n\n",
      kRounds);
  std::printf("%-6s | %10s %6s | %10s %6s %6s %13s | %6s | %15s %6s %6s | %s\n", "event", "plain MB/s",
              "CPU s", "encr. MB/s", "CPU s", "ahead", "MACs in write", "ratio", "control MB/s", "CPU s",
              "ratio", "ratio per round");
  const auto saved = g_keys;
  for (std::size_t size : {std::size_t{200}, std::size_t{2048}, std::size_t{1} << 20}) {
    if (g_only_size != 0 && g_only_size != size) continue;
    const std::uint64_t total = (std::uint64_t{1} << 30) / scale_down;
    const int per_transaction = size >= (1 << 20) ? 1 : 4;
    enum Kind { kPlain, kEncrypted, kControl };
    std::vector<double> mbs[3], cpu[3], ratios, control_ratios, ahead, in_write, added_share;
    for (int round = 0; round < kRounds; ++round) {
      auto run = [&](Kind kind) {
        g_keys = kind == kEncrypted ? bench_keys() : nullptr;
        settle(base);
        const std::string dir =
            make_dir(base, kind == kEncrypted ? "append-encrypted" : "append-plain-store");
        std::optional<SideLoad> load;
        if (kind == kControl)
          load.emplace(added_share.empty() ? 1.0 / 3 : std::clamp(median(added_share), 0.0, 1.0));
        const AppendResult result =
            append_to_store(dir, size, per_transaction, total, std::size_t{256} << 10);
        load.reset();
        std::filesystem::remove_all(dir);
        const double gib = static_cast<double>(result.bytes) / static_cast<double>(std::uint64_t{1} << 30);
        mbs[kind].push_back(static_cast<double>(result.bytes) / result.seconds / 1e6);
        cpu[kind].push_back(result.cpu_seconds / gib);
        if (kind == kEncrypted) {
          if (!cpu[kPlain].empty())  // CPU seconds the encryption added per second of its run
            added_share.push_back((cpu[kEncrypted].back() - cpu[kPlain].back()) * gib / result.seconds);
          ahead.push_back(static_cast<double>(result.encrypted_ahead) / static_cast<double>(result.bytes));
          in_write.push_back(static_cast<double>(result.macs_while_written) /
                             static_cast<double>(std::max<std::uint64_t>(result.run_macs, 1)));
        }
      };
      for (int turn = 0; turn < 3; ++turn)
        run(static_cast<Kind>((round + turn) % 3));
      ratios.push_back(mbs[kEncrypted].back() / mbs[kPlain].back());
      control_ratios.push_back(mbs[kControl].back() / mbs[kPlain].back());
    }
    std::printf("%-6s | %10.0f %6.2f | %10.0f %6.2f %5.0f%% %12.0f%% | %5.2fx | %15.0f %6.2f %5.2fx | %s\n",
                size_name(size).c_str(), median(mbs[kPlain]), median(cpu[kPlain]), median(mbs[kEncrypted]),
                median(cpu[kEncrypted]), 100 * median(ahead), 100 * median(in_write), median(ratios),
                median(mbs[kControl]), median(cpu[kControl]), median(control_ratios),
                fmt::format("{:.2f}", fmt::join(ratios, " ")).c_str());
  }
  g_keys = saved;
}

struct Percentiles {
  double p50 = 0;
  double p99 = 0;
};

Percentiles percentiles(std::vector<double>& micros) {
  std::sort(micros.begin(), micros.end());
  return {micros[micros.size() / 2], micros[micros.size() * 99 / 100]};
}

// A raw LMDB environment with LMDB's default two syncs per commit, for the latency table.
struct RawLmdb {
  explicit RawLmdb(const std::string& dir) {
    LmdbEnv::Options options;
    options.map_size = std::size_t{1} << 30;
    env.emplace(check(LmdbEnv::open(dir, options), "opening a plain LMDB environment"));
    auto txn = check(LmdbTxn::begin_write(*env), "beginning");
    dbi = check(txn.open_database(nullptr, 0), "opening the main database");
    check(txn.commit(), "committing");
  }
  void commit(std::uint64_t round, ByteView value) {
    auto txn = check(LmdbTxn::begin_write(*env), "beginning");
    const std::uint64_t key = __builtin_bswap64(round);
    check(txn.put(dbi, ByteView(reinterpret_cast<const std::uint8_t*>(&key), 8), value, MDB_APPEND),
          "writing");
    check(txn.commit(), "committing");
  }
  std::optional<LmdbEnv> env;
  MDB_dbi dbi = 0;
};

// Lone commits, each measured against one write + fdatasync of the same 600 bytes and a raw LMDB
// commit in the same round (interleaved, so that the disk's other load falls on all of them alike).
void bench_latency(const std::string& base, std::uint64_t scale_down) {
  const int rounds = static_cast<int>(2000 / scale_down);
  std::printf(
      "\n2. Commit latency of single small transactions (3 events of 200 B), %d rounds, interleaved\n\n",
      rounds);
  std::printf("%-60s %10s %10s\n", "", "p50 us", "p99 us");
  std::vector<double> store_us, readable_us, lmdb_us, plain_us;
  const std::string store_dir = make_dir(base, "latency-store");
  const std::string lmdb_dir = make_dir(base, "latency-lmdb");
  const std::string plain_path = base + "/latency-plain.bin";
  {
    auto store = check(BinlogStore::open(store_dir, bench_store_options()), "opening the store");
    Progress progress;
    auto writer = check(StoreWriter::start(*store, {}, progress.callback()), "starting the writer");
    RawLmdb lmdb(lmdb_dir);
    const int fd = ::open(plain_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("creating the latency file");
    std::uint64_t position = 4;
    WriteBatch first;
    first.begin_file(FileStart{"bench-bin.000001", 4, event_slice(0, 100), {}});
    check(writer->submit(std::move(first)), "beginning a file");
    for (int r = 0; r < rounds; ++r) {
      const Bytes gtid = gtid_key(static_cast<std::uint64_t>(r) + 1);
      WriteBatch batch;
      for (int i = 0; i < 3; ++i) {
        batch.append(EventAppend{position,
                                 event_slice(static_cast<std::uint64_t>(r * 3 + i), 200),
                                 i == 2,
                                 i == 0 ? ByteView(gtid) : ByteView(),
                                 1'700'000'000,
                                 {}});
        position += 200;
      }
      const auto start = Clock::now();
      check(writer->submit(std::move(batch)), "appending");
      progress.wait_synced(1, position);
      store_us.push_back(seconds_since(start) * 1e6);
      progress.wait_durable(1, position);
      readable_us.push_back(seconds_since(start) * 1e6);

      // The raw LMDB commit first: it overlaps what the writer still does after publishing (a
      // lone round's meta-page sync), which the next store round and the plain file must not meet.
      const ByteView bytes = event_slice(static_cast<std::uint64_t>(r), 600);
      const auto lmdb_start = Clock::now();
      lmdb.commit(static_cast<std::uint64_t>(r), bytes);
      lmdb_us.push_back(seconds_since(lmdb_start) * 1e6);
      std::this_thread::sleep_for(std::chrono::microseconds(500));

      const auto plain_start = Clock::now();
      if (::write(fd, bytes.data(), bytes.size()) != 600 || ::fdatasync(fd) != 0) die("plain write failed");
      plain_us.push_back(seconds_since(plain_start) * 1e6);
    }
    ::close(fd);
    check(writer->stop(), "stopping the writer");
  }
  std::filesystem::remove_all(store_dir);
  std::filesystem::remove_all(lmdb_dir);
  std::filesystem::remove(plain_path);
  const Percentiles store = percentiles(store_us);
  const Percentiles readable = percentiles(readable_us);
  const Percentiles lmdb = percentiles(lmdb_us);
  const Percentiles plain = percentiles(plain_us);
  std::printf("%-60s %10.0f %10.0f\n", "store: submit -> durable (semi-sync acknowledgement)", store.p50,
              store.p99);
  std::printf("%-60s %10.0f %10.0f\n", "store: submit -> visible to readers", readable.p50, readable.p99);
  std::printf("%-60s %10.0f %10.0f\n", "raw LMDB commit, default sync (data sync + meta sync)", lmdb.p50,
              lmdb.p99);
  std::printf("%-60s %10.0f %10.0f\n", "plain file: write 600 B + one fdatasync", plain.p50, plain.p99);
  std::printf("%-60s %9.2fx %9.2fx\n", "store durable / one fdatasync (goal: p50 <= 1.3x)",
              store.p50 / plain.p50, store.p99 / plain.p99);
  std::printf("%-60s %9.2fx %9.2fx\n", "store visible / one fdatasync", readable.p50 / plain.p50,
              readable.p99 / plain.p99);
}

// The seek and read store: `events` events of 100..300 bytes in transactions of 4, files of 256 MiB,
// written with sync = none; the same bytes also go to a plain file for the read baseline.
struct SeekStore {
  std::vector<std::string> files;
  std::vector<std::uint8_t> event_file;  // per event: index in files
  std::vector<std::uint32_t> event_position;
  std::uint64_t transactions = 0;
  std::uint64_t bytes = 0;
  double build_seconds = 0;
};

SeekStore build_seek_store(const std::string& dir, const std::string& plain_path, std::uint64_t events,
                           std::size_t max_run_bytes) {
  StoreOptions store_options;
  store_options.sync = SyncMode::kNone;
  auto store = check(BinlogStore::open(dir, store_options), "opening the store");
  Progress progress;
  StoreWriter::Options options;
  options.max_run_bytes = max_run_bytes;
  auto writer = check(StoreWriter::start(*store, options, progress.callback()), "starting the writer");
  const int plain =
      plain_path.empty() ? -1 : ::open(plain_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  SeekStore seek;
  seek.event_file.reserve(events);
  seek.event_position.reserve(events);
  std::mt19937_64 random(7);
  const auto start = Clock::now();
  WriteBatch batch;
  std::uint64_t position = 0;
  std::uint32_t file_seq = 0;
  Bytes plain_buffer;
  for (std::uint64_t e = 0; e < events;) {
    if (seek.files.empty() || position >= (std::uint64_t{256} << 20)) {
      if (!seek.files.empty()) batch.end_file();
      seek.files.push_back(fmt::format("bench-bin.{:06}", seek.files.size() + 1));
      batch.begin_file(FileStart{seek.files.back(), 4, event_slice(0, 100), {}});
      position = 4;
      file_seq += 1;
    }
    const Bytes gtid = gtid_key(++seek.transactions);
    for (int i = 0; i < 4 && e < events; ++i, ++e) {
      const std::size_t size = 100 + random() % 201;
      const ByteView event = event_slice(e, size);
      const bool last = i == 3 || e + 1 == events;
      batch.append(
          EventAppend{position, event, last, i == 0 ? ByteView(gtid) : ByteView(), 1'700'000'000, {}});
      seek.event_file.push_back(static_cast<std::uint8_t>(seek.files.size() - 1));
      seek.event_position.push_back(static_cast<std::uint32_t>(position));
      if (plain >= 0) plain_buffer.insert(plain_buffer.end(), event.begin(), event.end());
      position += size;
      seek.bytes += size;
    }
    if (batch.byte_size() >= kBatchBytes || e == events) {
      auto admitted = check(writer->submit(std::move(batch)), "appending");
      batch = writer->take_batch();
      if (admitted.queue_full) progress.wait_room(*writer);
      if (plain >= 0) {
        if (::write(plain, plain_buffer.data(), plain_buffer.size()) !=
            static_cast<ssize_t>(plain_buffer.size())) {
          die("plain write failed");
        }
        plain_buffer.clear();
      }
    }
  }
  progress.wait_durable(file_seq, position);
  check(writer->stop(), "stopping the writer");
  if (plain >= 0) ::close(plain);
  seek.build_seconds = seconds_since(start);
  return seek;
}

void bench_seek_and_read(const std::string& base, std::uint64_t events, std::size_t max_run_bytes,
                         const char* label, bool with_baseline) {
  const std::string dir = make_dir(base, "seek-store");
  const std::string plain_path = with_baseline ? base + "/seek-plain.bin" : std::string();
  const SeekStore seek = build_seek_store(dir, plain_path, events, max_run_bytes);
  auto store = check(BinlogStore::open(dir), "reopening the store");
  auto stats = check(store->stats(), "reading the store's figures");
  std::printf(
      "\n   %s: %llu events, %llu transactions, %zu files, %.2f GB of events, data file %.2f GB, built in "
      "%.1f s\n",
      label, static_cast<unsigned long long>(events), static_cast<unsigned long long>(seek.transactions),
      seek.files.size(), static_cast<double>(seek.bytes) / 1e9,
      static_cast<double>(stats.data_file_bytes) / 1e9, seek.build_seconds);

  std::optional<StoreReader> opened_reader = check(StoreReader::open(*store), "opening a reader");
  StoreReader& reader = *opened_reader;
  std::mt19937_64 random(11);
  const int seeks = 200'000;
  std::vector<double> by_position;
  std::vector<double> by_gtid;
  std::vector<double> seek_and_read;
  by_position.reserve(seeks);
  for (int i = 0; i < seeks; ++i) {
    const std::uint64_t e = random() % events;
    const std::string& file = seek.files[seek.event_file[e]];
    const auto start = Clock::now();
    check(reader.seek(file, seek.event_position[e]), "seeking by position");
    by_position.push_back(seconds_since(start) * 1e6);
  }
  for (int i = 0; i < seeks; ++i) {
    const Bytes gtid = gtid_key(1 + random() % seek.transactions);
    const auto start = Clock::now();
    check(reader.seek_gtid(gtid), "seeking by GTID");
    by_gtid.push_back(seconds_since(start) * 1e6);
  }
  for (int i = 0; i < seeks; ++i) {
    const std::uint64_t e = random() % events;
    const auto start = Clock::now();
    check(reader.seek(seek.files[seek.event_file[e]], seek.event_position[e]), "seeking by position");
    auto batch = check(reader.read(1), "reading");
    if (batch.runs.empty() || batch.runs[0].event_count() == 0) die("nothing read after a seek");
    reader.release();
    seek_and_read.push_back(seconds_since(start) * 1e6);
  }
  const Percentiles p = percentiles(by_position);
  const Percentiles g = percentiles(by_gtid);
  const Percentiles r = percentiles(seek_and_read);
  std::printf("   %-46s %10.2f %10.2f\n", "seek by (file, position)", p.p50, p.p99);
  std::printf("   %-46s %10.2f %10.2f\n", "seek by GTID", g.p50, g.p99);
  std::printf("   %-46s %10.2f %10.2f\n", "seek by (file, position) + first read", r.p50, r.p99);

  // Sequential reads from the warm store: one pass to warm the page cache and the mapping, then the
  // timed passes.
  auto read_all = [&](int mode) {
    std::uint64_t total = 0;
    std::uint64_t sum = 0;
    check(reader.seek_oldest(), "seeking to the oldest file");
    const auto start = Clock::now();
    while (true) {
      auto batch = check(reader.read(std::size_t{4} << 20), "reading");
      if (batch.at_durable_end) break;
      for (const EventRun& run : batch.runs) {
        const ByteView bytes = run.bytes();
        if (mode == 1) {
          for (std::size_t i = 0; i < run.event_count(); ++i)
            sum += run.event(i).size();
        } else if (mode == 2) {
          std::size_t i = 0;
          for (; i + 8 <= bytes.size(); i += 8) {
            std::uint64_t word;
            std::memcpy(&word, bytes.data() + i, 8);
            sum += word;
          }
          for (; i < bytes.size(); ++i)
            sum += bytes[i];
        }
        total += bytes.size();
      }
      reader.consume(batch.bytes);
    }
    reader.release();
    const double seconds = seconds_since(start);
    if (total != seek.bytes) die(fmt::format("read {} bytes, stored {}", total, seek.bytes));
    g_sink = g_sink + sum;
    return static_cast<double>(total) / seconds / 1e9;
  };
  read_all(2);
  const double views = read_all(0);
  const double per_event = read_all(1);
  const double every_byte = read_all(2);

  double plain_gbs = 0;
  if (with_baseline) {
    const int fd = ::open(plain_path.c_str(), O_RDONLY | O_CLOEXEC);
    Bytes buffer(std::size_t{4} << 20);
    auto pread_all = [&] {
      std::uint64_t sum = 0;
      std::uint64_t total = 0;
      const auto start = Clock::now();
      while (true) {
        const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(total));
        if (n <= 0) break;
        const std::size_t got = static_cast<std::size_t>(n);
        std::size_t i = 0;
        for (; i + 8 <= got; i += 8) {
          std::uint64_t word;
          std::memcpy(&word, buffer.data() + i, 8);
          sum += word;
        }
        for (; i < got; ++i)
          sum += buffer[i];
        total += got;
      }
      g_sink = g_sink + sum;
      return static_cast<double>(total) / seconds_since(start) / 1e9;
    };
    pread_all();
    plain_gbs = pread_all();
    ::close(fd);
    std::filesystem::remove(plain_path);
  }
  std::printf("   %-46s %10.2f GB/s\n", "sequential read, views only (runs handed out)", views);
  std::printf("   %-46s %10.2f GB/s\n", "sequential read, walking every event", per_event);
  std::printf("   %-46s %10.2f GB/s", "sequential read, touching every byte", every_byte);
  if (with_baseline) {
    std::printf("   (plain file pread + the same touch: %.2f GB/s, ratio %.2fx)", plain_gbs,
                every_byte / plain_gbs);
  }
  std::printf("\n");
  opened_reader.reset();
  store.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp != nullptr && *tmp ? tmp : "/tmp";
  std::uint64_t scale_down = 1;
  std::uint64_t events = 10'000'000;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      base = argv[++i];
    } else if (arg == "--quick") {
      scale_down = 10;
    } else if (arg == "--events" && i + 1 < argc) {
      events = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (arg == "--event-size" && i + 1 < argc) {
      g_only_size = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--commit-kib" && i + 1 < argc) {
      g_commit_bytes = std::strtoull(argv[++i], nullptr, 10) << 10;
    } else if (arg == "--queue-kib" && i + 1 < argc) {
      g_queue_bytes = std::strtoull(argv[++i], nullptr, 10) << 10;
    } else if (arg == "--encrypted") {
      g_keys = bench_keys();
    } else {
      die("usage: store_bench [--dir DIR] [--quick] [--events N] [--only append|encryption|latency|seek] "
          "[--event-size N] [--commit-kib N] [--queue-kib N] [--encrypted]");
    }
  }
  if (scale_down != 1 && events == 10'000'000) events /= scale_down;
  base += "/brelay-store-bench";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  struct statvfs fs {};
  statvfs(base.c_str(), &fs);
  std::printf("binlog-relay store benchmark in %s (%.0f GB free), %u cores\n", base.c_str(),
              static_cast<double>(fs.f_bavail) * fs.f_frsize / 1e9, std::thread::hardware_concurrency());

  if (only.empty() || only == "append") bench_append(base, scale_down);
  if (only.empty() || only == "encryption") bench_encrypted_append(base, scale_down);
  if (only.empty() || only == "latency") bench_latency(base, scale_down);
  if (only.empty() || only == "seek") {
    std::printf("\n3./4. Seeks (200000 random, p50 / p99 in us) and sequential reads from a warm store\n");
    bench_seek_and_read(base, events, std::size_t{256} << 10, "runs (default)", true);
    bench_seek_and_read(base, events, 1, "one key per event", false);
  }
  std::filesystem::remove_all(base);
  return 0;
}
