// The lone commit (issue 17): one fdatasync of the event file and its commit record makes a lone
// round durable; recovery indexes the round again when its LMDB commit was lost. A lost LMDB
// commit is simulated by putting back a copy of data.mdb taken before the round (what a kill
// between the event file's sync and the index commit, or a power loss before its meta page was
// synced, leaves behind). The LoneCommit tests run on a plain and on an encrypted store; the
// LoneCommitEncrypted ones are about an encrypted file's record, sealed with a MAC over the round's
// stored bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "storage/binlog_store.h"
#include "storage/commit_record.h"
#include "storage/store_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/encrypted_store_support.h"
#include "tests/unit/storage/store_test_stream.h"

// GCC 12 takes the copy of a FileRecordView (an optional FileEncryption holding a vector) below for
// reads of an uninitialized vector (a false positive of -Wmaybe-uninitialized with std::optional).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace brelay::storage {
namespace {

using testing::ProgressLog;
using testing::read_back_differences;
using testing::TestStream;

struct LoneStore {
  testing::TempDir dir;
  std::string data;
  std::string saved_index;
  std::string first_event_file;
  StoreOptions options;  // with master keys for an encrypted store
};

LoneStore make_store(bool encrypted) {
  auto dir = testing::TempDir::create("lone-commit");
  EXPECT_TRUE(dir);
  LoneStore s{std::move(dir).value(), "", "", "", {}};
  s.data = s.dir.file("data");
  s.saved_index = s.dir.file("saved-data.mdb");
  s.first_event_file = s.data + "/events/0000000001.events";
  if (encrypted) s.options.master_keys = testing::keys_with({1});
  return s;
}

class LoneCommit : public ::testing::TestWithParam<bool> {
 protected:
  bool encrypted() const { return GetParam(); }
};

std::uint64_t file_size(const std::string& path) {
  return static_cast<std::uint64_t>(std::filesystem::file_size(path));
}

// Keystream segments in file 1's record (0 for a plain store).
std::size_t keystream_segments(BinlogStore& store) {
  Bytes value;
  const auto record = testing::record_of(store, 1, value);
  return record && record->encryption ? record->encryption->segments.size() : 0;
}

// The commit record at the end of an event file (commit_record.h): where it starts, its body and
// version.
struct RecordAtEnd {
  std::uint64_t start = 0;
  Bytes body;
  std::uint32_t version = 0;
};

std::optional<RecordAtEnd> read_record(const Bytes& file) {
  if (file.size() < 16) return std::nullopt;
  ByteReader footer(ByteView(file).last(16));
  auto body_size = footer.u32("body size");
  if (!body_size || *body_size + 16 > file.size()) return std::nullopt;
  RecordAtEnd record;
  record.start = file.size() - 16 - *body_size;
  record.body.assign(file.begin() + static_cast<std::ptrdiff_t>(record.start), file.end() - 16);
  ByteReader body(record.body);
  auto version = body.u32("version");
  if (!version) return std::nullopt;
  record.version = *version;
  return record;
}

// The body's CRC-32 of the round's event bytes: after version, file, first and end position, clock.
constexpr std::size_t kPayloadCrcOffset = 4 + 4 + 8 + 8 + 8;

// Appends `body` and a footer whose length and CRC match it.
void append_record(Bytes& file, const Bytes& body) {
  ByteWriter footer;
  footer.u32(static_cast<std::uint32_t>(body.size()))
      .u32(commit_record_crc(body))
      .u64(0x31444345524d4342);  // "BCMRECD1"
  file.insert(file.end(), body.begin(), body.end());
  const ByteView footer_bytes = footer.data();
  file.insert(file.end(), footer_bytes.begin(), footer_bytes.end());
}

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// The writer is idle and its last round was a group commit (synced before it was published).
void save_index(const LoneStore& s) {
  std::filesystem::copy_file(s.data + "/data.mdb", s.saved_index,
                             std::filesystem::copy_options::overwrite_existing);
}

void restore_index(const LoneStore& s) {
  std::filesystem::copy_file(s.saved_index, s.data + "/data.mdb",
                             std::filesystem::copy_options::overwrite_existing);
}

// One lone round of `transactions` transactions; returns what the writer reported durable.
StoreWriter::Progress lone_round(StoreWriter& writer, ProgressLog& log, BinlogStore& store,
                                 TestStream& stream, int transactions, bool with_meta = false) {
  WriteBatch batch;
  for (int i = 0; i < transactions; ++i)
    stream.transaction(batch, 3, 150);
  if (with_meta) batch.put_meta("lone-meta", as_bytes("kept"));
  EXPECT_TRUE(writer.submit(std::move(batch)));
  StoreWriter::Progress reported;
  EXPECT_TRUE(log.wait_until([&](const StoreWriter::Progress& progress) {
    if (!progress.synced_end || progress.synced_end->position != stream.next_position()) return false;
    reported = progress;
    return true;
  }));
  // Readers see it after its index commit.
  EXPECT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  EXPECT_EQ(store.durable_end()->position, stream.next_position());
  return reported;
}

TEST_P(LoneCommit, ReportsTheEndItsIndexSetsAndLeavesOnlyTheIndexedBytesAfterReopen) {
  LoneStore s = make_store(encrypted());
  TestStream stream;
  {
    auto store = BinlogStore::open(s.data, s.options);
    ASSERT_TRUE(store) << store.error().message();
    ProgressLog log;
    auto writer = StoreWriter::start(**store, {}, log.callback());
    ASSERT_TRUE(writer);
    ASSERT_TRUE(testing::write_first_transaction(**writer, log, stream));
    const std::size_t segments = keystream_segments(**store);
    for (int round = 0; round < 5; ++round) {
      const StoreWriter::Progress reported = lone_round(**writer, log, **store, stream, 1 + round % 2);
      ASSERT_TRUE(reported.synced_end);
      // What was acknowledged is exactly what the index says, GTIDs and executed set included.
      EXPECT_EQ(*reported.synced_end, *(*store)->durable_end());
      EXPECT_EQ(reported.synced_end->last_gtid, testing::gtid_key(stream.transactions()));
    }
    // The last round's commit record follows its bytes until recovery cuts it.
    EXPECT_GT(file_size(s.first_event_file), stream.next_position());
    // An encrypted round continues the keystream in force: its record was written outside it.
    EXPECT_EQ(keystream_segments(**store), segments);
    ASSERT_TRUE((*writer)->stop());
  }
  if (encrypted()) {
    // No event is stored as it was sent.
    const Bytes stored = testing::file_bytes(s.first_event_file);
    for (const testing::StoredEvent& event : stream.events()) {
      ASSERT_LE(event.position + event.bytes.size(), stored.size());
      EXPECT_FALSE(std::equal(event.bytes.begin(), event.bytes.end(),
                              stored.begin() + static_cast<std::ptrdiff_t>(event.position)))
          << "event at " << event.position;
    }
  }
  auto store = BinlogStore::open(s.data, s.options);
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_EQ(file_size(s.first_event_file), stream.next_position());
  auto events = testing::read_everything(**store);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, stream.events()), "");
}

