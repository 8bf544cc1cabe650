// Compression of sealed files (issue 17, storage/compression.h): the format's compression part and
// frames, the swap by the crash rule, readers before, during and after it, damage, purge, keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>

#include "storage/compression.h"
#include "storage/frame_codec.h"
#include "storage/lmdb_cursor.h"
#include "storage/lmdb_txn.h"
#include "storage/retention.h"
#include "storage/store_databases.h"
#include "storage/store_format.h"
#include "storage/store_internals.h"
#include "storage/store_reader.h"
#include "storage/store_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/store_test_stream.h"

namespace brelay::storage {
namespace {

namespace fs = std::filesystem;
using testing::ProgressLog;
using testing::TestStream;

std::shared_ptr<const crypto::MasterKeys> test_keys() {
  crypto::MasterKey key;
  key.id = 3;
  key.key.fill(0x5a);
  return std::make_shared<const crypto::MasterKeys>(std::vector<crypto::MasterKey>{key});
}

StoreOptions options_with(std::shared_ptr<const crypto::MasterKeys> keys) {
  StoreOptions options;
  options.master_keys = std::move(keys);
  return options;
}

struct Written {
  testing::TempDir dir;
  std::string data;
  TestStream stream;
};

// Four files (three sealed) of transactions of mixed sizes, one event larger than a frame.
Written write_store(const std::shared_ptr<const crypto::MasterKeys>& keys) {
  auto dir = testing::TempDir::create("store-compression");
  EXPECT_TRUE(dir);
  Written w{std::move(dir).value(), "", TestStream()};
  w.data = w.dir.file("data");
  auto store = BinlogStore::open(w.data, options_with(keys));
  EXPECT_TRUE(store) << store.error().message();
  ProgressLog log;
  StoreWriter::Options writer_options;
  writer_options.max_run_bytes = 3000;
  auto writer = StoreWriter::start(**store, writer_options, log.callback());
  EXPECT_TRUE(writer) << writer.error().message();
  for (int file = 0; file < 4; ++file) {
    WriteBatch batch;
    w.stream.begin_file(batch);
    for (int i = 0; i < 40; ++i)
      w.stream.transaction(batch, 3, 150 + 40 * (i % 5));
    if (file == 1) w.stream.transaction(batch, 1, 20000);
    if (file < 3) w.stream.end_file(batch);
    EXPECT_TRUE((*writer)->submit(std::move(batch)));
  }
  EXPECT_TRUE(log.wait_durable(w.stream.current_file(), w.stream.next_position()));
  EXPECT_TRUE((*writer)->stop());
  return w;
}

CompressionOptions small_frames() {
  CompressionOptions options;
  options.frame_bytes = 4096;
  return options;
}

std::size_t count_files(const std::string& data, std::string_view suffix) {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(data + "/events"))
    count += entry.path().filename().string().ends_with(suffix) ? 1 : 0;
  return count;
}

// The file of the first frame the index holds; nullopt when it holds none.
Result<std::optional<std::uint32_t>> first_frame_file(BinlogStore& store) {
  BRELAY_ASSIGN_OR_RETURN(auto txn, LmdbTxn::begin_read(store.internals().env()));
  BRELAY_ASSIGN_OR_RETURN(auto frames, LmdbCursor::open(txn, *store.internals().dbs().frames));
  BRELAY_ASSIGN_OR_RETURN(auto first, frames.first());
  if (!first) return std::optional<std::uint32_t>();
  BRELAY_ASSIGN_OR_RETURN(EventKey key, EventKey::decode(first->key));
  return std::optional<std::uint32_t>(key.file_seq);
}

// The entries of file `seq` in `dbi`, a database keyed by EventKey (key and value), read in one
// snapshot.
Result<std::vector<std::pair<Bytes, Bytes>>> entries_of(BinlogStore& store, MDB_dbi dbi, std::uint32_t seq) {
  BRELAY_ASSIGN_OR_RETURN(auto txn, LmdbTxn::begin_read(store.internals().env()));
  BRELAY_ASSIGN_OR_RETURN(auto cursor, LmdbCursor::open(txn, dbi));
  std::vector<std::pair<Bytes, Bytes>> found;
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.seek(EventKey{seq, 0}.encode()));
  while (entry && EventKey::decode(entry->key).value_or(EventKey{}).file_seq == seq) {
    found.emplace_back(Bytes(entry->key.begin(), entry->key.end()),
                       Bytes(entry->value.begin(), entry->value.end()));
    BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return found;
}

Result<std::vector<std::pair<Bytes, Bytes>>> runs_of(BinlogStore& store, std::uint32_t seq) {
  return entries_of(store, store.internals().dbs().events, seq);
}

Result<std::vector<std::pair<Bytes, Bytes>>> gtid_positions_of(BinlogStore& store, std::uint32_t seq) {
  return entries_of(store, store.internals().dbs().gtid_positions, seq);
}

// The GTID list of file `seq` (format version 5); nullopt when it has none.
// Whether file `seq`'s record is encrypted with the keystream part (store format 6).
Result<bool> has_keystream_part(BinlogStore& store, std::uint32_t seq) {
  BRELAY_ASSIGN_OR_RETURN(auto txn, LmdbTxn::begin_read(store.internals().env()));
  BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(store.internals().dbs().files, encode_file_key(seq)));
  if (!value) return make_error("no record for file {}", seq);
  BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(*value));
  return record.encryption && record.encryption->keystream_part;
}

