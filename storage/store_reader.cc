#include "storage/store_reader.h"

#include <algorithm>
#include <utility>

#include "storage/store_internals.h"

namespace brelay::storage {
namespace {

Error unknown_file(std::string_view file) {
  return make_error("the relay stores no binary log named '{}' (SHOW BINARY LOGS lists the stored files)",
                    file);
}

}  // namespace

std::optional<std::uint64_t> StoreReader::readable_end(std::uint32_t file_seq, const FileRecordView& record,
                                                       const DurableLimit& limit) {
  if (!limit.any || file_seq > limit.file_seq) return std::nullopt;
  if (file_seq < limit.file_seq) return record.end_position;
  return std::min(record.end_position, limit.position);
}

EventRun::EventRun(RunView run, std::uint64_t run_position, std::size_t begin_offset, std::size_t end_offset)
    : run_(run.with_payload({})),
      run_position_(run_position),
      begin_offset_(begin_offset),
      end_offset_(end_offset),
      first_event_(run.first_event_at_or_after(begin_offset)),
      end_event_(run.events_ending_by(end_offset)) {
  if (end_event_ < first_event_) end_event_ = first_event_;
}

std::size_t EventRun::partial_prefix() const {
  const std::size_t first_start = first_event_ < end_event_ ? run_.event_start(first_event_) : end_offset_;
  return first_start - begin_offset_;
}

ByteView EventRun::event(std::size_t index) const {
  const std::size_t i = first_event_ + index;
  const std::uint32_t start = run_.event_start(i);
  return bytes_.subspan(start - begin_offset_, run_.event_end(i) - start);
}

std::uint64_t EventRun::event_position(std::size_t index) const {
  return run_position_ + run_.event_start(first_event_ + index);
}

Result<StoreReader> StoreReader::open(BinlogStore& store) {
  const StoreInternals& internals = store.internals();
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals.env()));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor events, LmdbCursor::open(txn, internals.dbs().events));
  txn.reset();
  return StoreReader(store, std::move(txn), std::move(events));
}

StoreReader::StoreReader(BinlogStore& store, LmdbTxn txn, LmdbCursor events)
    : store_(&store),
      registry_id_(store.internals().readers().add()),
      txn_(std::move(txn)),
      events_(std::move(events)) {}

StoreReader::StoreReader(StoreReader&& other) noexcept
    : store_(other.store_),
      registry_id_(std::exchange(other.registry_id_, 0)),
      txn_(std::move(other.txn_)),
      events_(std::move(other.events_)),
      positioned_(std::exchange(other.positioned_, false)),
      file_(std::move(other.file_)),
      position_(other.position_),
      runs_(std::move(other.runs_)),
      map_(std::move(other.map_)),
      map_seq_(other.map_seq_),
      copy_(std::move(other.copy_)),
      copy_capacity_(std::exchange(other.copy_capacity_, 0)),
      checked_(other.checked_),
      cipher_(other.cipher_),
      decrypted_(std::move(other.decrypted_)),
      compression_(other.compression_),
      frames_(std::move(other.frames_)) {}

StoreReader& StoreReader::operator=(StoreReader&& other) noexcept {
  if (this != &other) {
    if (registry_id_ != 0) store_->internals().readers().remove(registry_id_);
    runs_.clear();
    events_ = std::move(other.events_);
    txn_ = std::move(other.txn_);
    store_ = other.store_;
    registry_id_ = std::exchange(other.registry_id_, 0);
    positioned_ = std::exchange(other.positioned_, false);
    file_ = std::move(other.file_);
    position_ = other.position_;
    runs_ = std::move(other.runs_);
    map_ = std::move(other.map_);
    map_seq_ = other.map_seq_;
    cipher_ = other.cipher_;
    decrypted_ = std::move(other.decrypted_);
    copy_ = std::move(other.copy_);
    copy_capacity_ = std::exchange(other.copy_capacity_, 0);
    checked_ = other.checked_;
    compression_ = other.compression_;
    frames_ = std::move(other.frames_);
  }
  return *this;
}

