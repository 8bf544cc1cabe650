// StoreWriter's index building: a round's events, already written to their event files, are
// indexed in one LMDB write transaction: runs of consecutive events, GTID -> position (and back),
// file records, and the resume point of the round's last complete transaction. The transaction is
// left open; writer_commit.cc decides when it commits.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/lmdb_cursor.h"
#include "storage/store_edits.h"
#include "storage/store_format.h"
#include "storage/store_internals.h"
#include "storage/store_writer.h"
#include "storage/sync_thread.h"

namespace brelay::storage {
namespace {

// Consecutive events of one file waiting to be indexed as one run. For an encrypted file it also
// keeps where the events' stored (encrypted) bytes lie in the round's ciphertexts (contiguous events
// as one piece, not copied), which its MAC covers.
struct PendingRun {
  std::uint32_t file_seq = 0;
  std::uint64_t first_position = 0;
  std::vector<std::uint32_t> ends;
  std::size_t bytes = 0;
  std::size_t events_to_boundary = 0;  // events up to and including the last boundary
  crypto::RunMacer* macer = nullptr;   // the file's, when it is encrypted
  std::vector<ByteView> stored;

  bool empty() const { return ends.empty(); }
  void add(ByteView event, ByteView stored_event, bool boundary) {
    bytes += event.size();
    ends.push_back(static_cast<std::uint32_t>(bytes));
    if (boundary) events_to_boundary = ends.size();
    if (macer != nullptr) append_joined(stored, stored_event);
  }
  void clear() {
    ends.clear();
    bytes = 0;
    events_to_boundary = 0;
    stored.clear();
  }
};

// Whether an event of `size` bytes in file `seq` cannot join `run` (which is then indexed first).
bool ends_run(const PendingRun& run, std::uint32_t seq, std::size_t size, std::size_t max_run_bytes) {
  return !run.empty() && (run.file_seq != seq || run.bytes + size > max_run_bytes);
}

// The index entries a run is written as: events [first, last). A run of an encrypted file is split
// after its last transaction boundary, so that every run either ends at a boundary or holds part
// of one unfinished transaction: a run is never cut (its MAC stays valid) and a reader only reads
// runs whose bytes no longer change (design.md, encryption at rest).
struct RunPart {
  std::size_t first;
  std::size_t last;
};
std::vector<RunPart> run_parts(const PendingRun& run) {
  const std::size_t split = run.events_to_boundary;
  if (run.macer != nullptr && split > 0 && split < run.ends.size())
    return {{0, split}, {split, run.ends.size()}};
  return {{0, run.ends.size()}};
}

// Where part `part` of `run` lies: its first byte's offset in the run, and its length.
std::pair<std::size_t, std::size_t> part_bytes(const PendingRun& run, RunPart part) {
  const std::uint32_t base = part.first == 0 ? 0 : run.ends[part.first - 1];
  return {base, run.ends[part.last - 1] - base};
}

// The boundary that ends a round's last complete transaction.
struct Boundary {
  std::uint32_t file_seq;
  std::uint64_t position;
  std::int64_t timestamp;
  ByteView executed_gtid_set;
};

// The stored bytes [from, from + length) of `run`, as slices of its pieces (in ciphertexts_).
std::vector<ByteView> stored_slice(const PendingRun& run, std::size_t from, std::size_t length) {
  std::vector<ByteView> slice;
  std::size_t at = 0;  // where `piece` starts in the run
  for (const ByteView piece : run.stored) {
    const std::size_t begin = std::max(at, from);
    const std::size_t end = std::min(at + piece.size(), from + length);
    if (begin < end) slice.push_back(piece.subspan(begin - at, end - begin));
    at += piece.size();
  }
  return slice;
}

// The MAC of `stored` (slices of one run's stored bytes) at `offset` of its file, binding the nonce
// of the keystream segment the run lies under, if any (file_ciphers.h).
Result<crypto::Mac256> stored_mac(crypto::RunMacer& macer, std::uint64_t offset,
                                  const std::vector<ByteView>& stored, const crypto::FileNonce* segment) {
  if (segment != nullptr) {
    BRELAY_TRY(macer.begin(offset + kSegmentRunDomain));
    BRELAY_TRY(macer.update(*segment));
  } else {
    BRELAY_TRY(macer.begin(offset));
  }
  for (const ByteView piece : stored)
    BRELAY_TRY(macer.update(piece));
  return macer.finish();
}

bool same_slices(const std::vector<ByteView>& a, const std::vector<ByteView>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](ByteView x, ByteView y) { return x.data() == y.data() && x.size() == y.size(); });
}

