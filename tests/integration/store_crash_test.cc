// Crash test for the binlog store: a child process (store_crash_child) appends the CrashStream with
// sync = commit as fast as it can and is killed with SIGKILL at a random moment, 50 times over the
// same store. After each kill the store is reopened (recovery runs) and must hold exactly a prefix
// of the stream, end on a transaction boundary, and contain everything the child was told was
// durable, byte for byte.
//
// BRELAY_CRASH_SEED=<n> repeats a run (the seed is printed).
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "storage/binlog_store.h"
#include "storage/lmdb_cursor.h"
#include "storage/lmdb_txn.h"
#include "storage/store_format.h"
#include "storage/store_internals.h"
#include "storage/store_reader.h"
#include "tests/integration/store_crash_options.h"
#include "tests/integration/store_crash_stream.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

using storage::BinlogStore;

struct ToldDurable {
  std::string file;
  std::uint64_t position = 0;
  std::uint64_t gtid = 0;
};

// Orders places in the stream: file number, then position.
std::pair<std::uint64_t, std::uint64_t> stream_order(const std::string& file, std::uint64_t position) {
  return {CrashStream::file_number(file), position};
}

std::optional<ToldDurable> last_report(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  std::optional<ToldDurable> last;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (lines.eof()) break;  // a line cut by the kill has no newline
    std::istringstream fields(line);
    ToldDurable told;
    if (fields >> told.file >> told.position >> told.gtid) last = told;
  }
  return last;
}

struct Verified {
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;
  std::uint64_t transactions = 0;
};

// Reads the whole store and compares it with the regenerated stream, event by event.
Result<Verified> verify_prefix(BinlogStore& store) {
  Verified verified;
  const auto end = store.durable_end();
  if (!end) return verified;
  BRELAY_ASSIGN_OR_RETURN(storage::StoreReader reader, storage::StoreReader::open(store));
  BRELAY_TRY(reader.seek_oldest());
  CrashStream stream;
  const CrashStream::Item* expected = &stream.next();
  bool last_was_boundary = false;
  std::uint64_t last_gtid_completed = 0;
  std::uint64_t open_gtid = 0;
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(storage::ReadBatch batch, reader.read(4 << 20));
    for (const storage::EventRun& run : batch.runs) {
      for (std::size_t i = 0; i < run.event_count(); ++i) {
        while (expected->kind != CrashStream::Item::Kind::kEvent)
          expected = &stream.next();
        const ByteView event = run.event(i);
        if (reader.file().name != expected->file || run.event_position(i) != expected->position ||
            !std::ranges::equal(event, expected->bytes)) {
          return make_error("stored event {} ({}:{}, {} bytes) differs from the stream's {}:{} ({} bytes)",
                            verified.events, reader.file().name, run.event_position(i), event.size(),
                            expected->file, expected->position, expected->bytes.size());
        }
        if (expected->gtid != 0) open_gtid = expected->gtid;
        if (expected->boundary && open_gtid != 0) {
          last_gtid_completed = open_gtid;
          open_gtid = 0;
          verified.transactions += 1;
        }
        last_was_boundary = expected->boundary;
        verified.events += 1;
        verified.bytes += event.size();
        expected = &stream.next();
      }
    }
    reader.consume(batch.bytes);
    if (batch.at_durable_end) break;
  }
  reader.release();
  if (verified.events > 0 && !last_was_boundary)
    return make_error("the stored stream ends inside a transaction");
  if (reader.file().name != end->file || reader.position() != end->position) {
    return make_error("reading stopped at {}:{} but the durable end is {}:{}", reader.file().name,
                      reader.position(), end->file, end->position);
  }
  if (CrashStream::gtid_key(last_gtid_completed) != end->last_gtid && last_gtid_completed != 0) {
    return make_error("the durable end names the wrong last GTID");
  }
  return verified;
}