StoreReader::~StoreReader() {
  if (registry_id_ != 0) store_->internals().readers().remove(registry_id_);
}

Status StoreReader::begin() {
  BRELAY_TRY(txn_.renew());
  return events_.renew(txn_);
}

void StoreReader::release() {
  runs_.clear();
  txn_.reset();
}

Result<std::optional<FileRecordView>> StoreReader::file_record(std::uint32_t file_seq) {
  BRELAY_ASSIGN_OR_RETURN(auto value, txn_.get(store_->internals().dbs().files, encode_file_key(file_seq)));
  if (!value) return std::optional<FileRecordView>();
  BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(*value));
  return std::optional<FileRecordView>(record);
}

Result<StoreReader::StoredRun> StoreReader::run_holding(std::uint32_t file_seq, std::uint64_t position) {
  const EventKey target{file_seq, position};
  BRELAY_ASSIGN_OR_RETURN(auto entry, events_.seek(target.encode()));
  if (entry) {
    BRELAY_ASSIGN_OR_RETURN(EventKey key, EventKey::decode(entry->key));
    if (key == target) {
      BRELAY_ASSIGN_OR_RETURN(RunView run, RunView::parse(entry->value));
      return StoredRun{key, run};
    }
    BRELAY_ASSIGN_OR_RETURN(entry, events_.prev());
  } else {
    BRELAY_ASSIGN_OR_RETURN(entry, events_.last());
  }
  if (entry) {
    BRELAY_ASSIGN_OR_RETURN(EventKey key, EventKey::decode(entry->key));
    if (key.file_seq == file_seq && key.position <= position) {
      BRELAY_ASSIGN_OR_RETURN(RunView run, RunView::parse(entry->value));
      if (position < key.position + run.payload_size()) return StoredRun{key, run};
    }
  }
  return make_error("the store holds no event at position {} of {}", position, file_.name);
}

Status StoreReader::enter(std::uint32_t file_seq, const FileRecordView& record, std::uint64_t position,
                          const DurableLimit& limit) {
  BRELAY_ASSIGN_OR_RETURN(cipher_, store_->internals().ciphers().of(file_seq, record));
  BRELAY_ASSIGN_OR_RETURN(file_, decode_file_info(file_seq, record, cipher_ ? &*cipher_ : nullptr));
  if (auto end = readable_end(file_seq, record, limit)) file_.end_position = *end;
  position_ = position;
  positioned_ = true;
  store_->internals().readers().set_file(registry_id_, file_seq);
  return {};
}

Status StoreReader::seek(std::string_view file, std::uint64_t position) {
  release();
  const DurableLimit limit = store_->internals().durable_limit();
  BRELAY_TRY(begin());
  BRELAY_ASSIGN_OR_RETURN(auto seq_value, txn_.get(store_->internals().dbs().file_names, as_bytes(file)));
  if (!seq_value) {
    release();
    return unknown_file(file);
  }
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(*seq_value));
  BRELAY_ASSIGN_OR_RETURN(auto record, file_record(seq));
  const auto end = record ? readable_end(seq, *record, limit) : std::nullopt;
  if (!end) {
    release();
    return unknown_file(file);
  }
  Status valid = [&]() -> Status {
    if (position < record->first_position) {
      return make_error("position {} of {} is not stored: the relay's copy of {} starts at position {}",
                        position, file, file, record->first_position);
    }
    if (position > *end) {
      return make_error("position {} is beyond the end of {}, which is at {}", position, file, *end);
    }
    if (position == record->first_position || position == *end) return {};
    StoredRun holding;
    if (record->compression) {
      BRELAY_ASSIGN_OR_RETURN(auto cipher, store_->internals().ciphers().of(seq, *record));
      BRELAY_ASSIGN_OR_RETURN(holding, frame_run_holding(seq, file, *record->compression, cipher, position));
    } else {
      BRELAY_ASSIGN_OR_RETURN(holding, run_holding(seq, position));
    }
    const std::uint64_t offset = position - holding.key.position;
    if (!holding.run.event_starting_at(offset)) {
      const std::size_t after = holding.run.first_event_at_or_after(offset);
      return make_error(
          "position {} of {} is inside an event (that event starts at {}): give an event's start", position,
          file, holding.key.position + holding.run.event_start(after - 1));
    }
    return {};
  }();
  if (valid) valid = enter(seq, *record, position, limit);
  release();
  return valid;
}

