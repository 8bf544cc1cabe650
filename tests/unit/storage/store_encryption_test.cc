// Encryption at rest in the store (issue 17): the format's encryption parts, the writer and reader
// round trip, tamper detection, keys, conversion of a version 2 store, recovery and rekey. Keystream
// segments (format 6) are in store_keystream_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <string_view>

#include "storage/file_ciphers.h"
#include "storage/store_format.h"
#include "storage/store_internals.h"
#include "storage/store_reader.h"
#include "storage/store_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/encrypted_store_support.h"
#include "tests/unit/storage/store_test_stream.h"

// GCC 12 takes the copies of a FileRecordView (an optional FileEncryption holding a vector) below
// for reads of an uninitialized vector (a false positive of -Wmaybe-uninitialized with std::optional).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace brelay::storage {
namespace {

using testing::file_bytes;
using testing::keys_with;
using testing::ProgressLog;
using testing::read_back_differences;
using testing::record_of;
using testing::TestStream;
using testing::third_file_info;
using testing::write_store;
using testing::Written;

bool contains(const Bytes& haystack, ByteView needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

FileRecordView encrypted_record() {
  FileRecordView record;
  record.first_position = 4;
  record.end_position = 1000;
  record.name = "mysql-bin.000001";
  static const Bytes fde(120, 0x11);
  static const Bytes previous(20, 0x22);
  record.format_description = fde;
  record.previous_gtids = previous;
  FileEncryption encryption;
  encryption.data_key.master_id = 7;
  encryption.data_key.bytes.fill(0x33);
  encryption.nonce.fill(0x44);
  encryption.metadata_mac.fill(0x55);
  record.encryption = encryption;
  return record;
}

TEST(EncryptedFormat, FileRecordRoundTripsWithAndWithoutItsEncryptionPart) {
  FileRecordView record = encrypted_record();
  const Bytes encoded = record.encode();
  auto decoded = FileRecordView::decode(encoded);
  ASSERT_TRUE(decoded) << decoded.error().message();
  ASSERT_TRUE(decoded->encryption);
  EXPECT_EQ(decoded->encryption->data_key.master_id, 7u);
  EXPECT_EQ(decoded->encryption->data_key.bytes, record.encryption->data_key.bytes);
  EXPECT_EQ(decoded->encryption->nonce, record.encryption->nonce);
  EXPECT_EQ(decoded->encryption->metadata_mac, record.encryption->metadata_mac);
  EXPECT_TRUE(decoded->encryption->keystream_part);
  EXPECT_TRUE(decoded->encryption->segments.empty());
  EXPECT_EQ(decoded->encode(), encoded);

  FileRecordView plain = record;
  plain.encryption.reset();
  const Bytes plain_encoded = plain.encode();
  EXPECT_EQ(plain_encoded.size() + 1 + 4 + 60 + 8 + 32 + 1 + 4, encoded.size());
  auto plain_decoded = FileRecordView::decode(plain_encoded);
  ASSERT_TRUE(plain_decoded);
  EXPECT_FALSE(plain_decoded->encryption);

  // Keystream segments (version 6), and a version 3 to 5 record without the keystream part.
  crypto::NonceSegment later{5000, {}};
  later.nonce.fill(0x66);
  record.encryption->segments = {crypto::NonceSegment{700, {}}, later};
  const Bytes with_segments = record.encode();
  EXPECT_EQ(with_segments.size(), encoded.size() + 2 * 16);
  auto segmented = FileRecordView::decode(with_segments);
  ASSERT_TRUE(segmented) << segmented.error().message();
  EXPECT_EQ(segmented->encryption->segments, record.encryption->segments);
  EXPECT_EQ(segmented->encode(), with_segments);
  record.encryption->segments.clear();
  record.encryption->keystream_part = false;
  const Bytes old_form = record.encode();
  EXPECT_EQ(old_form.size(), encoded.size() - 5);
  auto old_decoded = FileRecordView::decode(old_form);
  ASSERT_TRUE(old_decoded) << old_decoded.error().message();
  EXPECT_FALSE(old_decoded->encryption->keystream_part);
  EXPECT_EQ(old_decoded->encode(), old_form);
}

TEST(EncryptedFormat, DamagedEncryptionPartsAreErrors) {
  FileRecordView record = encrypted_record();
  record.encryption->segments = {crypto::NonceSegment{700, {}}, crypto::NonceSegment{900, {}}};
  const Bytes encoded = record.encode();
  FileRecordView plain = encrypted_record();
  plain.encryption.reset();
  const std::size_t plain_size = plain.encode().size();
  const std::size_t keystream_at = plain_size + 1 + 4 + 60 + 8 + 32;
  // Every cut inside the encryption and keystream parts fails (a cut exactly before either is a
  // record without it).
  for (std::size_t cut = plain_size + 1; cut < encoded.size(); ++cut) {
    if (cut == keystream_at) continue;
    EXPECT_FALSE(FileRecordView::decode(ByteView(encoded).first(cut))) << "cut at " << cut;
  }
  Bytes bad_tag = encoded;
  bad_tag[plain_size] = 2;
  EXPECT_FALSE(FileRecordView::decode(bad_tag));
  Bytes zero_id = encoded;
  std::fill_n(zero_id.begin() + static_cast<long>(plain_size) + 1, 4, 0);
  EXPECT_FALSE(FileRecordView::decode(zero_id));
  Bytes longer = encoded;
  longer.push_back(0);
  EXPECT_FALSE(FileRecordView::decode(longer));
  // A keystream part without an encryption part, twice, with a count past its bytes, with starts
  // out of order or in the run MACs' segment domain. (A first segment may start at 0.)
  Bytes alone = plain.encode();
  alone.insert(alone.end(), encoded.begin() + static_cast<long>(keystream_at), encoded.end());
  EXPECT_FALSE(FileRecordView::decode(alone));
  Bytes twice = encoded;
  twice.insert(twice.end(), encoded.begin() + static_cast<long>(keystream_at), encoded.end());
  EXPECT_FALSE(FileRecordView::decode(twice));
  Bytes counted = encoded;
  counted[keystream_at + 1] = 3;
  EXPECT_FALSE(FileRecordView::decode(counted));
  for (const std::uint64_t second :
       {std::uint64_t{700}, std::uint64_t{600}, FileEncryption::kSegmentRunDomain}) {
    FileRecordView bad = record;
    bad.encryption->segments[1].start = second;
    EXPECT_FALSE(FileRecordView::decode(bad.encode())) << second;
  }
  FileRecordView at_zero = record;
  at_zero.encryption->segments[0].start = 0;
  EXPECT_TRUE(FileRecordView::decode(at_zero.encode()));
}

TEST(EncryptedFormat, RunsCarryAnOptionalMac) {
  const std::vector<std::uint32_t> ends = {10, 30};
  crypto::Mac256 mac{};
  mac.fill(0x9c);
  Bytes with(RunView::encoded_size(2, true));
  RunView::write(with, ends, &mac);
  auto run = RunView::parse(with);
  ASSERT_TRUE(run) << run.error().message();
  ASSERT_TRUE(run->mac());
  EXPECT_EQ(*run->mac(), mac);
  EXPECT_EQ(run->payload_size(), 30u);
  Bytes without(RunView::encoded_size(2));
  RunView::write(without, ends);
  ASSERT_TRUE(RunView::parse(without));
  EXPECT_FALSE(RunView::parse(without)->mac());
  for (std::size_t cut = 0; cut < with.size(); ++cut)
    EXPECT_FALSE(RunView::parse(ByteView(with).first(cut))) << "cut at " << cut;
  Bytes odd = with;
  odd.insert(odd.begin(), 0);
  EXPECT_FALSE(RunView::parse(odd));
}

TEST(EncryptedFormat, RecordMetadataIsEncryptedAndAuthenticated) {
  const FileInfo info = third_file_info();
  FileCiphers ciphers("dir", keys_with({1}));
  auto created = ciphers.create(3);
  ASSERT_TRUE(created && *created);
  auto encoded = encode_file_record(info, (*created)->first, &(*created)->second);
  ASSERT_TRUE(encoded) << encoded.error().message();
  EXPECT_FALSE(contains(*encoded, Bytes(64, 0x61)));
  auto record = FileRecordView::decode(*encoded);
  ASSERT_TRUE(record);
  auto back = decode_file_info(3, *record, &(*created)->second);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->format_description, info.format_description);
  EXPECT_EQ(back->previous_gtids, info.previous_gtids);
  Bytes tampered = *encoded;
  tampered[tampered.size() - 200] ^= 1;  // inside the encrypted FDE / previous GTIDs
  auto damaged = FileRecordView::decode(tampered);
  ASSERT_TRUE(damaged);
  auto refused = decode_file_info(3, *damaged, &(*created)->second);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), kStoreDamagedCode);
}