// Writes file 1 with a group commit, saves the index, then a lone round of two transactions (and
// a metadata put) whose index is then thrown away. Returns the stream.
TestStream acknowledged_round_without_index(const LoneStore& s) {
  TestStream stream;
  auto store = BinlogStore::open(s.data, s.options);
  EXPECT_TRUE(store) << store.error().message();
  ProgressLog log;
  auto writer = StoreWriter::start(**store, {}, log.callback());
  EXPECT_TRUE(writer);
  WriteBatch first;
  stream.begin_file(first);
  stream.transaction(first, 2, 100);
  // Bytes past the boundary, later abandoned: the lone round after them is shorter, so its record
  // must cut them to end the file.
  stream.unfinished_events(first, 4, 500);
  EXPECT_TRUE((*writer)->submit(std::move(first)));
  WriteBatch abandon;
  stream.abandon(abandon);
  stream.transaction(abandon, 2, 100);
  EXPECT_TRUE((*writer)->submit(std::move(abandon)));
  EXPECT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  save_index(s);
  lone_round(**writer, log, **store, stream, 2, true);
  EXPECT_TRUE((*writer)->stop());
  writer->reset();
  store->reset();
  restore_index(s);
  return stream;
}

TEST_P(LoneCommit, AnAcknowledgedRoundWhoseIndexCommitWasLostIsIndexedAgainFromItsRecord) {
  LoneStore s = make_store(encrypted());
  const TestStream stream = acknowledged_round_without_index(s);
  auto store = BinlogStore::open(s.data, s.options);
  ASSERT_TRUE(store) << store.error().message();
  const auto end = (*store)->durable_end();
  ASSERT_TRUE(end);
  EXPECT_EQ(end->position, stream.next_position());
  EXPECT_EQ(end->last_gtid, testing::gtid_key(stream.transactions()));
  EXPECT_EQ(end->executed_gtid_set, testing::gtid_key(stream.transactions()));
  EXPECT_EQ(file_size(s.first_event_file), stream.next_position()) << "the record is cut once indexed";
  auto events = testing::read_everything(**store);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, stream.complete_events()), "");
  auto meta = (*store)->get_meta("lone-meta");
  ASSERT_TRUE(meta && *meta);
  EXPECT_EQ(as_text(**meta), "kept");
  // The writer continues after it, and a second open changes nothing (no duplicate).
  store->reset();
  auto again = BinlogStore::open(s.data, s.options);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ((*again)->durable_end(), end);
  auto reread = testing::read_everything(**again);
  ASSERT_TRUE(reread);
  EXPECT_EQ(testing::compare_events(*reread, stream.complete_events()), "");
}

