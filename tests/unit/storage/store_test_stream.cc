#include "tests/unit/storage/store_test_stream.h"

#include <fmt/format.h>

#include "common/byte_writer.h"
#include "storage/lmdb_cursor.h"
#include "storage/lmdb_env.h"
#include "storage/store_format.h"
#include "storage/store_internals.h"
#include "storage/store_reader.h"

// GCC 12 takes the copy of a FileRecordView (an optional FileEncryption holding a vector) in
// version_5_record() for a read of an uninitialized vector (a false positive of
// -Wmaybe-uninitialized with std::optional).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace brelay::testing {

Bytes make_event(std::uint64_t seed, std::size_t size, std::uint64_t position) {
  ByteWriter header;
  header.u32(static_cast<std::uint32_t>(1'700'000'000 + seed % 1000))
      .u8(static_cast<std::uint8_t>(seed % 40))
      .u32(1)
      .u32(static_cast<std::uint32_t>(size))
      .u32(static_cast<std::uint32_t>(position + size))
      .u16(0);
  Bytes bytes = std::move(header).take();
  bytes.resize(size);
  std::uint64_t state = seed * 0x9e3779b97f4a7c15ull + 1;
  for (std::size_t i = std::min<std::size_t>(size, 19); i < size; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    bytes[i] = static_cast<std::uint8_t>(state);
  }
  return bytes;
}

Bytes gtid_key(std::uint64_t n) {
  Bytes key(8);
  for (int i = 0; i < 8; ++i)
    key[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * (7 - i)));
  return key;
}

Bytes TestStream::format_description_for(const std::string& file) {
  return to_bytes("FDE of " + file);
}

Bytes TestStream::previous_gtids_for(std::uint64_t next_gtid) {
  return to_bytes(next_gtid > 1 ? fmt::format("1-{}", next_gtid - 1) : std::string());
}

std::string TestStream::begin_file(WriteBatch& batch, std::int64_t timestamp) {
  file_ = fmt::format("{}.{:06}", prefix_, ++file_number_);
  position_ = 4;
  boundary_ = 4;
  const Bytes fde = format_description_for(file_);
  const Bytes previous = previous_gtids_for(next_gtid_);
  batch.begin_file(FileStart{file_, 4, fde, previous});
  // The FDE is also the file's first stored event, a boundary of its own.
  const Bytes event = make_event(seed_++, 120, position_);
  batch.append(EventAppend{position_, event, true, {}, timestamp, {}});
  events_.push_back(StoredEvent{file_, position_, event, true});
  position_ += event.size();
  boundary_ = position_;
  return file_;
}

void TestStream::end_file(WriteBatch& batch) {
  const Bytes rotate = make_event(seed_++, 40, position_);
  batch.append(EventAppend{position_, rotate, true, {}, 1'700'000'000, {}});
  events_.push_back(StoredEvent{file_, position_, rotate, true});
  position_ += rotate.size();
  boundary_ = position_;
  batch.end_file();
}

std::uint64_t TestStream::transaction(WriteBatch& batch, int events, std::size_t size,
                                      std::int64_t timestamp) {
  const std::uint64_t gtid = next_gtid_++;
  const Bytes key = gtid_key(gtid);
  gtid_starts_[gtid] = {file_, position_};
  for (int i = 0; i < events; ++i) {
    const Bytes event = make_event(seed_++, size, position_);
    const bool last = i == events - 1;
    batch.append(EventAppend{position_, event, last, i == 0 ? ByteView(key) : ByteView(), timestamp,
                             last ? ByteView(key) : ByteView()});
    events_.push_back(StoredEvent{file_, position_, event, last});
    position_ += event.size();
  }
  boundary_ = position_;
  return gtid;
}

void TestStream::unfinished_events(WriteBatch& batch, int events, std::size_t size, bool starts) {
  const Bytes key = gtid_key(next_gtid_);
  for (int i = 0; i < events; ++i) {
    const Bytes event = make_event(seed_++, size, position_);
    batch.append(EventAppend{
        position_, event, false, starts && i == 0 ? ByteView(key) : ByteView(), 1'700'000'000, {}});
    events_.push_back(StoredEvent{file_, position_, event, false});
    position_ += event.size();
  }
}

void TestStream::abandon(WriteBatch& batch) {
  while (!events_.empty() && !events_.back().boundary)
    events_.pop_back();
  position_ = boundary_;
  batch.abandon_transaction();
}

void TestStream::rewind_to(std::uint64_t position) {
  while (!events_.empty() && events_.back().file == file_ && events_.back().position >= position)
    events_.pop_back();
  std::erase_if(gtid_starts_, [&](const auto& entry) {
    return entry.second.first == file_ && entry.second.second >= position;
  });
  next_gtid_ = gtid_starts_.empty() ? 1 : gtid_starts_.rbegin()->first + 1;
  position_ = position;
  boundary_ = position;
}

std::vector<StoredEvent> TestStream::complete_events() const {
  std::vector<StoredEvent> complete = events_;
  while (!complete.empty() && !complete.back().boundary)
    complete.pop_back();
  return complete;
}

Bytes version_5_record(const storage::FileRecordView& record, const storage::FileCipher& cipher) {
  storage::FileRecordView old = record;
  old.encryption->keystream_part = false;
  old.encryption->segments.clear();
  Bytes both(record.format_description.begin(), record.format_description.end());
  both.insert(both.end(), record.previous_gtids.begin(), record.previous_gtids.end());
  auto mac = storage::crypto::run_mac(
      cipher.key, storage::FileEncryption::kMetadataDomain + record.format_description.size(), both);
  if (mac) old.encryption->metadata_mac = *mac;
  return old.encode();
}

Status rewrite_records_as_version_5(storage::LmdbTxn& txn, const storage::StoreDatabases& dbs,
                                    std::shared_ptr<const storage::crypto::MasterKeys> keys) {
  storage::FileCiphers ciphers("test", std::move(keys));
  std::vector<std::pair<Bytes, Bytes>> rewritten;
  {
    BRELAY_ASSIGN_OR_RETURN(storage::LmdbCursor cursor, storage::LmdbCursor::open(txn, dbs.files));
    BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.first());
    while (entry) {
      BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, storage::decode_file_key(entry->key));
      BRELAY_ASSIGN_OR_RETURN(storage::FileRecordView record, storage::FileRecordView::decode(entry->value));
      if (record.encryption) {
        if (!record.encryption->segments.empty())
          return make_error("binary log {} has keystream segments, which no version 5 record has",
                            record.name);
        BRELAY_ASSIGN_OR_RETURN(std::optional<storage::FileCipher> cipher, ciphers.of(seq, record));
        rewritten.emplace_back(Bytes(entry->key.begin(), entry->key.end()),
                               version_5_record(record, *cipher));
      }
      BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
    }
  }
  for (const auto& [key, value] : rewritten)
    BRELAY_TRY(txn.put(dbs.files, key, value));
  return {};
}

Status edit_index(const std::string& data_dir,
                  const std::function<Status(storage::LmdbTxn&, const storage::StoreDatabases&)>& edit) {
  storage::LmdbEnv::Options options;
  options.map_size = std::uint64_t{1} << 30;
  BRELAY_ASSIGN_OR_RETURN(auto env, storage::LmdbEnv::open(data_dir, options));
  BRELAY_ASSIGN_OR_RETURN(auto txn, storage::LmdbTxn::begin_write(env));
  BRELAY_ASSIGN_OR_RETURN(auto dbs, storage::StoreDatabases::open(txn, false));
  BRELAY_TRY(edit(txn, dbs));
  return txn.commit();
}

Status write_format_version(const std::string& data_dir, std::uint32_t version) {
  return edit_index(data_dir, [version](storage::LmdbTxn& txn, const storage::StoreDatabases& dbs) {
    return txn.put(dbs.meta, as_bytes(storage::meta_key::kFormatVersion), storage::encode_u32_value(version));
  });
}

Result<std::uint32_t> stored_format_version(storage::BinlogStore& store) {
  BRELAY_ASSIGN_OR_RETURN(auto txn, storage::LmdbTxn::begin_read(store.internals().env()));
  BRELAY_ASSIGN_OR_RETURN(auto stored,
                          txn.get(store.internals().dbs().meta, as_bytes(storage::meta_key::kFormatVersion)));
  if (!stored) return make_error("the index holds no format version");
  return storage::decode_u32_value(*stored, "version");
}

Result<std::vector<StoredEvent>> read_everything(storage::BinlogStore& store, std::size_t max_bytes) {
  std::vector<StoredEvent> events;
  BRELAY_ASSIGN_OR_RETURN(storage::StoreReader reader, storage::StoreReader::open(store));
  if (!store.durable_end()) return events;
  BRELAY_TRY(reader.seek_oldest());
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(storage::ReadBatch batch, reader.read(max_bytes));
    for (const storage::EventRun& run : batch.runs) {
      if (run.partial_prefix() != 0) return make_error("a run starts inside an event at {}", run.position());
      std::size_t covered = 0;
      for (std::size_t i = 0; i < run.event_count(); ++i) {
        const ByteView event = run.event(i);
        if (run.event_position(i) != run.position() + covered)
          return make_error("events of a run are not contiguous");
        events.push_back(
            StoredEvent{reader.file().name, run.event_position(i), Bytes(event.begin(), event.end()), false});
        covered += event.size();
      }
      if (covered != run.bytes().size()) return make_error("a run's events do not cover its bytes");
    }
    reader.consume(batch.bytes);
    if (batch.at_durable_end) break;
  }
  reader.release();
  return events;
}

std::string compare_events(const std::vector<StoredEvent>& actual, const std::vector<StoredEvent>& expected) {
  for (std::size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    const StoredEvent& a = actual[i];
    const StoredEvent& e = expected[i];
    if (a.file != e.file || a.position != e.position || a.bytes != e.bytes) {
      return fmt::format("event {} differs: read {}:{} ({} bytes), expected {}:{} ({} bytes)", i, a.file,
                         a.position, a.bytes.size(), e.file, e.position, e.bytes.size());
    }
  }
  if (actual.size() != expected.size()) {
    return fmt::format("read {} events, expected {}", actual.size(), expected.size());
  }
  return {};
}

StoreWriter::ProgressCallback ProgressLog::callback() {
  return [this](const StoreWriter::Progress& progress) {
    {
      std::lock_guard lock(mutex_);
      reports_.push_back(progress);
    }
    changed_.notify_all();
  };
}

bool ProgressLog::wait_until(const std::function<bool(const StoreWriter::Progress&)>& done,
                             std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return !reports_.empty() && done(reports_.back()); });
}

bool ProgressLog::wait_durable(const std::string& file, std::uint64_t position,
                               std::chrono::milliseconds timeout) {
  return wait_until(
      [&](const StoreWriter::Progress& progress) {
        return progress.durable_end && progress.durable_end->file == file &&
               progress.durable_end->position == position;
      },
      timeout);
}

StoreWriter::Progress ProgressLog::latest() const {
  std::lock_guard lock(mutex_);
  return reports_.empty() ? StoreWriter::Progress{} : reports_.back();
}

std::size_t ProgressLog::reports() const {
  std::lock_guard lock(mutex_);
  return reports_.size();
}

Status write_first_transaction(StoreWriter& writer, ProgressLog& log, TestStream& stream) {
  WriteBatch first;
  stream.begin_file(first);
  stream.transaction(first, 2, 100);
  BRELAY_TRY(writer.submit(std::move(first)));
  if (!log.wait_durable(stream.current_file(), stream.next_position()))
    return make_error("the first transaction was not reported durable");
  return {};
}

}  // namespace brelay::testing