TEST(EncryptedStore, WriterAndReaderRoundTripAndNoEventBytesArePlainOnDisk) {
  Written w = write_store(keys_with({1}));
  StoreOptions options;
  options.master_keys = keys_with({1});
  auto store = BinlogStore::open(w.data, options);
  ASSERT_TRUE(store) << store.error().message();
  for (std::size_t read_size : {std::size_t{1} << 20, std::size_t{700}}) {
    auto events = testing::read_everything(**store, read_size);
    ASSERT_TRUE(events) << events.error().message();
    EXPECT_EQ(testing::compare_events(*events, w.stream.events()), "") << read_size;
  }
  auto files = (*store)->list_files();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].format_description, TestStream::format_description_for((*files)[0].name));
  auto summary = (*store)->encryption_summary();
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->encrypted_files, 2u);
  EXPECT_EQ(summary->plain_files, 0u);
  const Bytes event_file = file_bytes(w.data + "/events/0000000001.events");
  const Bytes index = file_bytes(w.data + "/data.mdb");
  for (const auto& event : w.stream.events()) {
    if (event.bytes.size() < 64) continue;
    const ByteView window = ByteView(event.bytes).subspan(event.bytes.size() - 64);
    ASSERT_FALSE(contains(event_file, window)) << event.position;
    ASSERT_FALSE(contains(index, window)) << event.position;
  }
}