Result<std::optional<std::vector<GtidListEntry>>> gtid_list_of(BinlogStore& store, std::uint32_t seq) {
  BRELAY_ASSIGN_OR_RETURN(auto txn, LmdbTxn::begin_read(store.internals().env()));
  BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(*store.internals().dbs().gtid_lists, encode_file_key(seq)));
  if (!value) return std::optional<std::vector<GtidListEntry>>();
  BRELAY_ASSIGN_OR_RETURN(auto entries, decode_gtid_list(*value));
  return std::optional<std::vector<GtidListEntry>>(std::move(entries));
}

// What the stream's GTIDs say file `file` should list: (position, key) of each transaction in it.
std::vector<GtidListEntry> expected_gtid_list(const TestStream& stream, const std::string& file) {
  std::vector<GtidListEntry> entries;
  for (const auto& [gtid, start] : stream.gtid_starts())
    if (start.first == file) entries.push_back(GtidListEntry{start.second, testing::gtid_key(gtid)});
  std::ranges::sort(entries, {}, &GtidListEntry::position);
  return entries;
}

void flip_byte(const std::string& path, std::streamoff at) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(at);
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x10);
  file.seekp(at);
  file.write(&byte, 1);
}

// Every event of the stream read back alone from its own position, and every transaction by GTID.
void expect_every_position_reads_back(BinlogStore& store, const TestStream& stream) {
  auto reader = StoreReader::open(store);
  ASSERT_TRUE(reader);
  for (const auto& event : stream.events()) {
    ASSERT_TRUE(reader->seek(event.file, event.position)) << event.file << ":" << event.position;
    auto batch = reader->read(1);
    ASSERT_TRUE(batch) << batch.error().message();
    ASSERT_FALSE(batch->runs.empty());
    const ByteView got = batch->runs[0].event(0);
    ASSERT_TRUE(std::ranges::equal(got, event.bytes)) << event.file << ":" << event.position;
  }
  for (const auto& [gtid, start] : stream.gtid_starts()) {
    ASSERT_TRUE(reader->seek_gtid(testing::gtid_key(gtid))) << gtid;
    EXPECT_EQ(reader->file().name, start.first);
    EXPECT_EQ(reader->position(), start.second);
  }
}

TEST(CompressionFormat, RecordPartsAndFramesRoundTripAndRejectDamage) {
  FileRecordView record;
  record.first_position = 4;
  record.end_position = 5000;
  record.name = "mysql-bin.000009";
  FileCompression compression;
  compression.compressed_bytes = 1234;
  compression.frames = 2;
  compression.salt.fill(0x42);
  record.compression = compression;
  for (bool encrypted : {false, true}) {
    if (encrypted) record.encryption = FileEncryption{};
    if (encrypted) record.encryption->data_key.master_id = 1;
    const Bytes encoded = record.encode();
    auto decoded = FileRecordView::decode(encoded);
    ASSERT_TRUE(decoded) << decoded.error().message();
    ASSERT_TRUE(decoded->compression);
    EXPECT_EQ(decoded->compression->compressed_bytes, 1234u);
    EXPECT_EQ(decoded->compression->frames, 2u);
    EXPECT_EQ(decoded->compression->salt, compression.salt);
    EXPECT_EQ(decoded->encryption.has_value(), encrypted);
    EXPECT_EQ(to_file_info(1, *decoded).compressed_bytes, 1234u);
    EXPECT_EQ(decoded->encode(), encoded);
  }
  // The parts in the wrong order, twice, an unknown algorithm: errors, not guesses.
  FileRecordView plain = record;
  plain.encryption.reset();
  plain.compression.reset();
  Bytes twice = record.encode();
  const Bytes part(twice.end() - (1 + 1 + 8 + 4 + 16), twice.end());
  twice.insert(twice.end(), part.begin(), part.end());
  EXPECT_FALSE(FileRecordView::decode(twice));
  Bytes unknown = record.encode();
  unknown[unknown.size() - (1 + 8 + 4 + 16)] = 9;
  EXPECT_FALSE(FileRecordView::decode(unknown));

  FrameView frame{100, 50, 4096, std::nullopt};
  auto frame_back = FrameView::decode(frame.encode());
  ASSERT_TRUE(frame_back);
  EXPECT_EQ(frame_back->offset, 100u);
  EXPECT_EQ(frame_back->compressed_size, 50u);
  EXPECT_EQ(frame_back->stored_size, 4096u);
  EXPECT_FALSE(frame_back->mac);
  frame.mac = crypto::Mac256{};
  frame_back = FrameView::decode(frame.encode());
  ASSERT_TRUE(frame_back && frame_back->mac);
  frame.stored_size = FrameView::kMaxStoredBytes + 1;
  EXPECT_FALSE(FrameView::decode(frame.encode()));
  frame.stored_size = 10;
  frame.compressed_size = 1'000'000;
  EXPECT_FALSE(FrameView::decode(frame.encode()));
}