void flip_byte(const std::string& path, std::uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x20);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
}

// A round whose bytes or record did not all reach the disk was never acknowledged: it is cut, and
// the store ends where its index does.
TEST_P(LoneCommit, ARoundWhoseBytesOrRecordDoNotVerifyIsCutNotIndexed) {
  for (int damage = 0; damage < 3; ++damage) {
    SCOPED_TRACE(damage);
    LoneStore s = make_store(encrypted());
    const TestStream stream = acknowledged_round_without_index(s);
    const std::uint64_t size = file_size(s.first_event_file);
    const std::uint64_t indexed_end = stream.next_position() - 2 * 3 * 150;
    if (damage == 0) flip_byte(s.first_event_file, indexed_end + 200);            // an event byte
    if (damage == 1) flip_byte(s.first_event_file, stream.next_position() + 5);   // the record
    if (damage == 2) std::filesystem::resize_file(s.first_event_file, size - 1);  // a torn footer
    auto store = BinlogStore::open(s.data, s.options);
    ASSERT_TRUE(store) << store.error().message();
    const auto end = (*store)->durable_end();
    ASSERT_TRUE(end);
    EXPECT_EQ(end->position, indexed_end);
    EXPECT_EQ(file_size(s.first_event_file), indexed_end);
  }
}