Status StoreReader::seek_gtid(ByteView gtid) {
  release();
  const DurableLimit limit = store_->internals().durable_limit();
  BRELAY_TRY(begin());
  Status found = [&]() -> Status {
    BRELAY_ASSIGN_OR_RETURN(auto located, txn_.get(store_->internals().dbs().gtids, gtid));
    if (!located) return make_error("the relay stores no transaction with GTID {}", to_hex(gtid));
    BRELAY_ASSIGN_OR_RETURN(EventKey key, EventKey::decode(*located));
    if (!limit.any || key >= EventKey{limit.file_seq, limit.position}) {
      return make_error("the transaction with GTID {} is not complete and durable yet", to_hex(gtid));
    }
    BRELAY_ASSIGN_OR_RETURN(auto record, file_record(key.file_seq));
    if (!record) return make_error("the file holding the transaction with GTID {} was purged", to_hex(gtid));
    return enter(key.file_seq, *record, key.position, limit);
  }();
  release();
  return found;
}

Status StoreReader::seek_file_start(std::string_view file) {
  BRELAY_ASSIGN_OR_RETURN(auto info, store_->find_file(file));
  if (!info) return unknown_file(file);
  return seek(file, info->first_position);
}

Status StoreReader::seek_oldest() {
  release();
  const DurableLimit limit = store_->internals().durable_limit();
  BRELAY_TRY(begin());
  Status found = [&]() -> Status {
    BRELAY_ASSIGN_OR_RETURN(LmdbCursor files, LmdbCursor::open(txn_, store_->internals().dbs().files));
    BRELAY_ASSIGN_OR_RETURN(auto oldest, files.first());
    if (!oldest || !limit.any) return make_error("the relay stores no binary log yet");
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(oldest->key));
    BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(oldest->value));
    if (seq > limit.file_seq) return make_error("the relay stores no binary log yet");
    return enter(seq, record, record.first_position, limit);
  }();
  release();
  return found;
}

Result<ReadBatch> StoreReader::read(std::size_t max_bytes) {
  release();
  if (!positioned_) return make_error("the reader has no position: seek before reading");
  const DurableLimit limit = store_->internals().durable_limit();
  BRELAY_TRY(begin());
  ReadBatch batch;
  auto collected = collect_batch(limit, max_bytes, batch);
  if (collected && !*collected) {
    // The snapshot named the event file, which the compressor removed since (compression.h): a
    // fresh snapshot names the frames.
    runs_.clear();
    batch.bytes = 0;
    release();
    BRELAY_TRY(begin());
    collected = collect_batch(limit, max_bytes, batch);
    if (collected && !*collected) {
      collected = make_error_code(kStoreDamagedCode, "the event file of {} went missing while it was read",
                                  file_.name);
    }
  }
  if (!collected) {
    release();
    return std::move(collected).error();
  }
  if (batch.at_durable_end && runs_.empty()) {
    // Waiting for the writer: an idle reader holds no buffer.
    copy_.reset();
    copy_capacity_ = 0;
    frames_.reset();
  }
  batch.runs = runs_;
  if (!runs_.empty()) {
    batch.checked_begin = checked_.begin;
    batch.checked_end = checked_.end;
  }
  return batch;
}

