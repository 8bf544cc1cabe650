// Encryption at rest (issue 17, store format 6): a position of an encrypted file written again
// takes a fresh keystream (a keystream segment), the record's MAC binds its nonces and the run MACs
// the segment's nonce, and older stores convert.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "storage/file_ciphers.h"
#include "storage/store_format.h"
#include "storage/store_reader.h"
#include "storage/store_writer.h"
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
using testing::third_file_info;
using testing::write_store;
using testing::Written;

// Version 6: the record's MAC also binds the nonce and the keystream segments, so a changed nonce
// or segment is damage, not a wrong decryption served; a version 5 record's MAC is checked in its
// own form and add_keystream_part() converts it; neither form passes for the other.
TEST(EncryptedFormat, TheRecordMacBindsTheNonceAndTheKeystreamSegments) {
  const FileInfo info = third_file_info();
  FileCiphers ciphers("dir", keys_with({1}));
  auto created = ciphers.create(3);
  ASSERT_TRUE(created && *created);
  FileEncryption encryption = (*created)->first;
  FileCipher cipher = (*created)->second;
  encryption.segments = {crypto::NonceSegment{1000, {}}};
  cipher.segments = encryption.segments;
  auto encoded = encode_file_record(info, encryption, &cipher);
  ASSERT_TRUE(encoded) << encoded.error().message();
  auto record = FileRecordView::decode(*encoded);
  ASSERT_TRUE(record);
  auto back = decode_file_info(3, *record, &cipher);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->format_description, info.format_description);
  auto of = ciphers.of(3, *record);
  ASSERT_TRUE(of && *of);
  EXPECT_EQ(**of, cipher);

  auto refused = [&](const FileRecordView& changed) {
    Bytes bytes = changed.encode();
    auto decoded = FileRecordView::decode(bytes);
    if (!decoded) return ::testing::AssertionFailure() << decoded.error().message();
    auto info_back = decode_file_info(3, *decoded, &cipher);
    if (info_back) return ::testing::AssertionFailure() << "accepted";
    if (info_back.error().code() != kStoreDamagedCode)
      return ::testing::AssertionFailure() << info_back.error().message();
    return ::testing::AssertionSuccess();
  };
  FileRecordView changed = *record;
  changed.encryption->nonce[0] ^= 1;
  EXPECT_TRUE(refused(changed));
  changed = *record;
  changed.encryption->segments[0].nonce[7] ^= 1;
  EXPECT_TRUE(refused(changed));
  changed = *record;
  changed.encryption->segments[0].start += 16;
  EXPECT_TRUE(refused(changed));
  changed = *record;
  changed.encryption->segments.clear();
  EXPECT_TRUE(refused(changed));
  changed = *record;
  changed.encryption->segments.clear();
  changed.encryption->keystream_part = false;  // the new MAC checked in the old form
  EXPECT_TRUE(refused(changed));               // in a version 6 store: not even checked
  cipher.unbound_records_accepted = true;
  EXPECT_TRUE(refused(changed));  // in an older store: checked, and it fails
  cipher.unbound_records_accepted = false;

  // A version 5 record (no segments then) reads in a store not converted yet (damage in a version 6
  // one), and converts.
  FileRecordView unsegmented = *record;
  unsegmented.encryption->segments.clear();
  const Bytes old_bytes = testing::version_5_record(unsegmented, cipher);
  auto old = FileRecordView::decode(old_bytes);
  ASSERT_TRUE(old);
  EXPECT_TRUE(refused(*old));
  cipher.unbound_records_accepted = true;
  auto old_info = decode_file_info(3, *old, &cipher);
  ASSERT_TRUE(old_info) << old_info.error().message();
  EXPECT_EQ(old_info->previous_gtids, info.previous_gtids);
  auto converted = add_keystream_part(*old, cipher);
  ASSERT_TRUE(converted) << converted.error().message();
  auto upgraded = FileRecordView::decode(*converted);
  ASSERT_TRUE(upgraded);
  EXPECT_TRUE(upgraded->encryption->keystream_part);
  auto upgraded_info = decode_file_info(3, *upgraded, &cipher);
  ASSERT_TRUE(upgraded_info) << upgraded_info.error().message();
  EXPECT_EQ(upgraded_info->format_description, info.format_description);
  changed = *old;
  changed.encryption->keystream_part = true;  // the old MAC checked in the new form
  EXPECT_TRUE(refused(changed));
  FileRecordView damaged_old = *old;
  damaged_old.encryption->metadata_mac[20] ^= 1;
  auto not_converted = add_keystream_part(damaged_old, cipher);
  ASSERT_FALSE(not_converted);
  EXPECT_EQ(not_converted.error().code(), kStoreDamagedCode);
}

