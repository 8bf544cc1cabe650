// StoreWriter's event bytes: a round's events are written to their event files (contiguous events
// in one call) and fdatasynced on the sync thread. Crash rule (event_files.h): the bytes are on
// disk before the LMDB commit that indexes them, which writer_commit.cc orders. An encrypted file's
// bytes are encrypted (AES-256-CTR at their file offset, one EVP context per file) while they are
// copied into ciphertexts_ (a large write on the crypto helper, a chunk ahead of the writes); the
// index round MACs the same ciphertext where it lies (no copy), on the helper while the previous
// round's index commits (writer_index.cc). While rounds queue up, that helper job also encrypts
// the next round's first batches (plan_ctr_ahead), so that round's write finds most of its
// ciphertext ready: the AES-CTR pass leaves the writer's serial chain of write, sync and commit.
// When all of the round's last write is ready, its run MACs (and the next round's AES-CTR) start on
// the helper before that write, which then only reads the ciphertext: the helper's work runs beside
// the copy into the page cache instead of after it.
// A plain lone round's commit record (writer_lone_commit.cc) follows its events in the same write;
// an encrypted one's is sealed over their ciphertext, so writer_lone_commit.cc writes it after.
#include <algorithm>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "storage/store_internals.h"
#include "storage/store_writer.h"
#include "storage/sync_thread.h"

namespace brelay::storage {

namespace {

// An encrypted write of more than one chunk is encrypted on the crypto helper a chunk ahead of the
// writes that copy it into the page cache.
constexpr std::size_t kCtrChunkBytes = std::size_t{1} << 20;

// Bytes to encrypt at `position` of the file into `out` (in ciphertexts_); `ready`: `out` holds
// them already (encrypted ahead).
struct CtrPart {
  std::uint64_t position;
  ByteView in;
  std::span<std::uint8_t> out;
  bool ready = false;
};

Status apply_ctr(crypto::FileCtr& ctr, const std::vector<CtrPart>& parts) {
  for (const CtrPart& part : parts) {
    if (!part.ready) BRELAY_TRY(ctr.apply(part.position, part.in, part.out));
  }
  return {};
}

// Moves the parts past the first `keep` bytes of `parts` to the returned vector, cutting the one
// that straddles the cut.
std::vector<CtrPart> split_parts(std::vector<CtrPart>& parts, std::size_t keep) {
  std::vector<CtrPart> rest;
  std::size_t at = 0;
  std::size_t index = 0;
  for (; index < parts.size() && at + parts[index].in.size() <= keep; ++index)
    at += parts[index].in.size();
  if (index == parts.size()) return rest;
  CtrPart& cut = parts[index];
  const std::size_t head = keep - at;
  if (head > 0) {
    rest.push_back(CtrPart{cut.position + head, cut.in.subspan(head), cut.out.subspan(head), cut.ready});
    cut.in = cut.in.first(head);
    cut.out = cut.out.first(head);
    ++index;
  }
  rest.insert(rest.end(), parts.begin() + static_cast<std::ptrdiff_t>(index), parts.end());
  parts.resize(index);
  return rest;
}

std::vector<ByteView> outputs(const std::vector<CtrPart>& parts) {
  std::vector<ByteView> out;
  out.reserve(parts.size());
  for (const CtrPart& part : parts)
    out.emplace_back(part.out);
  return out;
}

// A write's jobs on the crypto helper, one at a time; one still running when the write returns
// early is waited for.
class HelperJob {
 public:
  explicit HelperJob(SyncThread& helper) : helper_(helper) {}
  HelperJob(const HelperJob&) = delete;
  HelperJob& operator=(const HelperJob&) = delete;
  ~HelperJob() {
    if (running_) (void)helper_.wait();
  }
  void start(std::function<Status()> job) {
    helper_.start(std::move(job));
    running_ = true;
  }
  Status wait() {
    running_ = false;
    return helper_.wait();
  }