// An encrypted store in a fresh directory and a writer on it, whose commit statistics are summed.
struct HelperRun {
  std::optional<testing::TempDir> dir;
  std::string data;
  StoreOptions options;
  std::unique_ptr<BinlogStore> store;
  ProgressLog log;
  std::mutex mutex;
  StoreWriter::CommitStats sum;  // guarded by mutex
  std::unique_ptr<StoreWriter> writer;

  ::testing::AssertionResult start(std::string_view label, const StoreWriter::Options& writer_options) {
    auto made = testing::TempDir::create(label);
    if (!made) return ::testing::AssertionFailure() << made.error().message();
    dir.emplace(std::move(*made));
    data = dir->file("data");
    options.master_keys = keys_with({1});
    auto opened = BinlogStore::open(data, options);
    if (!opened) return ::testing::AssertionFailure() << opened.error().message();
    store = std::move(*opened);
    auto started = StoreWriter::start(*store, writer_options, log.callback(),
                                      [this](const StoreWriter::CommitStats& stats) {
                                        std::lock_guard lock(mutex);
                                        sum.event_bytes += stats.event_bytes;
                                        sum.run_macs += stats.run_macs;
                                        sum.run_macs_ahead += stats.run_macs_ahead;
                                        sum.run_macs_while_written += stats.run_macs_while_written;
                                        sum.event_bytes_encrypted_ahead += stats.event_bytes_encrypted_ahead;
                                      });
    if (!started) return ::testing::AssertionFailure() << started.error().message();
    writer = std::move(*started);
    return ::testing::AssertionSuccess();
  }
  StoreWriter::CommitStats summed() {
    std::lock_guard lock(mutex);
    return sum;
  }
  // Stops the writer, closes the store and reads it back against `expected` ("" when equal).
  std::string stop_and_read_back(const std::vector<testing::StoredEvent>& expected) {
    if (Status stopped = writer->stop(); !stopped) return stopped.error().message();
    writer.reset();
    store.reset();
    return read_back_differences(data, options, expected);
  }
};