class CompressedStore : public ::testing::TestWithParam<bool> {
 protected:
  std::shared_ptr<const crypto::MasterKeys> keys() const { return GetParam() ? test_keys() : nullptr; }
};

TEST_P(CompressedStore, SealedFilesAreSwappedAndReadBackByteIdentical) {
  Written w = write_store(keys());
  auto store = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_TRUE(store) << store.error().message();
  auto due = Compressor::due_files(**store, (*store)->now() + 1);
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, (std::vector<std::uint32_t>{1, 2, 3}));  // never the newest
  auto none = Compressor::due_files(**store, 0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());  // none written before 1970

  auto reports = Compressor::compress_due(**store, (*store)->now() + 1, small_frames());
  ASSERT_TRUE(reports) << reports.error().message();
  ASSERT_EQ(reports->size(), 3u);
  for (const CompressionReport& report : *reports) {
    // Format version 5: a compressed file's events are found by their headers, not by runs, and
    // its GTID positions are packed into its GTID list.
    auto runs = runs_of(**store, report.file_seq);
    ASSERT_TRUE(runs) << runs.error().message();
    EXPECT_TRUE(runs->empty()) << report.file;
    auto positions = gtid_positions_of(**store, report.file_seq);
    ASSERT_TRUE(positions) << positions.error().message();
    EXPECT_TRUE(positions->empty()) << report.file;
    auto listed = gtid_list_of(**store, report.file_seq);
    ASSERT_TRUE(listed) << listed.error().message();
    ASSERT_TRUE(*listed) << report.file;
    EXPECT_EQ(**listed, expected_gtid_list(w.stream, report.file)) << report.file;
    EXPECT_EQ((*listed)->size(), 40u + (report.file_seq == 2 ? 1u : 0u)) << report.file;
    EXPECT_GT(report.frames, 1u);
    EXPECT_EQ(report.readers_during_swap, 0u);
    EXPECT_EQ(fs::file_size((*store)->internals().event_files().compressed_path(report.file_seq)),
              report.compressed_bytes);
  }
  EXPECT_EQ(count_files(w.data, ".events"), 1u);
  EXPECT_EQ(count_files(w.data, ".events.zst"), 3u);
  auto again = Compressor::compress_file(**store, 1, small_frames());
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);  // already compressed
  auto newest = Compressor::compress_file(**store, 4, small_frames());
  ASSERT_TRUE(newest);
  EXPECT_FALSE(*newest);
  auto newest_runs = runs_of(**store, 4);
  ASSERT_TRUE(newest_runs);
  EXPECT_FALSE(newest_runs->empty());
  auto newest_positions = gtid_positions_of(**store, 4);
  ASSERT_TRUE(newest_positions);
  EXPECT_EQ(newest_positions->size(), 40u);
  auto newest_list = gtid_list_of(**store, 4);
  ASSERT_TRUE(newest_list);
  EXPECT_FALSE(*newest_list);
  auto stats = (*store)->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->compressed_files, 3u);
  EXPECT_GT(stats->compressed_disk_bytes, 0u);

  for (std::size_t read_size : {std::size_t{1} << 20, std::size_t{700}, std::size_t{5000}}) {
    auto events = testing::read_everything(**store, read_size);
    ASSERT_TRUE(events) << events.error().message();
    EXPECT_EQ(testing::compare_events(*events, w.stream.events()), "") << read_size;
  }
  expect_every_position_reads_back(**store, w.stream);
  store->reset();
  auto reopened = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_TRUE(reopened) << reopened.error().message();
  auto events = testing::read_everything(**reopened, 3000);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, w.stream.events()), "");
}