 private:
  SyncThread& helper_;
  bool running_ = false;
};

}  // namespace

Status StoreWriter::write_encrypted(const std::deque<WriteBatch>& batches,
                                    const std::vector<ByteView>& pieces,
                                    const std::vector<std::size_t>& sources, std::uint64_t position,
                                    bool last_write) {
  std::vector<CtrPart> parts;
  std::uint64_t to_encrypt = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const WriteBatch::Buffer& payload = batches[sources[i]].payload_;
    Bytes& stored = ciphertexts_[sources[i]];
    const auto offset = static_cast<std::size_t>(pieces[i].data() - payload.data());
    const bool ready = encrypted_ahead(sources[i], offset, pieces[i].size(), position);
    // (A piece encrypted ahead lies in a buffer the plan sized for the whole payload.)
    if (!ready && stored.size() < payload.size()) stored.resize(payload.size());
    parts.push_back(CtrPart{position, pieces[i],
                            std::span<std::uint8_t>(stored.data() + offset, pieces[i].size()), ready});
    if (ready) {
      encrypted_ahead_bytes_ += pieces[i].size();
    } else {
      to_encrypt += pieces[i].size();
    }
    position += pieces[i].size();
  }
  // All of the round's last write was encrypted ahead: from here on this thread only reads the
  // round's ciphertext, so the helper computes its run MACs (and the next round's AES-CTR) while it
  // is written, instead of after (commit() starts them otherwise).
  if (last_write && to_encrypt == 0 && crypto_helper_) {
    start_run_macs(batches);
    macs_while_written_ = true;
  }
  std::vector<std::vector<CtrPart>> chunks;
  while (!parts.empty()) {
    std::vector<CtrPart> rest = split_parts(parts, kCtrChunkBytes);
    chunks.push_back(std::move(parts));
    parts = std::move(rest);
  }
  auto write = [&](const std::vector<CtrPart>& chunk) {
    return appender_.write_at(chunk.front().position, outputs(chunk));
  };
  if (!crypto_helper_ || !helper_ctr_ || chunks.size() < 2 || to_encrypt <= kCtrChunkBytes) {
    for (const std::vector<CtrPart>& chunk : chunks) {
      BRELAY_TRY(apply_ctr(*appender_ctr_, chunk));
      BRELAY_TRY(write(chunk));
    }
    return {};
  }
  // This thread encrypts the first chunk while the helper encrypts the second; then it writes each
  // chunk while the helper encrypts the one after it.
  HelperJob job(*crypto_helper_);
  auto encrypt = [&](std::size_t index) {
    job.start([this, chunk = &chunks[index]] { return apply_ctr(*helper_ctr_, *chunk); });
  };
  encrypt(1);
  BRELAY_TRY(apply_ctr(*appender_ctr_, chunks[0]));
  BRELAY_TRY(write(chunks[0]));
  for (std::size_t index = 1; index < chunks.size(); ++index) {
    BRELAY_TRY(job.wait());
    if (index + 1 < chunks.size()) encrypt(index + 1);
    BRELAY_TRY(write(chunks[index]));
  }
  return {};
}

Status StoreWriter::write_event_bytes(const std::deque<WriteBatch>& batches, ByteView commit_record) {
  const bool sync = store_.sync_mode() == SyncMode::kCommit;
  std::uint32_t next_seq = next_file_seq_;
  std::vector<ByteView> pieces;      // contiguous in the file from write_position on
  std::vector<std::size_t> sources;  // the batch each piece lies in
  std::uint64_t write_position = 0;
  wait_crypto_job();  // the helper may no longer read ciphertexts_ or write the plan's buffers
  finish_run_macs();
  if (ciphertexts_.size() < batches.size()) ciphertexts_.resize(batches.size());
  adopt_ctr_ahead(batches);
  // `last`: the round's last write.
  auto flush = [&](bool last) -> Status {
    if (pieces.empty()) return {};
    std::uint64_t end = write_position;
    for (ByteView piece : pieces)
      end += piece.size();
    if (appender_cipher_) {
      if (write_position < keystream_written_end_) BRELAY_TRY(start_keystream_segment(write_position));
      keystream_written_end_ = std::max(keystream_written_end_, end);
      BRELAY_TRY(write_encrypted(batches, pieces, sources, write_position, last));
    } else {
      BRELAY_TRY(appender_.write_at(write_position, pieces));
    }
    appender_written_ = true;
    appender_size_ = std::max(appender_size_, end);
    pieces.clear();
    sources.clear();
    return {};
  };
  for (std::size_t index = 0; index < batches.size(); ++index) {
    const WriteBatch& batch = batches[index];
    for (const WriteBatch::Op& op : batch.ops_) {
      switch (op.kind) {
        case WriteBatch::OpKind::kBeginFile: {
          BRELAY_TRY(flush(false));
          if (appender_.is_open() && appender_written_) finished_appenders_.push_back(std::move(appender_));
          BRELAY_ASSIGN_OR_RETURN(auto created, internals_.ciphers().create(next_seq));
          BRELAY_ASSIGN_OR_RETURN(appender_, internals_.event_files().create(next_seq++, sync));
          appender_written_ = false;
          appender_size_ = 0;
          keystream_written_end_ = 0;
          NewFileCipher fresh;
          if (created) {
            fresh.encryption = created->first;
            fresh.cipher = created->second;
          }
          BRELAY_TRY(set_appender_cipher(fresh.cipher));
          new_file_ciphers_.push_back(fresh);
          break;
        }
        case WriteBatch::OpKind::kEvent: {
          const WriteBatch::Event& event = batch.events_[op.index];
          if (pieces.empty()) write_position = event.position;
          if (!append_joined(pieces, batch.event_bytes(event))) sources.push_back(index);
          break;
        }
        case WriteBatch::OpKind::kAbandonTransaction:
          // The next event is written again from the transaction's start.
          BRELAY_TRY(flush(false));
          break;
        case WriteBatch::OpKind::kEndFile:
        case WriteBatch::OpKind::kPutMeta: break;
      }
    }
  }
  if (!commit_record.empty() && !pieces.empty()) {
    if (appender_cipher_) return make_error("internal: a lone round's commit record for an encrypted file");
    pieces.push_back(commit_record);
  }
  return flush(true);
}