// The writer's second crypto thread: a round's run MACs are planned from its batches and computed
// there while the previous round commits, and a large write's AES-CTR is done there a chunk ahead
// of its writes. A round with two files, an abandoned transaction rewritten at the same positions,
// runs cut at their size and an unfinished tail: every MAC is the planned one, and everything
// reads back.
TEST(EncryptedStore, TheCryptoHelperComputesEveryRunMacOfARoundAndEncryptsLargeWrites) {
  HelperRun run;
  StoreWriter::Options writer_options;
  writer_options.max_run_bytes = 3000;
  ASSERT_TRUE(run.start("store-crypto-helper", writer_options));
  TestStream stream;
  for (int round = 0; round < 3; ++round) {
    WriteBatch batch;
    if (round == 0) stream.begin_file(batch);
    for (int i = 0; i < 700; ++i)  // 2100 events of 500-740 bytes: one write of two chunks
      stream.transaction(batch, 3, 500 + 60 * (i % 5));
    stream.unfinished_events(batch, 3, 900);
    stream.abandon(batch);
    for (int i = 0; i < 20; ++i)
      stream.transaction(batch, 2, 1200);
    stream.end_file(batch);
    stream.begin_file(batch);
    for (int i = 0; i < 30; ++i)
      stream.transaction(batch, 4, 333);
    if (round == 2) stream.unfinished_events(batch, 5, 700);
    ASSERT_TRUE(run.writer->submit(std::move(batch)));
    ASSERT_TRUE(run.log.wait_durable(stream.current_file(), stream.boundary_position()));
  }
  // Each abandoned transaction was written again under a keystream segment: in round 0 in a file
  // the same round created, then in files created by the round before; the MACs of the runs under
  // them (which bind the segment's nonce) were all planned on the helper.
  for (std::uint32_t seq : {1u, 2u, 3u, 4u}) {
    Bytes value;
    auto record = record_of(*run.store, seq, value);
    ASSERT_TRUE(record && record->encryption);
    EXPECT_EQ(record->encryption->segments.size(), seq < 4 ? 1u : 0u) << seq;
  }
  EXPECT_EQ(run.stop_and_read_back(stream.complete_events()), "");
  const StoreWriter::CommitStats sum = run.summed();
  EXPECT_GT(sum.run_macs, 1500u);
  EXPECT_EQ(sum.run_macs_ahead, sum.run_macs);
}

// While rounds queue up, the helper encrypts the next round's batches (where they go on with the
// file being written) while the round before commits, and that round writes the ready ciphertext;
// a round whose last write is all ready has its run MACs computed while it is written. Small rounds
// of a backlog with an abandoned transaction written again at the same positions and a new file (a
// new key) on the way: bytes were encrypted ahead, MACs were computed during writes (not for the
// first round, nor for the rounds whose last write follows an abandoned transaction or begins a
// file), and everything reads back.
TEST(EncryptedStore, TheNextRoundIsEncryptedAheadWhileRoundsQueueUp) {
  HelperRun run;
  StoreWriter::Options writer_options;
  writer_options.max_commit_bytes = 64 << 10;
  writer_options.queue_limit_bytes = 64 << 20;
  ASSERT_TRUE(run.start("store-crypto-ahead", writer_options));
  TestStream stream;
  std::vector<WriteBatch> backlog(60);
  stream.begin_file(backlog[0]);
  for (std::size_t index = 0; index < backlog.size(); ++index) {
    WriteBatch& batch = backlog[index];
    for (int i = 0; i < 30; ++i)
      stream.transaction(batch, 2, 300 + 40 * (i % 7));
    if (index % 10 == 4) {
      stream.unfinished_events(batch, 2, 500);
      stream.abandon(batch);
      stream.transaction(batch, 3, 450);
    }
    if (index % 20 == 13) {
      stream.end_file(batch);
      stream.begin_file(batch);
      stream.transaction(batch, 2, 350);
    }
  }
  for (WriteBatch& batch : backlog)
    ASSERT_TRUE(run.writer->submit(std::move(batch)));
  ASSERT_TRUE(run.log.wait_durable(stream.current_file(), stream.boundary_position()));
  EXPECT_EQ(run.stop_and_read_back(stream.complete_events()), "");
  const StoreWriter::CommitStats sum = run.summed();
  EXPECT_GT(sum.event_bytes_encrypted_ahead, sum.event_bytes / 2);
  EXPECT_LT(sum.event_bytes_encrypted_ahead, sum.event_bytes);
  EXPECT_GT(sum.run_macs_while_written, sum.run_macs / 4);  // 12-13 of 35-36 when measured
  EXPECT_LT(sum.run_macs_while_written, sum.run_macs_ahead);
}