// Writes the index entry of part `part` of `run` (their bytes are in the event file), with `mac`
// for an encrypted file.
Status write_run_part(LmdbCursor& events, const PendingRun& run, RunPart part,
                      const std::optional<crypto::Mac256>& mac) {
  const auto base = static_cast<std::uint32_t>(part_bytes(run, part).first);
  std::vector<std::uint32_t> ends(run.ends.begin() + static_cast<std::ptrdiff_t>(part.first),
                                  run.ends.begin() + static_cast<std::ptrdiff_t>(part.last));
  for (std::uint32_t& end : ends)
    end -= base;
  const auto key = EventKey{run.file_seq, run.first_position + base}.encode();
  BRELAY_ASSIGN_OR_RETURN(
      auto value, events.reserve(key, RunView::encoded_size(ends.size(), mac.has_value()), MDB_APPEND));
  RunView::write(value, ends, mac ? &*mac : nullptr);
  return {};
}

Status put_file_record(LmdbTxn& txn, const StoreDatabases& dbs, const FileInfo& info,
                       const std::optional<FileEncryption>& encryption,
                       const std::optional<FileCipher>& cipher, std::optional<SealedMetadata>& sealed) {
  BRELAY_ASSIGN_OR_RETURN(const Bytes record,
                          encode_file_record(info, encryption, cipher ? &*cipher : nullptr, &sealed));
  return txn.put(dbs.files, encode_file_key(info.seq), record);
}

}  // namespace

// What indexing one round works with. The cursors belong to `txn` and die with the round, before
// the transaction commits.
struct StoreWriter::IndexRound {
  LmdbTxn& txn;
  LmdbCursor events;
  LmdbCursor gtid_positions;
  LmdbCursor gtids;
  const std::int64_t now;
  CommitStats& stats;
  // GTIDs of one source mostly arrive in key order: append them, until one does not sort last.
  bool gtids_in_order = true;
  PendingRun run{};
  std::size_t batch_index = 0;  // of the batch being indexed, in the round (ciphertexts_)
  std::optional<Boundary> boundary{};
  std::string boundary_file{};  // the name of boundary->file_seq (a later file may have begun since)
};

Result<StoreWriter::BuiltIndex> StoreWriter::build_index(const std::deque<WriteBatch>& batches,
                                                         CommitStats& stats,
                                                         std::optional<std::int64_t> now) {
  const StoreDatabases& dbs = internals_.dbs();
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(internals_.env()));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor events, LmdbCursor::open(txn, dbs.events));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor gtid_positions, LmdbCursor::open(txn, dbs.gtid_positions));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor gtids, LmdbCursor::open(txn, dbs.gtids));
  IndexRound round{
      txn, std::move(events), std::move(gtid_positions), std::move(gtids), now.value_or(store_.now()), stats};

  for (const WriteBatch& batch : batches) {
    for (const WriteBatch::Op& op : batch.ops_) {
      switch (op.kind) {
        case WriteBatch::OpKind::kBeginFile:
          BRELAY_TRY(index_begin_file(round, batch.files_[op.index]));
          break;
        case WriteBatch::OpKind::kEvent:
          BRELAY_TRY(index_event(round, batch, batch.events_[op.index]));
          break;
        case WriteBatch::OpKind::kEndFile:
          BRELAY_TRY(write_index(round));
          file_->info.closed = true;
          file_->dirty = true;
          break;
        case WriteBatch::OpKind::kAbandonTransaction: BRELAY_TRY(index_abandon_transaction(round)); break;
        case WriteBatch::OpKind::kPutMeta: {
          const WriteBatch::Meta& meta = batch.metas_[op.index];
          BRELAY_TRY(txn.put(dbs.relay_meta, as_bytes(meta.key), meta.value));
          break;
        }
      }
    }
    round.batch_index += 1;
  }
  BRELAY_TRY(write_index(round));
  finish_run_macs();
  if (file_ && file_->dirty) {
    BRELAY_TRY(
        put_file_record(txn, dbs, file_->info, file_->encryption, file_->cipher, file_->sealed_metadata));
    file_->dirty = false;
  }
  BRELAY_ASSIGN_OR_RETURN(std::optional<ResumePoint> end, put_resume_point(round));
  return BuiltIndex{std::move(txn), std::move(end)};
}