TEST_P(CompressedStore, ReadersMidFileWhenTheFileIsSwappedGoOnWithTheSameBytes) {
  Written w = write_store(keys());
  auto store = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_TRUE(store) << store.error().message();
  // One reader has read part of file 2 (it holds the event file's map), one is only positioned.
  auto mapped = StoreReader::open(**store);
  auto positioned = StoreReader::open(**store);
  ASSERT_TRUE(mapped && positioned);
  const auto& first = *std::ranges::find(w.stream.events(), "source-bin.000002", &testing::StoredEvent::file);
  ASSERT_TRUE(mapped->seek(first.file, first.position));
  ASSERT_TRUE(positioned->seek(first.file, first.position));
  std::vector<testing::StoredEvent> got_mapped;
  auto read_some = [](StoreReader& reader, std::vector<testing::StoredEvent>& into, int batches) {
    for (int i = 0; i < batches; ++i) {
      auto batch = reader.read(900);
      ASSERT_TRUE(batch) << batch.error().message();
      for (const EventRun& run : batch->runs) {
        for (std::size_t e = 0; e < run.event_count(); ++e)
          into.push_back({reader.file().name, run.event_position(e),
                          Bytes(run.event(e).begin(), run.event(e).end()), false});
      }
      reader.consume(batch->bytes);
      reader.release();
      if (batch->at_durable_end) return;
    }
  };
  read_some(*mapped, got_mapped, 3);
  CompressionOptions options = small_frames();
  std::size_t readers_at_swap = 0;
  options.after_step = [&](std::string_view step) {
    if (step == "indexed") readers_at_swap = (*store)->internals().readers().reading(2);
  };
  auto report = Compressor::compress_file(**store, 2, options);
  ASSERT_TRUE(report && *report) << (report ? "nothing done" : report.error().message());
  EXPECT_EQ((*report)->readers_during_swap, 2u);
  EXPECT_EQ(readers_at_swap, 2u);
  EXPECT_FALSE(fs::exists((*store)->internals().event_files().path(2)));
  std::vector<testing::StoredEvent> got_positioned;
  read_some(*mapped, got_mapped, 100000);
  read_some(*positioned, got_positioned, 100000);
  std::vector<testing::StoredEvent> expected;
  for (const auto& event : w.stream.events()) {
    if (event.file >= "source-bin.000002") expected.push_back(event);
  }
  EXPECT_EQ(testing::compare_events(got_mapped, expected), "");
  EXPECT_EQ(testing::compare_events(got_positioned, expected), "");
}

TEST_P(CompressedStore, ACrashAtEachStepRecoversToOneCompleteVersion) {
  for (std::string_view crash_at : {"written", "indexed"}) {
    Written w = write_store(keys());
    const std::string copy = w.dir.file("crashed");
    {
      auto store = BinlogStore::open(w.data, options_with(keys()));
      ASSERT_TRUE(store) << store.error().message();
      CompressionOptions options = small_frames();
      options.after_step = [&](std::string_view step) {
        if (step != crash_at) return;
        // What a crash right after this step leaves on disk.
        fs::copy(w.data, copy, fs::copy_options::recursive);
        fs::remove(copy + "/lock.mdb");
      };
      auto report = Compressor::compress_file(**store, 1, options);
      ASSERT_TRUE(report && *report);
    }
    EXPECT_TRUE(fs::exists(copy + "/events/0000000001.events")) << crash_at;
    EXPECT_TRUE(fs::exists(copy + "/events/0000000001.events.zst")) << crash_at;
    auto store = BinlogStore::open(copy, options_with(keys()));
    ASSERT_TRUE(store) << store.error().message();
    const bool compressed = crash_at == "indexed";
    EXPECT_EQ(fs::exists(copy + "/events/0000000001.events"), !compressed) << crash_at;
    EXPECT_EQ(fs::exists(copy + "/events/0000000001.events.zst"), compressed) << crash_at;
    auto events = testing::read_everything(**store, 2000);
    ASSERT_TRUE(events) << events.error().message();
    EXPECT_EQ(testing::compare_events(*events, w.stream.events()), "") << crash_at;
    // And the compression completes on the next try.
    auto report = Compressor::compress_file(**store, 1, small_frames());
    ASSERT_TRUE(report);
    EXPECT_EQ(report->has_value(), !compressed);
  }
}

TEST_P(CompressedStore, AFlippedByteInACompressedFrameIsDamageNeverBytes) {
  Written w = write_store(keys());
  {
    auto store = BinlogStore::open(w.data, options_with(keys()));
    ASSERT_TRUE(store);
    ASSERT_TRUE(Compressor::compress_file(**store, 2, small_frames()));
  }
  const std::string path = w.data + "/events/0000000002.events.zst";
  flip_byte(path, static_cast<std::streamoff>(fs::file_size(path) / 2));
  auto store = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_TRUE(store) << store.error().message();
  auto events = testing::read_everything(**store, 1 << 20);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code(), kStoreDamagedCode) << events.error().message();
  EXPECT_NE(events.error().message().find("compressed frame of source-bin.000002 at position"),
            std::string::npos)
      << events.error().message();
  EXPECT_NE(events.error().message().find(GetParam() ? "MAC mismatch" : "zstd"), std::string::npos)
      << events.error().message();
}