// A round that begins an encrypted file and fails after its MACs were planned (its index does not
// fit the map) is written again once the writer resumes: the file number comes again with a new
// data key, and the runs' MACs are made under that key (the helper's MAC context is not reused).
TEST(EncryptedStore, AFileWrittenAgainAfterAFailedRoundIsMacedUnderItsNewKey) {
  auto dir = testing::TempDir::create("store-crypto-retry");
  ASSERT_TRUE(dir);
  const std::string data = dir->file("data");
  StoreOptions options;
  options.master_keys = keys_with({1});
  options.map_size = 4 << 20;
  auto store = BinlogStore::open(data, options);
  ASSERT_TRUE(store) << store.error().message();
  ProgressLog log;
  StoreWriter::Options writer_options;
  writer_options.retry_interval = std::chrono::milliseconds(20);
  writer_options.resume_free_bytes = 1 << 20;
  auto writer = StoreWriter::start(**store, writer_options, log.callback());
  ASSERT_TRUE(writer) << writer.error().message();
  TestStream stream;
  WriteBatch first;
  stream.begin_file(first);
  stream.transaction(first, 2, 400);
  ASSERT_TRUE((*writer)->submit(std::move(first)));
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  TestStream retry = stream;  // what the producer sends again after the failure

  WriteBatch too_big;  // a new file and an index larger than the map
  stream.end_file(too_big);
  stream.begin_file(too_big);
  for (int i = 0; i < 200000; ++i)
    stream.transaction(too_big, 1, 40);
  ASSERT_TRUE((*writer)->submit(std::move(too_big)));
  // It fails, and the writer resumes at once (nothing was committed, the map has room again).
  const bool resumed = log.wait_until([&](const StoreWriter::Progress& p) {
    return (p.restarts == 1 && p.accepting) ||
           (p.durable_end && p.durable_end->file == stream.current_file());
  });
  ASSERT_TRUE(resumed);
  ASSERT_EQ(log.latest().restarts, 1u) << "the round did not fail: its index fit the map";

  WriteBatch again;
  retry.end_file(again);
  retry.begin_file(again);
  for (int i = 0; i < 40; ++i)
    retry.transaction(again, 3, 300);
  ASSERT_TRUE((*writer)->submit(std::move(again)));
  ASSERT_TRUE(log.wait_durable(retry.current_file(), retry.next_position()));
  ASSERT_TRUE((*writer)->stop());
  writer->reset();
  store->reset();
  EXPECT_EQ(read_back_differences(data, options, retry.events()), "");
}

TEST(EncryptedStore, AFlippedByteIsDamageNamingTheFileAndPosition) {
  Written w = write_store(keys_with({1}));
  const std::string path = w.data + "/events/0000000002.events";
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(2000);
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x40);
    file.seekp(2000);
    file.write(&byte, 1);
  }
  StoreOptions options;
  options.master_keys = keys_with({1});
  auto store = BinlogStore::open(w.data, options);
  ASSERT_TRUE(store) << store.error().message();
  auto events = testing::read_everything(**store, 1 << 20);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code(), kStoreDamagedCode) << events.error().message();
  EXPECT_NE(events.error().message().find("source-bin.000002 from position"), std::string::npos)
      << events.error().message();
  EXPECT_NE(events.error().message().find("MAC mismatch"), std::string::npos) << events.error().message();
}

TEST(EncryptedStore, AMissingOrWrongKeyRefusesToOpenNamingTheKeyId) {
  Written w = write_store(keys_with({5}));
  auto missing = BinlogStore::open(w.data);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("needs master key id 5 from encryption_key_file"),
            std::string::npos)
      << missing.error().message();
  StoreOptions other;
  other.master_keys = keys_with({4});
  auto wrong_id = BinlogStore::open(w.data, other);
  ASSERT_FALSE(wrong_id);
  EXPECT_NE(wrong_id.error().message().find("master key id 5"), std::string::npos);
  std::vector<crypto::MasterKey> bad = {crypto::MasterKey{5, {}}};
  bad[0].key.fill(0xee);
  StoreOptions wrong;
  wrong.master_keys = std::make_shared<const crypto::MasterKeys>(bad);
  auto wrong_key = BinlogStore::open(w.data, wrong);
  ASSERT_FALSE(wrong_key);
  EXPECT_NE(wrong_key.error().message().find("master key id 5"), std::string::npos);
  StoreOptions read_only;
  read_only.read_only = true;
  EXPECT_FALSE(BinlogStore::open(w.data, read_only));
}