Status StoreWriter::index_begin_file(IndexRound& round, const WriteBatch::File& start) {
  const StoreDatabases& dbs = internals_.dbs();
  BRELAY_TRY(write_index(round));
  if (file_) {
    file_->info.closed = true;
    BRELAY_TRY(put_file_record(round.txn, dbs, file_->info, file_->encryption, file_->cipher,
                               file_->sealed_metadata));
  }
  if (new_file_ciphers_.empty())
    return make_error("the writer indexes a file whose event file it did not create");
  auto state = std::make_unique<FileState>();
  state->encryption = new_file_ciphers_.front().encryption;
  state->cipher = new_file_ciphers_.front().cipher;
  if (state->cipher) {
    BRELAY_ASSIGN_OR_RETURN(state->macer, crypto::RunMacer::create(state->cipher->key));
  }
  new_file_ciphers_.pop_front();
  state->info.seq = next_file_seq_++;
  state->info.name = start.name;
  state->info.first_position = start.first_position;
  state->info.end_position = start.first_position;
  state->info.created_time = round.now;
  state->info.last_write_time = round.now;
  state->info.format_description = start.format_description;
  state->info.previous_gtids = start.previous_gtids;
  state->next_position = start.first_position;
  state->dirty = true;
  const auto seq_key = encode_file_key(state->info.seq);
  if (auto named = round.txn.put(dbs.file_names, as_bytes(start.name), seq_key, MDB_NOOVERWRITE); !named) {
    if (named.error().code() == MDB_KEYEXIST) {
      return make_error("the store already holds a file named {}: a file begins once", start.name);
    }
    return std::move(named).error();
  }
  file_ = std::move(state);
  current_transaction_gtid_.clear();
  return {};
}

Status StoreWriter::index_event(IndexRound& round, const WriteBatch& batch, const WriteBatch::Event& event) {
  const ByteView bytes = batch.event_bytes(event);
  round.stats.events += 1;
  round.stats.event_bytes += bytes.size();
  const std::uint32_t seq = file_->info.seq;
  PendingRun& run = round.run;
  if (ends_run(run, seq, bytes.size(), options_.max_run_bytes)) BRELAY_TRY(write_index(round));
  if (run.empty()) {
    run.file_seq = seq;
    run.first_position = event.position;
    run.macer = file_->macer ? &*file_->macer : nullptr;
  }
  ByteView stored;
  if (run.macer != nullptr)
    stored = ByteView(ciphertexts_[round.batch_index]).subspan(event.offset, event.size);
  run.add(bytes, stored, event.boundary);
  if (const ByteView gtid = batch.event_gtid(event); !gtid.empty()) {
    const auto key = EventKey{seq, event.position}.encode();
    if (round.gtids_in_order) {
      Status appended = round.gtids.put(gtid, key, MDB_APPEND);
      if (!appended && appended.error().code() != MDB_KEYEXIST) return std::move(appended).error();
      round.gtids_in_order = static_cast<bool>(appended);
    }
    if (!round.gtids_in_order) BRELAY_TRY(round.gtids.put(gtid, key));
    BRELAY_TRY(round.gtid_positions.put(key, gtid, MDB_APPEND));
    current_transaction_gtid_.assign(gtid.begin(), gtid.end());
  }
  if (!file_->unfinished_first_timestamp) file_->unfinished_first_timestamp = event.timestamp;
  file_->next_position = event.position + bytes.size();
  if (!event.boundary) return {};
  FileInfo& info = file_->info;
  info.end_position = file_->next_position;
  if (info.first_timestamp == 0) info.first_timestamp = *file_->unfinished_first_timestamp;
  info.last_timestamp = event.timestamp;
  info.last_write_time = round.now;
  file_->unfinished_first_timestamp.reset();
  file_->dirty = true;
  if (!current_transaction_gtid_.empty()) {
    std::swap(last_gtid_, current_transaction_gtid_);  // both keep their buffers
    current_transaction_gtid_.clear();
  }
  if (!round.boundary || round.boundary->file_seq != seq) round.boundary_file = info.name;
  round.boundary = Boundary{seq, info.end_position, event.timestamp, batch.event_executed_set(event)};
  return {};
}