// An encrypted file's frame MAC binds the frame's stored position and sizes: index entries of two
// authentic frames swapped (each entry names a real frame of the file, with its own MAC) are
// damage, never the other frame's bytes served at the wrong position.
TEST(CompressedStore, FrameEntriesSwappedInTheIndexAreDamageNeverBytes) {
  Written w = write_store(test_keys());
  {
    auto store = BinlogStore::open(w.data, options_with(test_keys()));
    ASSERT_TRUE(store);
    ASSERT_TRUE(Compressor::compress_file(**store, 1, small_frames()));
  }
  Status swapped = testing::edit_index(w.data, [](LmdbTxn& txn, const StoreDatabases& dbs) -> Status {
    if (!dbs.frames) return make_error("the store has no frames database");
    Bytes keys[2];
    Bytes values[2];
    {
      BRELAY_ASSIGN_OR_RETURN(LmdbCursor frames, LmdbCursor::open(txn, *dbs.frames));
      BRELAY_ASSIGN_OR_RETURN(auto entry, frames.first());
      for (int i = 0; i < 2; ++i) {
        if (!entry || EventKey::decode(entry->key).value_or(EventKey{}).file_seq != 1)
          return make_error("file 1 has fewer than two frames");
        keys[i].assign(entry->key.begin(), entry->key.end());
        values[i].assign(entry->value.begin(), entry->value.end());
        BRELAY_ASSIGN_OR_RETURN(entry, frames.next());
      }
    }
    BRELAY_TRY(txn.put(*dbs.frames, keys[0], values[1]));
    return txn.put(*dbs.frames, keys[1], values[0]);
  });
  ASSERT_TRUE(swapped) << swapped.error().message();
  auto store = BinlogStore::open(w.data, options_with(test_keys()));
  ASSERT_TRUE(store) << store.error().message();
  auto events = testing::read_everything(**store, 1 << 20);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code(), kStoreDamagedCode) << events.error().message();
  EXPECT_NE(events.error().message().find("MAC mismatch"), std::string::npos) << events.error().message();
}

TEST_P(CompressedStore, PurgeRemovesACompressedFileAndItsFrames) {
  Written w = write_store(keys());
  auto store = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_TRUE(store);
  ASSERT_TRUE(Compressor::compress_due(**store, (*store)->now() + 1, small_frames()));
  auto purged = Retention::purge(**store, PurgeRequest::to("source-bin.000003"));
  ASSERT_TRUE(purged) << purged.error().message();
  EXPECT_EQ(purged->purged_files.size(), 2u);
  EXPECT_EQ(count_files(w.data, ".events.zst"), 1u);
  auto first = first_frame_file(**store);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(*first, std::optional<std::uint32_t>(3));
  // The purged files' GTIDs (from their GTID lists) are gone from the index, the others stay.
  auto reader = StoreReader::open(**store);
  ASSERT_TRUE(reader);
  std::size_t gone = 0;
  for (const auto& [gtid, start] : w.stream.gtid_starts()) {
    const bool purged_file = start.first == "source-bin.000001" || start.first == "source-bin.000002";
    Status found = reader->seek_gtid(testing::gtid_key(gtid));
    EXPECT_EQ(static_cast<bool>(found), !purged_file) << gtid;
    gone += purged_file ? 1 : 0;
  }
  EXPECT_EQ(gone, 81u);
  auto txn = LmdbTxn::begin_read((*store)->internals().env());
  ASSERT_TRUE(txn);
  auto gtids = LmdbCursor::open(*txn, (*store)->internals().dbs().gtids);
  ASSERT_TRUE(gtids);
  std::size_t left = 0;
  for (auto entry = gtids->first(); entry && *entry; entry = gtids->next())
    left += EventKey::decode((*entry)->value).value_or(EventKey{}).file_seq < 3 ? 1 : 0;
  EXPECT_EQ(left, 0u);  // no index entry left pointing into a purged file
  for (std::uint32_t seq : {1u, 2u}) {
    auto listed = gtid_list_of(**store, seq);
    ASSERT_TRUE(listed);
    EXPECT_FALSE(*listed) << seq;
  }
  auto kept = gtid_list_of(**store, 3);
  ASSERT_TRUE(kept);
  EXPECT_TRUE(*kept);
}

TEST_P(CompressedStore, ARaisedStopFlagAbandonsTheFileCleanly) {
  Written w = write_store(keys());
  auto store = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_TRUE(store);
  std::atomic<bool> stop{true};
  CompressionOptions options = small_frames();
  options.stop = &stop;
  auto report = Compressor::compress_file(**store, 1, options);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_FALSE(*report);
  EXPECT_EQ(count_files(w.data, ".events.zst"), 0u);
  EXPECT_EQ(count_files(w.data, ".events"), 4u);
}

