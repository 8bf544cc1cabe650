// StoreWriter's event bytes: a round's events are written to their event files (contiguous events
// in one call) and fdatasynced on the sync thread. Crash rule (event_files.h): the bytes are on
// disk before the LMDB commit that indexes them, which writer_commit.cc orders. An encrypted file's
// bytes are encrypted (AES-256-CTR at their file offset, one EVP context per file) while they are
// copied into ciphertexts_; the index round MACs the same ciphertext where it lies (no copy), and
// runs after this round's sync has started, so the MAC work overlaps the fdatasync.
// A lone round's commit record (writer_lone_commit.cc) follows its events in the same write; lone
// rounds are plain files' only.
#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "storage/store_internals.h"
#include "storage/store_writer.h"
#include "storage/sync_thread.h"

namespace brelay::storage {

Status StoreWriter::encrypt_pieces(const std::deque<WriteBatch>& batches, std::vector<ByteView>& pieces,
                                   const std::vector<std::size_t>& sources, std::uint64_t position) {
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const WriteBatch::Buffer& payload = batches[sources[i]].payload_;
    Bytes& stored = ciphertexts_[sources[i]];
    if (stored.size() < payload.size()) stored.resize(payload.size());
    const auto offset = static_cast<std::size_t>(pieces[i].data() - payload.data());
    const std::span<std::uint8_t> out(stored.data() + offset, pieces[i].size());
    BRELAY_TRY(appender_ctr_->apply(position, pieces[i], out));
    position += out.size();
    pieces[i] = out;
  }
  return {};
}

Status StoreWriter::write_event_bytes(const std::deque<WriteBatch>& batches, ByteView commit_record) {
  const bool sync = store_.sync_mode() == SyncMode::kCommit;
  std::uint32_t next_seq = next_file_seq_;
  std::vector<ByteView> pieces;      // contiguous in the file from write_position on
  std::vector<std::size_t> sources;  // the batch each piece lies in
  std::uint64_t write_position = 0;
  if (ciphertexts_.size() < batches.size()) ciphertexts_.resize(batches.size());
  auto flush = [&]() -> Status {
    if (pieces.empty()) return {};
    if (appender_cipher_) BRELAY_TRY(encrypt_pieces(batches, pieces, sources, write_position));
    BRELAY_TRY(appender_.write_at(write_position, pieces));
    appender_written_ = true;
    std::uint64_t end = write_position;
    for (ByteView piece : pieces)
      end += piece.size();
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
          BRELAY_TRY(flush());
          if (appender_.is_open() && appender_written_) finished_appenders_.push_back(std::move(appender_));
          BRELAY_ASSIGN_OR_RETURN(auto created, internals_.ciphers().create(next_seq));
          BRELAY_ASSIGN_OR_RETURN(appender_, internals_.event_files().create(next_seq++, sync));
          appender_written_ = false;
          appender_size_ = 0;
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
          const ByteView bytes = batch.event_bytes(event);
          if (!pieces.empty() && pieces.back().data() + pieces.back().size() == bytes.data()) {
            pieces.back() = ByteView(pieces.back().data(), pieces.back().size() + bytes.size());
          } else {
            if (pieces.empty()) write_position = event.position;
            pieces.push_back(bytes);
            sources.push_back(index);
          }
          break;
        }
        case WriteBatch::OpKind::kAbandonTransaction:
          // The next event is written again from the transaction's start.
          BRELAY_TRY(flush());
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
  return flush();
}

Status StoreWriter::set_appender_cipher(const std::optional<FileCipher>& cipher) {
  appender_cipher_ = cipher;
  appender_ctr_.reset();
  if (cipher) {
    BRELAY_ASSIGN_OR_RETURN(appender_ctr_, crypto::FileCtr::create(cipher->key, cipher->nonce));
  }
  return {};
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