Status StoreWriter::index_abandon_transaction(IndexRound& round) {
  BRELAY_TRY(write_index(round));
  if (file_ && file_->next_position != file_->info.end_position) {
    const EventKey from{file_->info.seq, file_->info.end_position};
    const EventKey until{file_->info.seq + 1, 0};
    BRELAY_TRY(erase_events(round.txn, internals_.dbs(), from, until));
    BRELAY_TRY(erase_gtids(round.txn, internals_.dbs(), from, until));
    file_->next_position = file_->info.end_position;
    file_->unfinished_first_timestamp.reset();
  }
  current_transaction_gtid_.clear();
  return {};
}

// Writes the index entries of the run the round has gathered (its bytes are in the event file),
// with their MACs for an encrypted file (planned on the crypto helper, or computed here).
Status StoreWriter::write_index(IndexRound& round) {
  PendingRun& run = round.run;
  if (run.empty()) return {};
  for (const RunPart part : run_parts(run)) {
    std::optional<crypto::Mac256> mac;
    if (run.macer != nullptr) {
      const auto [from, length] = part_bytes(run, part);
      const std::uint64_t offset = run.first_position + from;
      const std::vector<ByteView> stored = stored_slice(run, from, length);
      if (run.file_seq != file_->info.seq)
        return make_error("internal: a run of an earlier file indexed late");
      const crypto::FileNonce* segment = segment_nonce_at(*file_->cipher, offset);
      BRELAY_ASSIGN_OR_RETURN(mac, take_planned_mac(run.file_seq, offset, stored, segment));
      round.stats.run_macs += 1;
      if (mac) {
        round.stats.run_macs_ahead += 1;
        if (macs_while_written_) round.stats.run_macs_while_written += 1;
      } else {
        BRELAY_ASSIGN_OR_RETURN(mac, stored_mac(*run.macer, offset, stored, segment));
      }
    }
    BRELAY_TRY(write_run_part(round.events, run, part, mac));
  }
  run.clear();
  return {};
}

void StoreWriter::start_run_macs(const std::deque<WriteBatch>& batches) {
  wait_crypto_job();  // none runs after a write; a guard for SyncThread's one-job rule
  finish_run_macs();
  if (!crypto_helper_) return;
  // What the plan needs of the writer's state, copied: build_index() changes it meanwhile.
  MacPlanStart start;
  start.seq = file_ ? file_->info.seq : 0;
  if (file_ && file_->cipher) start.cipher = *file_->cipher;
  start.next_file_seq = next_file_seq_;
  for (const NewFileCipher& created : new_file_ciphers_)
    start.new_files.push_back(created.cipher);
  crypto_job_running_ = true;
  macs_pending_ = true;
  macs_done_.store(false);
  crypto_helper_->start([this, &batches, start = std::move(start), queued = queued_round()]() -> Status {
    Status macs = [&]() -> Status {
      BRELAY_TRY(plan_run_macs(batches, start));
      for (PlannedMac& planned : planned_macs_) {
        BRELAY_ASSIGN_OR_RETURN(planned.mac, stored_mac(*planned.macer, planned.offset, planned.stored,
                                                        planned.segment ? &*planned.segment : nullptr));
      }
      return {};
    }();
    if (!macs) mac_error_ = std::move(macs).error();
    macs_done_.store(true, std::memory_order_release);
    macs_done_.notify_all();
    plan_ctr_ahead(queued);
    encrypt_ahead();
    return {};
  });
}