// Looks at the closed store's databases directly: nothing may lie after the durable end.
Status check_nothing_after(const std::string& data_dir, const storage::ResumePoint& end) {
  storage::LmdbEnv::Options options;
  options.map_size = std::size_t{1} << 30;
  options.flags = MDB_RDONLY;
  BRELAY_ASSIGN_OR_RETURN(storage::LmdbEnv env, storage::LmdbEnv::open(data_dir, options));
  BRELAY_ASSIGN_OR_RETURN(storage::LmdbTxn txn, storage::LmdbTxn::begin_read(env));
  const storage::EventKey limit{end.file_seq, end.position};
  for (const char* name : {storage::db_name::kEvents, storage::db_name::kGtidPositions}) {
    BRELAY_ASSIGN_OR_RETURN(MDB_dbi dbi, txn.open_database(name, 0));
    BRELAY_ASSIGN_OR_RETURN(storage::LmdbCursor cursor, storage::LmdbCursor::open(txn, dbi));
    BRELAY_ASSIGN_OR_RETURN(auto last, cursor.last());
    if (!last) continue;
    BRELAY_ASSIGN_OR_RETURN(storage::EventKey key, storage::EventKey::decode(last->key));
    if (key >= limit) return make_error("'{}' holds an entry at or after the durable end", name);
    if (name == std::string_view(storage::db_name::kEvents)) {
      BRELAY_ASSIGN_OR_RETURN(storage::RunView run, storage::RunView::parse(last->value));
      if (key.file_seq != limit.file_seq || key.position + run.payload_size() != limit.position) {
        return make_error("the last stored run ends at #{}:{}, not at the durable end #{}:{}", key.file_seq,
                          key.position + run.payload_size(), limit.file_seq, limit.position);
      }
    }
  }
  BRELAY_ASSIGN_OR_RETURN(MDB_dbi files, txn.open_database(storage::db_name::kFiles, 0));
  BRELAY_ASSIGN_OR_RETURN(storage::LmdbCursor cursor, storage::LmdbCursor::open(txn, files));
  BRELAY_ASSIGN_OR_RETURN(auto newest, cursor.last());
  if (newest) {
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, storage::decode_file_key(newest->key));
    if (seq != end.file_seq) return make_error("a file was begun after the durable end's file");
  }
  return {};
}