std::vector<const WriteBatch*> StoreWriter::queued_round() {
  std::vector<const WriteBatch*> queued;
  if (!appender_cipher_) return queued;
  std::lock_guard lock(mutex_);
  std::size_t taken = 0;  // take_round()'s bound
  for (const WriteBatch& batch : queue_) {
    if (taken >= options_.max_commit_bytes) break;
    taken += batch.byte_size();
    queued.push_back(&batch);  // a deque's elements stay where they are while it grows at the back
  }
  return queued;
}

void StoreWriter::plan_ctr_ahead(const std::vector<const WriteBatch*>& queued) {
  drop_ctr_ahead();
  if (!appender_cipher_ || !helper_ctr_) return;
  for (const WriteBatch* queued_batch : queued) {
    const WriteBatch& batch = *queued_batch;
    CtrAhead ahead;
    ahead.payload = batch.payload_.data();
    bool file_goes_on = true;
    for (const WriteBatch::Op& op : batch.ops_) {
      if (op.kind == WriteBatch::OpKind::kPutMeta) continue;
      if (op.kind != WriteBatch::OpKind::kEvent) {  // another file, or events written again
        file_goes_on = false;
        break;
      }
      const WriteBatch::Event& event = batch.events_[op.index];
      CtrStretch* last = ahead.stretches.empty() ? nullptr : &ahead.stretches.back();
      if (last != nullptr && last->offset + last->size == event.offset &&
          last->position + last->size == event.position) {
        last->size += event.size;
      } else {
        ahead.stretches.push_back(CtrStretch{event.offset, event.size, event.position});
      }
    }
    if (!ahead.stretches.empty()) {
      if (!ctr_ahead_spares_.empty()) {
        ahead.stored = std::move(ctr_ahead_spares_.back());
        ctr_ahead_spares_.pop_back();
      }
      if (ahead.stored.size() < batch.payload_.size()) ahead.stored.resize(batch.payload_.size());
      ctr_ahead_.push_back(std::move(ahead));
    }
    if (!file_goes_on) break;
  }
  if (!ctr_ahead_.empty()) ctr_ahead_cipher_ = appender_cipher_;
}

void StoreWriter::encrypt_ahead() {
  for (CtrAhead& ahead : ctr_ahead_) {
    for (const CtrStretch& stretch : ahead.stretches) {
      const ByteView in(ahead.payload + stretch.offset, stretch.size);
      if (!helper_ctr_->apply(stretch.position, in,
                              std::span<std::uint8_t>(ahead.stored).subspan(stretch.offset, stretch.size)))
        return;  // not done: the round encrypts these itself (and meets the error there)
    }
  }
  ctr_ahead_done_ = true;
}

void StoreWriter::adopt_ctr_ahead(const std::deque<WriteBatch>& batches) {
  ready_ciphertexts_.assign(batches.size(), {});
  encrypted_ahead_bytes_ = 0;
  if (ctr_ahead_done_) {
    std::size_t index = 0;
    for (CtrAhead& ahead : ctr_ahead_) {
      while (index < batches.size() && batches[index].payload_.data() != ahead.payload)
        ++index;
      if (index == batches.size()) break;
      std::swap(ciphertexts_[index], ahead.stored);
      ready_ciphertexts_[index] = std::move(ahead.stretches);
    }
  }
  drop_ctr_ahead();
}