// The plain bytes of `file` as `events` lay them out, `size` bytes (zero where no event is).
Bytes plain_image(const std::vector<testing::StoredEvent>& events, const std::string& file,
                  std::size_t size) {
  Bytes image(size, 0);
  for (const testing::StoredEvent& event : events) {
    if (event.file != file) continue;
    for (std::size_t i = 0; i < event.bytes.size() && event.position + i < size; ++i)
      image[event.position + i] = event.bytes[i];
  }
  return image;
}

// Two versions of the bytes at positions [from, to) of an encrypted file: how many plain bytes
// differ between them, and at how many of those the stored bytes differ exactly as the plain ones
// do (what a keystream used for both gives at every byte, and a fresh one at about 1 in 256).
struct KeystreamReuse {
  std::size_t differing = 0;
  std::size_t reused = 0;
};
KeystreamReuse keystream_reuse(const Bytes& stored_before, const Bytes& stored_after,
                               const Bytes& plain_before, const Bytes& plain_after, std::size_t from,
                               std::size_t to) {
  KeystreamReuse reuse;
  for (std::size_t i = from; i < to; ++i) {
    const auto plain_xor = static_cast<std::uint8_t>(plain_before[i] ^ plain_after[i]);
    if (plain_xor == 0) continue;
    reuse.differing += 1;
    if (static_cast<std::uint8_t>(stored_before[i] ^ stored_after[i]) == plain_xor) reuse.reused += 1;
  }
  return reuse;
}

// The unfinished tail a writer left past the durable end is trimmed at the next open and the
// producer sends other bytes for the same positions: they are encrypted under a fresh nonce (a
// keystream segment in the file record), so a copy of the disk from before and one from after do
// not give the XOR of the two plaintexts. Both versions read back right, also after a reopen.
// The writer keeps its newest file's sealed metadata (encrypted FDE and previous GTIDs, and their
// MAC) across the commits that write the record again: it is made again, not reused, when the
// cipher's segments, the FDE or the previous GTIDs change.
TEST(EncryptedFormat, SealedMetadataIsReusedOnlyForTheSameCipherAndMetadata) {
  FileInfo info = third_file_info();
  FileCiphers ciphers("dir", keys_with({1}));
  auto created = ciphers.create(3);
  ASSERT_TRUE(created && *created);
  const FileEncryption encryption = (*created)->first;
  FileCipher cipher = (*created)->second;
  std::optional<SealedMetadata> sealed;
  auto decoded = [&](const Result<Bytes>& encoded) -> Result<FileInfo> {
    if (!encoded) return encoded.error();
    BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(*encoded));
    return decode_file_info(3, record, &cipher);
  };
  const auto first = encode_file_record(info, encryption, &cipher, &sealed);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(decoded(first));
  info.end_position += 1000;  // what changes at every commit
  const auto again = encode_file_record(info, encryption, &cipher, &sealed);
  ASSERT_TRUE(again) << again.error().message();
  const auto unsealed = encode_file_record(info, encryption, &cipher);
  ASSERT_TRUE(unsealed);
  auto mac_of = [](const Bytes& encoded) {
    auto record = FileRecordView::decode(encoded);
    return record && record->encryption ? record->encryption->metadata_mac : crypto::Mac256{};
  };
  // The same MAC as before (a fresh one has a fresh random IV), still authentic.
  EXPECT_EQ(mac_of(*again), mac_of(*first));
  EXPECT_NE(mac_of(*unsealed), mac_of(*first));
  EXPECT_TRUE(decoded(again));
  cipher.segments.push_back(crypto::NonceSegment{2000, {7}});
  auto segmented = decoded(encode_file_record(info, encryption, &cipher, &sealed));
  EXPECT_TRUE(segmented) << segmented.error().message();
  info.previous_gtids.push_back(9);
  auto grown = decoded(encode_file_record(info, encryption, &cipher, &sealed));
  ASSERT_TRUE(grown) << grown.error().message();
  EXPECT_EQ(grown->previous_gtids, info.previous_gtids);
  info.format_description[10] ^= 1;
  auto changed = decoded(encode_file_record(info, encryption, &cipher, &sealed));
  ASSERT_TRUE(changed) << changed.error().message();
  EXPECT_EQ(changed->format_description, info.format_description);
}