Status StoreWriter::plan_run_macs(const std::deque<WriteBatch>& batches, const MacPlanStart& start) {
  // The file each event goes to, numbered as build_index() will number new files.
  std::uint32_t seq = start.seq;
  const FileCipher* cipher = start.cipher ? &*start.cipher : nullptr;
  std::erase_if(helper_macers_, [&](const auto& entry) { return entry.first < seq; });
  std::size_t new_files = 0;
  PendingRun run;
  auto plan = [&] {
    if (run.empty()) return;
    for (const RunPart part : run_parts(run)) {
      const auto [from, length] = part_bytes(run, part);
      const std::uint64_t offset = run.first_position + from;
      std::optional<crypto::FileNonce> segment;
      if (const crypto::FileNonce* nonce = cipher ? segment_nonce_at(*cipher, offset) : nullptr)
        segment = *nonce;
      planned_macs_.push_back(
          PlannedMac{run.file_seq, offset, stored_slice(run, from, length), run.macer, segment, {}});
    }
    run.clear();
  };
  for (std::size_t index = 0; index < batches.size(); ++index) {
    const WriteBatch& batch = batches[index];
    for (const WriteBatch::Op& op : batch.ops_) {
      if (op.kind == WriteBatch::OpKind::kBeginFile) {
        plan();
        if (new_files == start.new_files.size()) {
          planned_macs_.clear();  // not a round this writer wrote: build_index() refuses it
          return {};
        }
        const std::optional<FileCipher>& created = start.new_files[new_files];
        seq = start.next_file_seq + static_cast<std::uint32_t>(new_files++);
        cipher = created ? &*created : nullptr;
      } else if (op.kind == WriteBatch::OpKind::kEvent) {
        const WriteBatch::Event& event = batch.events_[op.index];
        const ByteView bytes = batch.event_bytes(event);
        if (ends_run(run, seq, bytes.size(), options_.max_run_bytes)) plan();
        if (cipher == nullptr) continue;
        if (run.empty()) {
          BRELAY_ASSIGN_OR_RETURN(run.macer, helper_macer(seq, *cipher));
          run.file_seq = seq;
          run.first_position = event.position;
        }
        run.add(bytes, ByteView(ciphertexts_[index]).subspan(event.offset, event.size), event.boundary);
      } else if (op.kind != WriteBatch::OpKind::kPutMeta) {
        plan();  // kEndFile, kAbandonTransaction
      }
    }
  }
  plan();
  return {};
}

Result<std::optional<crypto::Mac256>> StoreWriter::take_planned_mac(std::uint32_t file_seq,
                                                                    std::uint64_t offset,
                                                                    const std::vector<ByteView>& stored,
                                                                    const crypto::FileNonce* segment) {
  if (macs_pending_) {  // the helper plans them too
    macs_pending_ = false;
    macs_done_.wait(false, std::memory_order_acquire);
    if (mac_error_) {
      planned_macs_.clear();
      next_planned_mac_ = 0;
      return *std::exchange(mac_error_, std::nullopt);
    }
  }
  if (next_planned_mac_ == planned_macs_.size()) return std::optional<crypto::Mac256>();
  const PlannedMac& planned = planned_macs_[next_planned_mac_];
  const bool same_segment = segment == nullptr ? !planned.segment : planned.segment == *segment;
  if (planned.file_seq != file_seq || planned.offset != offset || !same_slices(planned.stored, stored) ||
      !same_segment) {
    next_planned_mac_ = planned_macs_.size();  // the plan no longer follows the round
    return std::optional<crypto::Mac256>();
  }
  ++next_planned_mac_;
  return std::optional<crypto::Mac256>(planned.mac);
}

Result<crypto::RunMacer*> StoreWriter::helper_macer(std::uint32_t file_seq, const FileCipher& cipher) {
  HelperMacer& macer = helper_macers_[file_seq];
  // A file number comes again with a new key when a failed round's new file is written again.
  if (!macer.macer || macer.key != cipher.key) {
    BRELAY_ASSIGN_OR_RETURN(macer.macer, crypto::RunMacer::create(cipher.key));
    macer.key = cipher.key;
  }
  return &*macer.macer;
}

void StoreWriter::finish_run_macs() {
  if (macs_pending_) {
    macs_pending_ = false;
    macs_done_.wait(false, std::memory_order_acquire);  // what it computed is not used
  }
  mac_error_.reset();
  planned_macs_.clear();
  next_planned_mac_ = 0;
  macs_while_written_ = false;
}

void StoreWriter::wait_crypto_job() {
  if (!crypto_job_running_) return;
  crypto_job_running_ = false;
  (void)crypto_helper_->wait();  // the job reports its failures itself (mac_error_, ctr_ahead_done_)
}

Result<std::optional<ResumePoint>> StoreWriter::put_resume_point(IndexRound& round) {
  if (!round.boundary) return std::optional<ResumePoint>();
  const Boundary& boundary = *round.boundary;
  ResumeRecordView record;
  record.file_seq = boundary.file_seq;
  record.position = boundary.position;
  record.timestamp = boundary.timestamp;
  record.file_name = round.boundary_file;
  record.last_gtid = last_gtid_;
  record.executed_gtid_set = boundary.executed_gtid_set;
  const Bytes encoded = record.encode();
  BRELAY_TRY(round.txn.put(internals_.dbs().meta, as_bytes(meta_key::kResumePoint), encoded));
  return std::optional<ResumePoint>(to_resume_point(record));
}

}  // namespace brelay::storage