// A compressed file left by a crash before its index commit (no compression part) is removed at
// open and the event file serves; once the index names the compressed file, one cut short or gone
// is damage the open names, never a guess.
TEST_P(CompressedStore, AnUnindexedCompressedFileIsRemovedAndAShortOrMissingOneIsDamage) {
  Written w = write_store(keys());
  const std::string path = w.data + "/events/0000000002.events.zst";
  {
    std::ofstream partial(path, std::ios::binary);
    partial << "a compressed file cut short by a crash";
  }
  {
    auto store = BinlogStore::open(w.data, options_with(keys()));
    ASSERT_TRUE(store) << store.error().message();
    EXPECT_FALSE(fs::exists(path));
    auto events = testing::read_everything(**store, 1 << 20);
    ASSERT_TRUE(events) << events.error().message();
    EXPECT_EQ(testing::compare_events(*events, w.stream.events()), "");
    ASSERT_TRUE(Compressor::compress_file(**store, 2, small_frames()));
  }
  fs::resize_file(path, fs::file_size(path) - 1);
  auto short_file = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_FALSE(short_file);
  EXPECT_NE(short_file.error().message().find("0000000002.events.zst"), std::string::npos)
      << short_file.error().message();
  fs::remove(path);
  auto missing = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("0000000002.events.zst"), std::string::npos)
      << missing.error().message();
  EXPECT_TRUE(fs::exists(w.data + "/events/0000000003.events"));  // nothing else touched
}

// A purge between the compressed file's write and its index commit: the compressor gives up,
// leaves no compressed file and no frames.
TEST_P(CompressedStore, APurgeDuringCompressionMakesTheCompressorGiveUp) {
  Written w = write_store(keys());
  auto store = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_TRUE(store);
  CompressionOptions options = small_frames();
  Status purged;
  options.after_step = [&](std::string_view step) {
    if (step != "written") return;
    auto report = Retention::purge(**store, PurgeRequest::to("source-bin.000003", false));
    if (!report) purged = std::move(report).error();
  };
  auto report = Compressor::compress_file(**store, 2, options);
  ASSERT_TRUE(purged) << purged.error().message();
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_FALSE(*report);
  EXPECT_EQ(count_files(w.data, ".events.zst"), 0u);
  EXPECT_EQ(count_files(w.data, ".events"), 2u);
  auto first = first_frame_file(**store);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(*first, std::nullopt) << "no frame is indexed";
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, CompressedStore, ::testing::Bool(),
                         [](const auto& test) { return test.param ? "Encrypted" : "Plain"; });

// `rekey` rewraps the data keys of compressed files too and keeps their compression part: with
// only the new master key, every byte reads back.
TEST(CompressedStore, RekeyKeepsTheCompressionPart) {
  Written w = write_store(test_keys());
  crypto::MasterKey second;
  second.id = 4;
  second.key.fill(0x21);
  {
    auto store = BinlogStore::open(w.data, options_with(test_keys()));
    ASSERT_TRUE(store);
    ASSERT_TRUE(Compressor::compress_due(**store, (*store)->now() + 1, small_frames()));
  }
  {
    std::vector<crypto::MasterKey> both = {*test_keys()->find(3), second};  // the last is current
    auto store = BinlogStore::open(w.data, options_with(std::make_shared<const crypto::MasterKeys>(both)));
    ASSERT_TRUE(store) << store.error().message();
    auto rewrapped = (*store)->rewrap_data_keys();
    ASSERT_TRUE(rewrapped) << rewrapped.error().message();
    EXPECT_EQ(*rewrapped, 4u);
  }
  auto store = BinlogStore::open(
      w.data,
      options_with(std::make_shared<const crypto::MasterKeys>(std::vector<crypto::MasterKey>{second})));
  ASSERT_TRUE(store) << store.error().message();
  auto files = (*store)->list_files();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 4u);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_GT((*files)[i].compressed_bytes, 0u) << i;
  auto events = testing::read_everything(**store, 1 << 20);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, w.stream.events()), "");
}

TEST(CompressedStore, AVersion3StoreOpensAsTheCurrentVersion) {
  Written w = write_store(nullptr);
  ASSERT_TRUE(testing::write_format_version(w.data, 3));
  auto store = BinlogStore::open(w.data);
  ASSERT_TRUE(store) << store.error().message();
  auto version = testing::stored_format_version(**store);
  ASSERT_TRUE(version) << version.error().message();
  EXPECT_EQ(*version, kStoreFormatVersion);
  auto reports = Compressor::compress_due(**store, (*store)->now() + 1, small_frames());
  ASSERT_TRUE(reports) << reports.error().message();
  EXPECT_EQ(reports->size(), 3u);
}