bool wait_for_report(const std::string& path, Process& child) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = read_file(path);
    if (text && text->find('\n') != std::string::npos) return true;
    if (!child.running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// `kills` SIGKILLs of the child (store_crash_child in `mode`: "" appends as fast as it can, "lone"
// one transaction at a time, "compress" compresses sealed files meanwhile) over one store, each at a
// random moment up to `max_delay_us` after it started (or after its first report).
struct KillCounts {
  int rounds_with_compressed_files = 0;    // the reopened store held compressed files
  int kills_during_a_compression = 0;      // a .events.zst the index did not name yet was on disk
  int kills_between_index_and_unlink = 0;  // a compressed file's .events was still on disk
  // The most keystream segments (positions written again under a fresh nonce) the file records of
  // an encrypted store held after a kill: bytes under them read back identical.
  std::size_t keystream_segments = 0;
  // Kills that left a reported round only its commit record held (a lone commit's index lost).
  int recovered_from_records = 0;
};

// What the kill left of compressions in flight: files on disk against what the index names.
void count_compression_leftovers(const std::string& data, bool encrypted, KillCounts& counts) {
  auto store = BinlogStore::open(data, crash_store_options(encrypted, true));
  if (!store) return;
  auto files = (*store)->list_files();
  if (!files) return;
  for (const storage::FileInfo& file : *files) {
    const std::string base = fmt::format("{}/events/{:010}", data, file.seq);
    const bool zst = std::filesystem::exists(base + ".events.zst");
    const bool events = std::filesystem::exists(base + ".events");
    if (file.compressed_bytes == 0 && zst) ++counts.kills_during_a_compression;
    if (file.compressed_bytes > 0 && events) ++counts.kills_between_index_and_unlink;
  }
  if (!encrypted) return;
  std::size_t segments = 0;
  Status counted = [&]() -> Status {
    BRELAY_ASSIGN_OR_RETURN(auto txn, storage::LmdbTxn::begin_read((*store)->internals().env()));
    BRELAY_ASSIGN_OR_RETURN(auto cursor, storage::LmdbCursor::open(txn, (*store)->internals().dbs().files));
    BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.first());
    while (entry) {
      BRELAY_ASSIGN_OR_RETURN(auto record, storage::FileRecordView::decode(entry->value));
      if (record.encryption) segments += record.encryption->segments.size();
      BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    return {};
  }();
  EXPECT_TRUE(counted) << counted.error().message();
  counts.keystream_segments = std::max(counts.keystream_segments, segments);
}

void kill_repeatedly(int kills, const std::string& mode, int max_delay_us, KillCounts& counts) {
  std::uint64_t seed = std::random_device{}();
  if (const char* fixed = std::getenv("BRELAY_CRASH_SEED")) seed = std::strtoull(fixed, nullptr, 10);
  std::printf("BRELAY_CRASH_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);

  auto dir = TempDir::create("store-crash");
  ASSERT_TRUE(dir);
  const std::string data = dir->file("data");
  std::optional<ToldDurable> told_ever;
  Verified verified;
  int killed_before_any_report = 0;
  int& recovered_from_records = counts.recovered_from_records;
  const bool encrypted = mode.starts_with("encrypted");
  for (int round = 0; round < kills; ++round) {
    SCOPED_TRACE(fmt::format("round {} (seed {})", round, seed));
    const std::string report = dir->file(fmt::format("report-{}", round));
    const std::string errors = dir->file(fmt::format("child-{}.err", round));
    ProcessOptions options;
    options.argv = {BRELAY_STORE_CRASH_CHILD, data};
    if (!mode.empty()) options.argv.push_back(mode);
    options.stdout_path = report;
    options.stderr_path = errors;
    auto child = Process::start(options);
    EXPECT_TRUE(child) << child.error().message();
    if (!child) return;
    // Half the kills land at any moment from the start (opening, recovery, the first commits), half
    // while the child is busy appending after its first durable report.
    const bool wait_for_first_report = round % 2 == 1;
    if (wait_for_first_report && !wait_for_report(report, *child)) {
      ADD_FAILURE() << read_file(errors).value_or("");
      return;
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, max_delay_us)(random)));
    child->signal(SIGKILL);
    auto status = child->wait(std::chrono::seconds(30));
    if (!status || *status != 128 + SIGKILL) {
      ADD_FAILURE() << "the child died on its own: " << read_file(errors).value_or("");
      return;
    }
    count_compression_leftovers(data, encrypted, counts);

    const auto told = last_report(report);
    if (told) told_ever = told;
    if (!told) ++killed_before_any_report;

    if (told_ever) {
      // What the index alone holds (a read-only open does not recover): behind what the child was
      // told when the kill fell between a lone commit's sync and its index commit.
      auto before = BinlogStore::open(data, crash_store_options(encrypted, true));
      EXPECT_TRUE(before) << before.error().message();
      if (!before) return;
      const auto indexed = (*before)->durable_end();
      if (!indexed || stream_order(indexed->file, indexed->position) <
                          stream_order(told_ever->file, told_ever->position)) {
        ++recovered_from_records;
      }
    }
    auto store = BinlogStore::open(data, crash_store_options(encrypted));
    EXPECT_TRUE(store) << store.error().message();
    if (!store) return;
    const auto end = (*store)->durable_end();
    if (auto stats = (*store)->stats(); stats && stats->compressed_files > 0)
      ++counts.rounds_with_compressed_files;
    if (told_ever && !end) {
      ADD_FAILURE() << "the child was told " << told_ever->file << ":" << told_ever->position
                    << " was durable, but the store is empty";
      return;
    }
    if (told_ever) {
      EXPECT_GE(stream_order(end->file, end->position), stream_order(told_ever->file, told_ever->position))
          << "lost durable data: told " << told_ever->file << ":" << told_ever->position << ", store ends at "
          << end->file << ":" << end->position;
    }
    auto checked = verify_prefix(**store);
    EXPECT_TRUE(checked) << checked.error().message();
    if (!checked) return;
    EXPECT_GE(checked->events, verified.events) << "the store shrank";
    verified = *checked;
    store->reset();
    if (end) {
      auto physical = check_nothing_after(data, *end);
      EXPECT_TRUE(physical) << physical.error().message();
      if (!physical) return;
    }
  }
  std::printf(
      "%d kills: the store holds %llu events, %llu transactions, %llu bytes; %d kills came before any "
      "durable report; %d left a reported round that only its commit record held\n",
      kills, static_cast<unsigned long long>(verified.events),
      static_cast<unsigned long long>(verified.transactions), static_cast<unsigned long long>(verified.bytes),
      killed_before_any_report, recovered_from_records);
  if (mode.ends_with("compress")) {
    std::printf(
        "compression: %d rounds reopened a store with compressed files; %d kills fell inside a compression "
        "(its .events.zst not indexed yet), %d between its index commit and the removal of the event file\n",
        counts.rounds_with_compressed_files, counts.kills_during_a_compression,
        counts.kills_between_index_and_unlink);
  }
  if (encrypted) {
    std::printf("encryption: up to %zu keystream segments (positions written again under a fresh nonce)\n",
                counts.keystream_segments);
  }
  EXPECT_GT(verified.transactions, 0u);
}