TEST(EncryptedStore, APositionWrittenAgainAfterARestartIsEncryptedUnderAFreshNonce) {
  Written w = write_store(keys_with({1}), true);
  const std::string event_file = w.data + "/events/0000000002.events";
  const Bytes stored_before = file_bytes(event_file);
  const std::uint64_t boundary = w.stream.boundary_position();
  ASSERT_GT(stored_before.size(), boundary + 1000);
  const Bytes plain_before = plain_image(w.stream.events(), w.stream.current_file(), stored_before.size());
  StoreOptions options;
  options.master_keys = keys_with({1});
  Bytes record_before;  // file 2's record before the writer starts a segment
  {
    auto store = BinlogStore::open(w.data, options);
    ASSERT_TRUE(store) << store.error().message();
    ASSERT_TRUE(record_of(**store, 2, record_before));
    ProgressLog log;
    auto writer = StoreWriter::start(**store, {}, log.callback());
    ASSERT_TRUE(writer) << writer.error().message();
    w.stream.rewind_to(boundary);
    WriteBatch batch;
    w.stream.transaction(batch, 3, 700);
    ASSERT_TRUE((*writer)->submit(std::move(batch)));
    ASSERT_TRUE(log.wait_durable(w.stream.current_file(), w.stream.next_position()));
    ASSERT_TRUE((*writer)->stop());
    Bytes value;
    auto record = record_of(**store, 2, value);
    ASSERT_TRUE(record && record->encryption);
    ASSERT_EQ(record->encryption->segments.size(), 1u);
    EXPECT_EQ(record->encryption->segments[0].start, boundary);
  }
  const Bytes stored_after = file_bytes(event_file);
  const Bytes plain_after = plain_image(w.stream.events(), w.stream.current_file(), stored_after.size());
  const std::size_t overlap_end = std::min(stored_before.size(), stored_after.size());
  const KeystreamReuse reuse =
      keystream_reuse(stored_before, stored_after, plain_before, plain_after, boundary, overlap_end);
  EXPECT_GT(reuse.differing, 1000u);
  EXPECT_LT(reuse.reused, reuse.differing / 32) << "of " << reuse.differing << " differing bytes";
  // Before the new segment, the bytes are the same ones.
  EXPECT_TRUE(std::equal(stored_before.begin(), stored_before.begin() + static_cast<long>(boundary),
                         stored_after.begin()));
  EXPECT_EQ(read_back_differences(w.data, options, w.stream.events()), "");
  // The record from before the segment put back, its end (not authenticated) moved to the new end:
  // the runs under the segment fail their checks (their MACs bind its nonce) instead of decrypting
  // to noise under the first nonce.
  ASSERT_TRUE(testing::edit_index(w.data, [&](LmdbTxn& txn, const StoreDatabases& dbs) -> Status {
    BRELAY_ASSIGN_OR_RETURN(FileRecordView old, FileRecordView::decode(record_before));
    old.end_position = w.stream.next_position();
    return txn.put(dbs.files, encode_file_key(2), old.encode());
  }));
  const std::string refused = read_back_differences(w.data, options, w.stream.events());
  EXPECT_NE(refused.find("fail their authentication check (MAC mismatch)"), std::string::npos) << refused;
}

// Reads on from where `reader` is until the durable end, appending one entry per event.
Status read_on(StoreReader& reader, std::vector<testing::StoredEvent>& events) {
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(ReadBatch batch, reader.read(1 << 20));
    for (const EventRun& run : batch.runs) {
      for (std::size_t i = 0; i < run.event_count(); ++i) {
        const ByteView event = run.event(i);
        events.push_back(testing::StoredEvent{reader.file().name, run.event_position(i),
                                              Bytes(event.begin(), event.end())});
      }
    }
    reader.consume(batch.bytes);
    if (batch.at_durable_end) return {};
  }
}