bool StoreWriter::encrypted_ahead(std::size_t batch, std::size_t offset, std::size_t size,
                                  std::uint64_t position) const {
  if (batch >= ready_ciphertexts_.size() || !appender_cipher_ || !ctr_ahead_cipher_ ||
      *appender_cipher_ != *ctr_ahead_cipher_)
    return false;
  return std::any_of(ready_ciphertexts_[batch].begin(), ready_ciphertexts_[batch].end(),
                     [&](const CtrStretch& stretch) {
                       return stretch.offset <= offset && offset + size <= stretch.offset + stretch.size &&
                              stretch.position + (offset - stretch.offset) == position;
                     });
}

void StoreWriter::drop_ctr_ahead() {
  // Spares for about a round of batches, by bytes: a round's worth (twice, for the slack of its
  // last batch), so that a batch far larger than a round leaves nothing behind.
  std::size_t kept = 0;
  for (const Bytes& spare : ctr_ahead_spares_)
    kept += spare.capacity();
  for (CtrAhead& ahead : ctr_ahead_) {
    if (kept + ahead.stored.capacity() > 2 * options_.max_commit_bytes) continue;
    kept += ahead.stored.capacity();
    ctr_ahead_spares_.push_back(std::move(ahead.stored));
  }
  ctr_ahead_.clear();
  ctr_ahead_done_ = false;
}

Status StoreWriter::set_appender_cipher(const std::optional<FileCipher>& cipher) {
  appender_cipher_ = cipher;
  appender_ctr_.reset();
  helper_ctr_.reset();
  if (cipher) {
    BRELAY_ASSIGN_OR_RETURN(appender_ctr_,
                            crypto::FileCtr::create(cipher->key, cipher->nonce, cipher->segments));
    if (crypto_helper_) {
      BRELAY_ASSIGN_OR_RETURN(helper_ctr_,
                              crypto::FileCtr::create(cipher->key, cipher->nonce, cipher->segments));
    }
  }
  return {};
}

Status StoreWriter::start_keystream_segment(std::uint64_t position) {
  if (position >= FileEncryption::kSegmentRunDomain)
    return make_error("position {} is past what an encrypted file can hold", position);
  BRELAY_ASSIGN_OR_RETURN(const crypto::FileNonce nonce, crypto::random_nonce());
  // The cipher of the record that will index these bytes (encode_file_record() states its
  // segments): the created file's (indexed later in this round), or the newest indexed file's,
  // which this round then writes again.
  std::optional<FileCipher>* cipher = nullptr;
  if (!new_file_ciphers_.empty()) {
    cipher = &new_file_ciphers_.back().cipher;
  } else if (file_) {
    cipher = &file_->cipher;
    file_->dirty = true;
  }
  if (cipher == nullptr || !*cipher || !appender_cipher_ || **cipher != *appender_cipher_)
    return make_error("internal: the writer's encrypted file has no record to note a keystream segment in");
  std::vector<crypto::NonceSegment>& segments = (*cipher)->segments;
  std::erase_if(segments, [&](const crypto::NonceSegment& segment) { return segment.start >= position; });
  segments.push_back(crypto::NonceSegment{position, nonce});
  keystream_written_end_ = position;
  return set_appender_cipher(*cipher);
}

Status StoreWriter::start_sync() {
  if (finished_appenders_.empty() && !appender_written_) return {};
  // The sync thread gets the ended files' appenders and a duplicate descriptor of the current
  // one, so the writer may go on writing to it, or close it when a new file begins, meanwhile.
  std::shared_ptr<EventFileAppender::SyncTarget> current;
  if (appender_written_) {
    BRELAY_ASSIGN_OR_RETURN(auto target, appender_.sync_target());
    current = std::make_shared<EventFileAppender::SyncTarget>(std::move(target));
  }
  auto finished = std::make_shared<std::vector<EventFileAppender>>(std::move(finished_appenders_));
  finished_appenders_.clear();
  appender_written_ = false;
  sync_in_flight_ = true;
  syncer_->start([finished = std::move(finished), current = std::move(current)]() -> Status {
    for (EventFileAppender& file : *finished)
      BRELAY_TRY(file.sync());
    if (current) BRELAY_TRY(current->sync());
    return {};
  });
  return {};
}

Status StoreWriter::wait_sync() {
  if (!sync_in_flight_) return {};
  sync_in_flight_ = false;
  return syncer_->wait();
}

}  // namespace brelay::storage