// After a restart the writer does not know what the file held past its end under the nonce in
// force, so its first round starts a keystream segment: that round takes the group commit path
// (recovery could not know the new segment's nonce from a commit record); the rounds after it
// continue the segment and are lone again.
TEST(LoneCommitEncrypted, TheRoundThatStartsAKeystreamSegmentTakesTheGroupCommitPath) {
  LoneStore s = make_store(true);
  TestStream stream;
  for (int start = 0; start < 2; ++start) {
    SCOPED_TRACE(start);
    auto store = BinlogStore::open(s.data, s.options);
    ASSERT_TRUE(store) << store.error().message();
    ProgressLog log;
    auto writer = StoreWriter::start(**store, {}, log.callback());
    ASSERT_TRUE(writer);
    if (start == 0) {
      ASSERT_TRUE(testing::write_first_transaction(**writer, log, stream));
    }
    const std::size_t segments = keystream_segments(**store);
    lone_round(**writer, log, **store, stream, 1);
    if (start == 0) {  // the writer created the file: nothing lies past its end
      EXPECT_GT(file_size(s.first_event_file), stream.next_position()) << "a commit record";
    } else {
      EXPECT_EQ(file_size(s.first_event_file), stream.next_position()) << "no commit record";
    }
    EXPECT_EQ(keystream_segments(**store), segments + (start == 0 ? 0 : 1));
    lone_round(**writer, log, **store, stream, 1);
    EXPECT_GT(file_size(s.first_event_file), stream.next_position()) << "a commit record";
    EXPECT_EQ(keystream_segments(**store), segments + (start == 0 ? 0 : 1));
    ASSERT_TRUE((*writer)->stop());
  }
  EXPECT_EQ(read_back_differences(s.data, s.options, stream.events()), "");
}

// Writes a lone round whose index is then lost (acknowledged_round_without_index), rewrites the
// commit record at the end of the event file as `edit` changes the file and the record's body (the
// footer made to match), and returns the durable end the next open recovers, and the end of what
// the index alone held.
struct Recovered {
  std::uint64_t durable_end = 0;
  std::uint64_t indexed_end = 0;
};

Recovered recover_after_rewriting_the_record(const std::function<void(Bytes& file, Bytes& body)>& edit) {
  LoneStore s = make_store(true);
  const TestStream stream = acknowledged_round_without_index(s);
  Recovered recovered;
  recovered.indexed_end = stream.next_position() - 2 * 3 * 150;
  Bytes file = testing::file_bytes(s.first_event_file);
  auto record = read_record(file);
  EXPECT_TRUE(record && record->version == 2 && record->start == stream.next_position());
  if (!record) return recovered;
  Bytes body = record->body;
  edit(file, body);
  file.resize(record->start);
  append_record(file, body);
  write_file(s.first_event_file, file);
  auto store = BinlogStore::open(s.data, s.options);
  EXPECT_TRUE(store && (*store)->durable_end()) << (store ? "" : store.error().message());
  if (store && (*store)->durable_end()) recovered.durable_end = (*store)->durable_end()->position;
  return recovered;
}

// An encrypted file's record must be sealed: anyone can make its CRCs match changed bytes, and
// AES-CTR lets one flip chosen bits of the plain bytes without the key.
TEST(LoneCommitEncrypted, ARoundWhoseCrcsWereMadeToMatchChangedBytesIsCutNotIndexed) {
  const Recovered recovered = recover_after_rewriting_the_record([](Bytes& file, Bytes& body) {
    ByteReader header(body);
    (void)header.u32("version");
    (void)header.u32("file");
    const std::uint64_t first = header.u64("first").value_or(0);
    const std::uint64_t end = header.u64("end").value_or(0);
    file[first + 200] ^= 0x20;  // a stored event byte: the plain byte under it flips too
    ByteWriter crc;
    crc.u32(commit_record_crc(ByteView(file).subspan(first, end - first)));
    std::copy(crc.data().begin(), crc.data().end(), body.begin() + kPayloadCrcOffset);
  });
  EXPECT_EQ(recovered.durable_end, recovered.indexed_end);
}

// A record without the MAC (version 1, CRCs right) is not taken from an encrypted file, even with
// the round's bytes as they were written.
TEST(LoneCommitEncrypted, ARecordWithoutItsMacIsNotTaken) {
  const Recovered recovered = recover_after_rewriting_the_record([](Bytes&, Bytes& body) {
    body.resize(body.size() - 32);
    body[0] = 1;  // u32 LE version
  });
  EXPECT_EQ(recovered.durable_end, recovered.indexed_end);
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, LoneCommit, ::testing::Bool(),
                         [](const auto& test) { return test.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace brelay::storage