// Version 4 kept a compressed file's runs and GTID positions; opening such a store drops the runs,
// packs the positions into GTID lists (version 5) and reads the same bytes from the frames alone.
TEST_P(CompressedStore, AVersion4StoreDropsTheRunsAndPacksTheGtidPositionsOfItsCompressedFiles) {
  Written w = write_store(keys());
  std::vector<std::pair<Bytes, Bytes>> kept;
  std::vector<std::pair<Bytes, Bytes>> kept_positions;
  {
    auto store = BinlogStore::open(w.data, options_with(keys()));
    ASSERT_TRUE(store) << store.error().message();
    for (std::uint32_t seq : {1u, 2u, 3u}) {
      auto runs = runs_of(**store, seq);
      ASSERT_TRUE(runs);
      ASSERT_FALSE(runs->empty());
      kept.insert(kept.end(), runs->begin(), runs->end());
      auto positions = gtid_positions_of(**store, seq);
      ASSERT_TRUE(positions);
      ASSERT_FALSE(positions->empty());
      kept_positions.insert(kept_positions.end(), positions->begin(), positions->end());
    }
    auto reports = Compressor::compress_due(**store, (*store)->now() + 1, small_frames());
    ASSERT_TRUE(reports) << reports.error().message();
    ASSERT_EQ(reports->size(), 3u);
  }
  Status restored = testing::edit_index(w.data, [&](LmdbTxn& txn, const StoreDatabases& dbs) -> Status {
    for (const auto& [key, value] : kept)
      BRELAY_TRY(txn.put(dbs.events, key, value));
    for (const auto& [key, value] : kept_positions)
      BRELAY_TRY(txn.put(dbs.gtid_positions, key, value));
    for (std::uint32_t seq : {1u, 2u, 3u})
      BRELAY_TRY(txn.del(*dbs.gtid_lists, encode_file_key(seq)));
    if (GetParam()) BRELAY_TRY(testing::rewrite_records_as_version_5(txn, dbs, keys()));
    return {};
  });
  ASSERT_TRUE(restored) << restored.error().message();
  ASSERT_TRUE(testing::write_format_version(w.data, 4));
  auto store = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_TRUE(store) << store.error().message();
  auto version = testing::stored_format_version(**store);
  ASSERT_TRUE(version);
  EXPECT_EQ(*version, kStoreFormatVersion);
  for (std::uint32_t seq : {1u, 2u, 3u}) {
    auto runs = runs_of(**store, seq);
    ASSERT_TRUE(runs);
    EXPECT_TRUE(runs->empty()) << seq;
    auto positions = gtid_positions_of(**store, seq);
    ASSERT_TRUE(positions);
    EXPECT_TRUE(positions->empty()) << seq;
    auto listed = gtid_list_of(**store, seq);
    ASSERT_TRUE(listed);
    ASSERT_TRUE(*listed) << seq;
    EXPECT_EQ(**listed, expected_gtid_list(w.stream, fmt::format("source-bin.{:06}", seq))) << seq;
  }
  auto newest = runs_of(**store, 4);
  ASSERT_TRUE(newest);
  EXPECT_FALSE(newest->empty());
  if (GetParam()) {  // the encrypted records were converted too, compressed or not
    auto summary = (*store)->encryption_summary();
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->encrypted_files, 4u);
    for (std::uint32_t seq : {1u, 2u, 3u, 4u}) {
      auto converted = has_keystream_part(**store, seq);
      ASSERT_TRUE(converted) << converted.error().message();
      EXPECT_TRUE(*converted) << seq;
    }
  }
  auto events = testing::read_everything(**store, 5000);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, w.stream.events()), "");
  expect_every_position_reads_back(**store, w.stream);
}

// A seek inside an event of a compressed file is refused like one in a plain file, naming the
// event's start (found in the frame by the events' headers).
TEST_P(CompressedStore, ASeekInsideAnEventOfACompressedFileNamesTheEventsStart) {
  Written w = write_store(keys());
  auto store = BinlogStore::open(w.data, options_with(keys()));
  ASSERT_TRUE(store) << store.error().message();
  auto compressed = Compressor::compress_file(**store, 2, small_frames());
  ASSERT_TRUE(compressed && *compressed);
  auto reader = StoreReader::open(**store);
  ASSERT_TRUE(reader);
  std::size_t checked = 0;
  for (const auto& event : w.stream.events()) {
    if (event.file != "source-bin.000002" || event.bytes.size() < 2) continue;
    Status inside = reader->seek(event.file, event.position + event.bytes.size() / 2);
    ASSERT_FALSE(inside) << event.position;
    EXPECT_NE(inside.error().message().find(fmt::format("(that event starts at {})", event.position)),
              std::string::npos)
        << inside.error().message();
    ++checked;
  }
  EXPECT_GT(checked, 100u);
}