TEST(EncryptedStore, RecoveryTrimsAnUnfinishedEncryptedTail) {
  Written w = write_store(keys_with({1}), true);
  StoreOptions options;
  options.master_keys = keys_with({1});
  auto store = BinlogStore::open(w.data, options);
  ASSERT_TRUE(store) << store.error().message();
  auto events = testing::read_everything(**store);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, w.stream.complete_events()), "");
  ProgressLog log;
  auto writer = StoreWriter::start(**store, {}, log.callback());
  ASSERT_TRUE(writer) << writer.error().message();
  w.stream.rewind_to(w.stream.boundary_position());
  WriteBatch batch;
  w.stream.transaction(batch, 2, 500);
  ASSERT_TRUE((*writer)->submit(std::move(batch)));
  ASSERT_TRUE(log.wait_durable(w.stream.current_file(), w.stream.next_position()));
  ASSERT_TRUE((*writer)->stop());
  auto again = testing::read_everything(**store);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(testing::compare_events(*again, w.stream.events()), "");
}

TEST(EncryptedStore, RekeyRewrapsEveryDataKeyUnderTheNewestMasterKey) {
  Written w = write_store(keys_with({1}));
  {
    StoreOptions options;
    options.master_keys = keys_with({1, 2});
    auto store = BinlogStore::open(w.data, options);
    ASSERT_TRUE(store) << store.error().message();
    auto rewrapped = (*store)->rewrap_data_keys();
    ASSERT_TRUE(rewrapped) << rewrapped.error().message();
    EXPECT_EQ(*rewrapped, 2u);
    EXPECT_EQ(*(*store)->rewrap_data_keys(), 0u);
  }
  StoreOptions only_new;
  only_new.master_keys = keys_with({2});
  auto store = BinlogStore::open(w.data, only_new);
  ASSERT_TRUE(store) << store.error().message();
  auto events = testing::read_everything(**store);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, w.stream.events()), "");
}

TEST(EncryptedStore, AVersion2StoreOpensAsVersion3WithPlainFilesThatStayPlain) {
  Written w = write_store(nullptr);
  ASSERT_TRUE(testing::write_format_version(w.data, 2));
  StoreOptions read_only;
  read_only.read_only = true;
  {
    auto store = BinlogStore::open(w.data, read_only);
    ASSERT_TRUE(store) << store.error().message();
    auto events = testing::read_everything(**store);
    ASSERT_TRUE(events) << events.error().message();
    EXPECT_EQ(testing::compare_events(*events, w.stream.events()), "");
  }
  StoreOptions options;
  options.master_keys = keys_with({1});
  auto store = BinlogStore::open(w.data, options);
  ASSERT_TRUE(store) << store.error().message();
  auto version = testing::stored_format_version(**store);
  ASSERT_TRUE(version) << version.error().message();
  EXPECT_EQ(*version, kStoreFormatVersion);
  // The open plain file goes on plain; the next file is encrypted.
  ProgressLog log;
  auto writer = StoreWriter::start(**store, {}, log.callback());
  ASSERT_TRUE(writer) << writer.error().message();
  WriteBatch batch;
  w.stream.transaction(batch, 2, 300);
  w.stream.end_file(batch);
  w.stream.begin_file(batch);
  w.stream.transaction(batch, 2, 300);
  ASSERT_TRUE((*writer)->submit(std::move(batch)));
  ASSERT_TRUE(log.wait_durable(w.stream.current_file(), w.stream.next_position()));
  ASSERT_TRUE((*writer)->stop());
  auto summary = (*store)->encryption_summary();
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->plain_files, 2u);
  EXPECT_EQ(summary->encrypted_files, 1u);
  auto events = testing::read_everything(**store, 900);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, w.stream.events()), "");
}

}  // namespace
}  // namespace brelay::storage