// False: the runs of a file not compressed in this snapshot failed to get their bytes and the file
// is compressed in a fresher one (read() retries once).
Result<bool> StoreReader::collect_batch(const DurableLimit& limit, std::size_t max_bytes, ReadBatch& batch) {
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(auto record, file_record(file_.seq));
    if (!record) return make_error("binary log {} was purged while this reader was reading it", file_.name);
    if (cipher_ && record->encryption && record->encryption->segments != cipher_->segments) {
      // The writer wrote past an earlier end again under a fresh nonce since this reader entered.
      FileCipher now = *cipher_;
      now.segments = record->encryption->segments;
      BRELAY_TRY(decode_file_info(file_.seq, *record, &now));  // checks the segments' MAC
      cipher_ = std::move(now);
    }
    const auto end = readable_end(file_.seq, *record, limit);
    if (!end) {
      batch.at_durable_end = true;
      return true;
    }
    file_.end_position = *end;
    if (position_ < *end) {
      compression_ = record->compression;
      Status collected = collect_runs(*end, max_bytes, batch);
      if (!collected && !compression_) {
        BRELAY_ASSIGN_OR_RETURN(bool swapped, compressed_since(file_.seq));
        if (swapped) return false;
      }
      BRELAY_TRY(collected);
      return true;
    }
    if (file_.seq >= limit.file_seq) {
      batch.at_durable_end = true;
      return true;
    }
    // This file is complete and a later one is durable: move on to it.
    BRELAY_ASSIGN_OR_RETURN(LmdbCursor files, LmdbCursor::open(txn_, store_->internals().dbs().files));
    BRELAY_ASSIGN_OR_RETURN(auto next, files.seek(encode_file_key(file_.seq + 1)));
    if (!next)
      return make_error("the store lists no file after {} although a later one is durable", file_.name);
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t next_seq, decode_file_key(next->key));
    BRELAY_ASSIGN_OR_RETURN(FileRecordView next_record, FileRecordView::decode(next->value));
    BRELAY_TRY(enter(next_seq, next_record, next_record.first_position, limit));
    batch.file_changed = true;
  }
}

Result<bool> StoreReader::compressed_since(std::uint32_t file_seq) const {
  const StoreInternals& internals = store_->internals();
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn fresh, LmdbTxn::begin_read(internals.env()));
  BRELAY_ASSIGN_OR_RETURN(auto value, fresh.get(internals.dbs().files, encode_file_key(file_seq)));
  if (!value) return false;
  BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(*value));
  return record.compression.has_value();
}