// Readers of a compressed file find its events by their headers, so a file whose stored events do
// not all give their own length in their header is left uncompressed (and read as before).
TEST(CompressedStore, AFileWhoseEventHeadersDoNotGiveTheirLengthsStaysUncompressed) {
  Written w = write_store(nullptr);
  const testing::StoredEvent* victim = nullptr;
  for (const auto& event : w.stream.events()) {
    if (event.file == "source-bin.000002" && event.position > 1000) {
      victim = &event;
      break;
    }
  }
  ASSERT_NE(victim, nullptr);
  // The length field (offset 9 of the header) of an event in file 2's event file.
  flip_byte(w.data + "/events/0000000002.events", static_cast<std::streamoff>(victim->position + 10));
  auto store = BinlogStore::open(w.data);
  ASSERT_TRUE(store) << store.error().message();
  auto refused = Compressor::compress_file(**store, 2, small_frames());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find(fmt::format("the event at position {} is stored with {} bytes",
                                                       victim->position, victim->bytes.size())),
            std::string::npos)
      << refused.error().message();
  EXPECT_NE(refused.error().message().find("source-bin.000002"), std::string::npos);
  EXPECT_EQ(count_files(w.data, ".events.zst"), 0u);
  auto files = (*store)->list_files();
  ASSERT_TRUE(files);
  EXPECT_EQ((*files)[1].compressed_bytes, 0u);
  auto runs = runs_of(**store, 2);
  ASSERT_TRUE(runs);
  EXPECT_FALSE(runs->empty());
  // It does not hold up the files after it: compress_due goes on and reports the refusal.
  auto others = Compressor::compress_due(**store, (*store)->now() + 1, small_frames());
  ASSERT_FALSE(others);
  EXPECT_NE(others.error().message().find("source-bin.000002"), std::string::npos)
      << others.error().message();
  EXPECT_EQ(count_files(w.data, ".events.zst"), 2u);
  auto after = (*store)->list_files();
  ASSERT_TRUE(after);
  EXPECT_GT((*after)[0].compressed_bytes, 0u);
  EXPECT_EQ((*after)[1].compressed_bytes, 0u);
  EXPECT_GT((*after)[2].compressed_bytes, 0u);
}

// A frame whose events' headers do not tile it (a frame written by something else, since the
// compressor checks them) is damage naming the file and position, never bytes.
TEST(CompressedStore, AFrameWhoseEventHeadersDoNotTileItIsDamage) {
  Written w = write_store(nullptr);
  {
    auto store = BinlogStore::open(w.data);
    ASSERT_TRUE(store);
    auto compressed = Compressor::compress_file(**store, 2, small_frames());
    ASSERT_TRUE(compressed && *compressed);
  }
  // The first frame of file 2 again, with its second event's length pointing past the frame,
  // appended to the compressed file, and its index entry pointed at it.
  const std::string path = w.data + "/events/0000000002.events.zst";
  Status forged = testing::edit_index(w.data, [&](LmdbTxn& txn, const StoreDatabases& dbs) -> Status {
    const auto key = EventKey{2, 4}.encode();
    BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(*dbs.frames, key));
    if (!value) return make_error("file 2 has no frame at position 4");
    BRELAY_ASSIGN_OR_RETURN(FrameView frame, FrameView::decode(*value));
    Bytes stored;
    std::size_t events = 0;
    for (const auto& event : w.stream.events()) {
      if (event.file != "source-bin.000002" || stored.size() >= frame.stored_size) continue;
      if (++events == 2) {
        Bytes bad = event.bytes;
        bad[9] = 0xff;
        bad[10] = 0xff;
        stored.insert(stored.end(), bad.begin(), bad.end());
      } else {
        stored.insert(stored.end(), event.bytes.begin(), event.bytes.end());
      }
    }
    if (stored.size() != frame.stored_size) return make_error("the stream does not fill the first frame");
    BRELAY_ASSIGN_OR_RETURN(FrameEncoder encoder, FrameEncoder::create(3, nullptr, FrameSalt{}));
    const auto offset = static_cast<std::uint64_t>(fs::file_size(path));
    BRELAY_ASSIGN_OR_RETURN(FrameView replaced, encoder.encode(stored, 4, offset));
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write(reinterpret_cast<const char*>(encoder.output().data()),
              static_cast<std::streamsize>(encoder.output().size()));
    out.close();
    const Bytes encoded = replaced.encode();
    return txn.put(*dbs.frames, key, encoded);
  });
  ASSERT_TRUE(forged) << forged.error().message();
  auto store = BinlogStore::open(w.data);
  ASSERT_TRUE(store) << store.error().message();
  auto events = testing::read_everything(**store, 1 << 20);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code(), kStoreDamagedCode) << events.error().message();
  EXPECT_NE(events.error().message().find("reaches past the frame's end"), std::string::npos)
      << events.error().message();
  EXPECT_NE(events.error().message().find("compressed frame of source-bin.000002 at position 4"),
            std::string::npos)
      << events.error().message();
  auto reader = StoreReader::open(**store);
  ASSERT_TRUE(reader);
  Status seek = reader->seek("source-bin.000002", 4 + 120);  // an event's start in the forged frame
  ASSERT_FALSE(seek);
  EXPECT_EQ(seek.error().code(), kStoreDamagedCode) << seek.error().message();
}

}  // namespace
}  // namespace brelay::storage
