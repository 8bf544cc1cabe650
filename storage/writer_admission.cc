// StoreWriter's admission: submit() checks a batch against the stream as it will be once
// everything queued before it is written (AdmissionState), so a batch that breaks the rules in
// write_batch.h is rejected whole and nothing of it is queued.
#include <limits>

#include "storage/lmdb_txn.h"
#include "storage/store_internals.h"
#include "storage/store_writer.h"

namespace brelay::storage {

Status StoreWriter::validate(const WriteBatch& batch, AdmissionState& state) const {
  const std::size_t max_key = internals_.env().max_key_size();
  for (const WriteBatch::Op& op : batch.ops_) {
    switch (op.kind) {
      case WriteBatch::OpKind::kBeginFile:
        BRELAY_TRY(validate_begin_file(batch.files_[op.index], max_key, state));
        break;
      case WriteBatch::OpKind::kEvent:
        BRELAY_TRY(validate_event(batch.events_[op.index], max_key, state));
        break;
      case WriteBatch::OpKind::kEndFile:
        if (!state.has_file || state.closed) return make_error("no file is open to end");
        if (state.next_position != state.last_boundary) {
          return make_error("file {} cannot end inside a transaction (its events from position {} on)",
                            state.file, state.last_boundary);
        }
        state.closed = true;
        break;
      case WriteBatch::OpKind::kAbandonTransaction: state.next_position = state.last_boundary; break;
      case WriteBatch::OpKind::kPutMeta: {
        const std::string& key = batch.metas_[op.index].key;
        if (key.empty() || key.size() > max_key) {
          return make_error("a relay metadata key must have 1 to {} bytes, '{}' has {}", max_key, key,
                            key.size());
        }
        break;
      }
    }
  }
  return {};
}

Status StoreWriter::validate_begin_file(const WriteBatch::File& file, std::size_t max_key,
                                        AdmissionState& state) const {
  if (file.name.empty() || file.name.size() > max_key) {
    return make_error("a binlog file name must have 1 to {} bytes, '{}' has {}", max_key, file.name,
                      file.name.size());
  }
  if (state.has_file && state.next_position != state.last_boundary) {
    return make_error(
        "file {} cannot begin while a transaction of {} is unfinished (its events from position {} on): "
        "end or abandon the transaction first",
        file.name, state.file, state.last_boundary);
  }
  if (state.has_file && file.name == state.file) {
    return make_error("file {} has already begun: a file begins once", file.name);
  }
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_.env()));
  BRELAY_ASSIGN_OR_RETURN(auto stored, txn.get(internals_.dbs().file_names, as_bytes(file.name)));
  if (stored) return make_error("the store already holds a file named {}: a file begins once", file.name);
  state = AdmissionState{true, file.name, file.first_position, file.first_position, false};
  return {};
}

Status StoreWriter::validate_event(const WriteBatch::Event& event, std::size_t max_key,
                                   AdmissionState& state) const {
  if (!state.has_file) {
    return make_error("an event for position {} arrived before any file began: begin a file first",
                      event.position);
  }
  if (state.closed) {
    return make_error("file {} has ended, yet an event for position {} arrived: begin the next file first",
                      state.file, event.position);
  }
  if (event.size == 0 || event.size > std::numeric_limits<std::uint32_t>::max()) {
    return make_error("the event at {}:{} has {} bytes; events have 1 byte to 4 GiB", state.file,
                      event.position, event.size);
  }
  if (event.position != state.next_position) {
    return make_error(
        "the event for {}:{} does not follow the previous one, which ends at {}: positions in a file are "
        "contiguous",
        state.file, event.position, state.next_position);
  }
  if (event.gtid_size > max_key) {
    return make_error("the GTID of the transaction at {}:{} has {} bytes, more than the {} a key may have",
                      state.file, event.position, event.gtid_size, max_key);
  }
  state.next_position += event.size;
  if (event.boundary) state.last_boundary = state.next_position;
  return {};
}

}  // namespace brelay::storage