TEST(StoreCrash, SigkillAtRandomMomentsKeepsExactlyADurablePrefixEndingOnABoundary) {
  KillCounts counts;
  kill_repeatedly(50, "", 60'000, counts);
}

// Lone commits (issue 17): each transaction is reported on disk after one sync of its event file
// and commit record, before its index commit; kills between the two lose and duplicate nothing.
TEST(StoreCrash, SigkillBetweenALoneCommitsSyncAndItsIndexCommitLosesAndDuplicatesNothing) {
  KillCounts counts;
  kill_repeatedly(40, "lone", 30'000, counts);
  EXPECT_GT(counts.recovered_from_records, 0);
}

// The same on an encrypted store: a lone round's commit record is sealed with a MAC over its stored
// bytes, and recovery indexes the round again from it (decrypted, its run MACs made again).
TEST(StoreCrash, SigkillBetweenAnEncryptedLoneCommitsSyncAndItsIndexCommitLosesAndDuplicatesNothing) {
  KillCounts counts;
  kill_repeatedly(30, "encrypted-lone", 30'000, counts);
  EXPECT_GT(counts.recovered_from_records, 0);
}

// Compression (issue 17): a second thread compresses each file as soon as it is sealed, so kills
// fall before, inside and after compressions and swaps; nothing is lost or duplicated and every
// byte reads back identical from whichever form the index names.
TEST(StoreCrash, SigkillsDuringCompressionOfSealedFilesLoseAndDuplicateNothing) {
  KillCounts counts;
  kill_repeatedly(50, "compress", 60'000, counts);
  EXPECT_GT(counts.rounds_with_compressed_files, 0);
  EXPECT_GT(counts.kills_during_a_compression, 0);
}

// The same on an encrypted store (compress, then encrypt; the runs' MACs checked when a file is read
// for compression): recovery needs the key and keeps exactly the durable prefix, and the positions
// a restarted child writes again (under keystream segments) read back identical.
TEST(StoreCrash, SigkillsDuringCompressionOfAnEncryptedStoreLoseAndDuplicateNothing) {
  KillCounts counts;
  kill_repeatedly(30, "encrypted-compress", 60'000, counts);
  EXPECT_GT(counts.rounds_with_compressed_files, 0);
  EXPECT_GT(counts.kills_during_a_compression, 0);
  EXPECT_GT(counts.keystream_segments, 0u);
}

}  // namespace
}  // namespace brelay::testing