// A transaction cut off (the upstream lost its source) and sent again from its start by a running
// writer: the second version's bytes take a fresh nonce from the transaction's start, and a reader
// that was already in the file reads them under it (it follows the record's segments).
TEST(EncryptedStore, AnAbandonedTransactionWrittenAgainIsEncryptedUnderAFreshNonce) {
  Written w = write_store(keys_with({1}));
  const std::string event_file = w.data + "/events/0000000002.events";
  StoreOptions options;
  options.master_keys = keys_with({1});
  auto store = BinlogStore::open(w.data, options);
  ASSERT_TRUE(store) << store.error().message();
  auto opened = StoreReader::open(**store);
  ASSERT_TRUE(opened) << opened.error().message();
  auto reader = std::make_unique<StoreReader>(std::move(*opened));
  ASSERT_TRUE(reader->seek_oldest());
  std::vector<testing::StoredEvent> read;
  ASSERT_TRUE(read_on(*reader, read));
  ASSERT_EQ(testing::compare_events(read, w.stream.events()), "");
  ProgressLog log;
  auto writer = StoreWriter::start(**store, {}, log.callback());
  ASSERT_TRUE(writer) << writer.error().message();
  const std::uint64_t boundary = w.stream.boundary_position();
  WriteBatch cut;
  w.stream.unfinished_events(cut, 3, 900);
  const std::uint64_t unfinished_end = w.stream.next_position();
  const Bytes plain_before = plain_image(w.stream.events(), w.stream.current_file(), unfinished_end);
  ASSERT_TRUE((*writer)->submit(std::move(cut)));
  // The writer writes the unfinished events' bytes (and indexes them, unpublished).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (file_bytes(event_file).size() < unfinished_end && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const Bytes stored_before = file_bytes(event_file);
  ASSERT_GE(stored_before.size(), unfinished_end);
  WriteBatch again;
  w.stream.abandon(again);
  w.stream.transaction(again, 3, 900);
  w.stream.transaction(again, 2, 300);
  ASSERT_TRUE((*writer)->submit(std::move(again)));
  ASSERT_TRUE(log.wait_durable(w.stream.current_file(), w.stream.next_position()));
  ASSERT_TRUE((*writer)->stop());
  const Bytes stored_after = file_bytes(event_file);
  const Bytes plain_after = plain_image(w.stream.events(), w.stream.current_file(), stored_after.size());
  const KeystreamReuse reuse =
      keystream_reuse(stored_before, stored_after, plain_before, plain_after, boundary, unfinished_end);
  EXPECT_GT(reuse.differing, 2000u);
  EXPECT_LT(reuse.reused, reuse.differing / 32) << "of " << reuse.differing << " differing bytes";
  Bytes value;
  auto record = record_of(**store, 2, value);
  ASSERT_TRUE(record && record->encryption);
  // The writer found the file, so its first write began a segment at the boundary; writing the
  // abandoned transaction's positions again began another there, which replaced it.
  ASSERT_EQ(record->encryption->segments.size(), 1u);
  EXPECT_EQ(record->encryption->segments[0].start, boundary);
  ASSERT_TRUE(read_on(*reader, read));
  EXPECT_EQ(testing::compare_events(read, w.stream.events()), "");
  reader.reset();
  writer->reset();
  store->reset();
  EXPECT_EQ(read_back_differences(w.data, options, w.stream.events()), "");
}

// A version 5 store (records without the keystream part, MACs in the old form) reads as it is when
// opened read-only; an open for writing converts every encrypted record, and the store reads the
// same afterwards.
TEST(EncryptedStore, AVersion5StoreGetsItsKeystreamPartsWhenOpenedForWriting) {
  Written w = write_store(keys_with({1}));
  Bytes old_first_record;
  Status made_old = testing::edit_index(w.data, [&](LmdbTxn& txn, const StoreDatabases& dbs) -> Status {
    BRELAY_TRY(testing::rewrite_records_as_version_5(txn, dbs, keys_with({1})));
    BRELAY_ASSIGN_OR_RETURN(auto first, txn.get(dbs.files, encode_file_key(1)));
    if (!first) return make_error("no record 1");
    old_first_record.assign(first->begin(), first->end());
    return {};
  });
  ASSERT_TRUE(made_old) << made_old.error().message();
  ASSERT_TRUE(testing::write_format_version(w.data, 5));
  StoreOptions options;
  options.master_keys = keys_with({1});
  StoreOptions read_only = options;
  read_only.read_only = true;
  EXPECT_EQ(read_back_differences(w.data, read_only, w.stream.events()), "");
  {
    auto store = BinlogStore::open(w.data, options);
    ASSERT_TRUE(store) << store.error().message();
    auto version = testing::stored_format_version(**store);
    ASSERT_TRUE(version);
    EXPECT_EQ(*version, kStoreFormatVersion);
    for (std::uint32_t seq : {1u, 2u}) {
      Bytes value;
      auto record = record_of(**store, seq, value);
      ASSERT_TRUE(record && record->encryption);
      EXPECT_TRUE(record->encryption->keystream_part) << seq;
    }
  }
  EXPECT_EQ(read_back_differences(w.data, options, w.stream.events()), "");
  // A record of the older form put back into the converted store is damage, not read.
  ASSERT_TRUE(testing::edit_index(w.data, [&](LmdbTxn& txn, const StoreDatabases& dbs) -> Status {
    return txn.put(dbs.files, encode_file_key(1), old_first_record);
  }));
  const std::string refused = read_back_differences(w.data, options, w.stream.events());
  EXPECT_NE(refused.find("has the form of a store older than version 6"), std::string::npos) << refused;
  // And with the version number set back too, so that the older form would be accepted again: the
  // other file's version 6 record gives it away, read-only or not.
  ASSERT_TRUE(testing::write_format_version(w.data, 5));
  for (const StoreOptions& opening : {read_only, options}) {
    auto store = BinlogStore::open(w.data, opening);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code(), kStoreDamagedCode);
    EXPECT_NE(store.error().message().find("format version was changed on disk"), std::string::npos)
        << store.error().message();
  }
}

}  // namespace
}  // namespace brelay::storage