Status StoreReader::collect_runs(std::uint64_t file_end, std::size_t max_bytes, ReadBatch& batch) {
  if (!compression_ && (!map_ || map_seq_ != file_.seq || map_->length() < file_end)) {
    BRELAY_ASSIGN_OR_RETURN(map_, store_->internals().event_files().map(file_.seq, file_end));
    map_seq_ = file_.seq;
  }
  BRELAY_ASSIGN_OR_RETURN(StoredRun stored, stored_run_at(position_));
  if (compression_) begin_frame_batch();
  std::uint64_t position = position_;
  const std::uint64_t limit =
      position_ + std::min<std::uint64_t>(std::max<std::size_t>(max_bytes, 1), file_end - position_);
  while (true) {
    const std::uint64_t run_end = stored.key.position + stored.run.payload_size();
    // A run reaching past file_end (a transaction not yet durable) is only read up to there.
    std::uint64_t end = std::min(run_end, file_end);
    if (end < run_end && !stored.run.event_starting_at(end - stored.key.position)) {
      return make_error("the durable end {} of {} is inside a stored event", end, file_.name);
    }
    if (end > limit) {
      // The batch ends at the last event end within max_bytes, or after its first event when that
      // alone is larger, so that a batch fits the copy buffer.
      std::uint64_t cut = last_event_end_by(stored, limit);
      if (cut <= position) {
        if (position > position_) break;  // the next read starts with this run
        cut = end_of_event_at(stored, position);
      }
      end = cut;
    }
    runs_.emplace_back(stored.run, stored.key.position,
                       static_cast<std::size_t>(position - stored.key.position),
                       static_cast<std::size_t>(end - stored.key.position));
    if (compression_) take_frame_bytes(position, end);
    batch.bytes += static_cast<std::size_t>(end - position);
    position = end;
    if (position >= file_end || position >= limit || end < run_end) break;
    if (compression_) {
      keep_frame_bytes();
      BRELAY_ASSIGN_OR_RETURN(stored, stored_run_at(position));
      if (stored.key.position != position) {
        return make_error_code(kStoreDamagedCode, "the compressed frames of {} do not meet at position {}",
                               file_.name, position);
      }
      continue;
    }
    BRELAY_ASSIGN_OR_RETURN(auto next, events_.next());
    if (!next)
      return make_error_code(kStoreDamagedCode, "the store is missing events of {} from position {} on",
                             file_.name, position);
    BRELAY_ASSIGN_OR_RETURN(stored.key, EventKey::decode(next->key));
    if (stored.key.file_seq != file_.seq || stored.key.position != position) {
      return make_error_code(kStoreDamagedCode, "the store is missing events of {} from position {} on",
                             file_.name, position);
    }
    BRELAY_ASSIGN_OR_RETURN(stored.run, RunView::parse(next->value));
  }
  if (compression_) {
    attach_frames();
    return {};
  }
  return cipher_ ? decrypt_runs() : attach_bytes(batch.bytes);
}

Result<StoreReader::StoredRun> StoreReader::stored_run_at(std::uint64_t position) {
  if (compression_) return frame_run_holding(file_.seq, file_.name, *compression_, cipher_, position);
  return run_holding(file_.seq, position);
}

std::uint64_t StoreReader::last_event_end_by(const StoredRun& stored, std::uint64_t at) {
  const std::size_t ending = stored.run.events_ending_by(at - stored.key.position);
  return stored.key.position + (ending == 0 ? 0 : stored.run.event_end(ending - 1));
}

std::uint64_t StoreReader::end_of_event_at(const StoredRun& stored, std::uint64_t at) {
  // The events ending at or before `at` come first; the next one holds `at` (at < the run's end).
  return stored.key.position + stored.run.event_end(stored.run.events_ending_by(at - stored.key.position));
}

Status StoreReader::attach_bytes(std::size_t span) {
  ByteView bytes;
  checked_ = {};
  if (span <= kMaxCopiedBytes) {
    if (copy_capacity_ < span) {
      // Grown in steps, so that a reader whose batches grow reallocates a few times, not each read.
      constexpr std::size_t kStep = std::size_t{64} << 10;
      copy_capacity_ = std::min(kMaxCopiedBytes, (span + kStep - 1) / kStep * kStep);
      copy_ = std::make_unique_for_overwrite<std::uint8_t[]>(copy_capacity_);
    }
    const std::span<std::uint8_t> into(copy_.get(), span);
    BRELAY_TRY(map_->read_into(position_, into));
    bytes = into;
    checked_ = map_->checked();
  } else {
    // Larger than a batch (a single huge event): zero copy from the map, its pages mapped in one call.
    map_->populate(position_, span);
    bytes = map_->bytes(position_, span);
  }
  attach_to_runs(bytes);
  return {};
}

void StoreReader::attach_to_runs(ByteView bytes) {
  std::size_t at = 0;
  for (EventRun& run : runs_) {
    const std::size_t size = run.bytes_size();
    run.attach(bytes.subspan(at, size));
    at += size;
  }
}

void StoreReader::mark_checked(std::uint64_t begin, std::uint64_t end) {
  if (map_ && map_seq_ == file_.seq && !cipher_) map_->add_checked(begin, end);
}

void StoreReader::consume(std::size_t bytes) {
  position_ += bytes;
}

}  // namespace brelay::storage
