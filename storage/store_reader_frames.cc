// StoreReader's path for compressed files (compression.h): a batch's runs and bytes come from the
// frames that hold them, each read from the `.events.zst` file, checked (the frame MAC of an
// encrypted file, zstd's checksum and the size the index gives), decrypted and decompressed. A
// compressed file keeps no runs in the index (format version 5): the run of a frame is made from
// its events' headers (frame_event_ends) once per decompression. The last decompressed frame is
// kept, so a reader going forward decompresses each frame once however its batches fall; a batch
// inside one frame is a view of it, one that spans frames a copy.
#include <algorithm>
#include <memory>

#include "storage/frame_codec.h"
#include "storage/store_internals.h"
#include "storage/store_reader.h"

namespace brelay::storage {

struct StoreReader::FrameState {
  std::uint32_t seq = 0;
  FrameSalt salt{};
  std::optional<FileCipher> cipher;
  CompressedFile file;
  FrameDecoder decoder;
  Bytes compressed;  // the frame as read
  Bytes frame;       // the last decompressed frame: stored bytes from frame_position on
  std::uint64_t frame_position = 0;
  // The frame's event ends (a RunView value), shared with the runs of the batches that list them,
  // and that value parsed once.
  std::shared_ptr<const Bytes> ends;
  RunView run;
  // The runs' tables of the last batch, and its bytes when it spans frames; valid until the next
  // batch like the runs.
  std::vector<std::shared_ptr<const Bytes>> batch_ends;
  Bytes batch;
  ByteView view;  // the last batch's bytes of the current frame, not copied yet
};

namespace {

bool same_cipher(const std::optional<FileCipher>& a, const std::optional<FileCipher>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->key == b->key && a->nonce == b->nonce);
}

}  // namespace

Result<StoreReader::StoredRun> StoreReader::frame_run_holding(std::uint32_t seq, std::string_view name,
                                                              const FileCompression& compression,
                                                              const std::optional<FileCipher>& cipher,
                                                              std::uint64_t at) {
  const StoreInternals& internals = store_->internals();
  if (!internals.dbs().frames) {
    return make_error_code(kStoreDamagedCode, "{} is compressed but the store has no frames database", name);
  }
  if (!frames_ || frames_->seq != seq || frames_->salt != compression.salt ||
      !same_cipher(frames_->cipher, cipher)) {
    BRELAY_ASSIGN_OR_RETURN(CompressedFile file, internals.event_files().open_compressed(seq));
    BRELAY_ASSIGN_OR_RETURN(FrameDecoder decoder,
                            FrameDecoder::create(cipher ? &*cipher : nullptr, compression.salt));
    frames_ = std::make_shared<FrameState>(FrameState{
        seq, compression.salt, cipher, std::move(file), std::move(decoder), {}, {}, 0, {}, {}, {}, {}, {}});
  }
  FrameState& state = *frames_;
  const bool cached =
      state.ends && state.frame_position <= at && at < state.frame_position + state.frame.size();
  if (!cached) BRELAY_TRY(load_frame(name, at));
  return StoredRun{EventKey{seq, state.frame_position}, state.run};
}

Status StoreReader::load_frame(std::string_view name, std::uint64_t at) {
  FrameState& state = *frames_;
  state.frame.clear();
  state.ends.reset();
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn_, *store_->internals().dbs().frames));
  const EventKey target{state.seq, at};
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.seek(target.encode()));
  std::optional<EventKey> key;
  if (entry) {
    BRELAY_ASSIGN_OR_RETURN(key, EventKey::decode(entry->key));
  }
  if (!key || *key != target) {
    BRELAY_ASSIGN_OR_RETURN(entry, entry ? cursor.prev() : cursor.last());
    key.reset();
    if (entry) {
      BRELAY_ASSIGN_OR_RETURN(key, EventKey::decode(entry->key));
    }
  }
  std::optional<FrameView> frame;
  if (key && key->file_seq == state.seq && key->position <= at) {
    BRELAY_ASSIGN_OR_RETURN(frame, FrameView::decode(entry->value));
    if (at >= key->position + frame->stored_size) frame.reset();
  }
  if (!frame) {
    return make_error_code(kStoreDamagedCode, "the store has no compressed frame holding position {} of {}",
                           at, name);
  }
  state.compressed.resize(frame->compressed_size);
  Status loaded = state.file.read(frame->offset, state.compressed);
  if (loaded) {
    state.frame.resize(frame->stored_size);
    loaded = state.decoder.decode(*frame, key->position, state.compressed, state.frame);
  }
  if (loaded) {
    // The frame's event ends, found by their headers and parsed once (the RunView points into the
    // shared table, which never moves). A frame its headers do not tile is damage.
    loaded = [&state]() -> Status {
      auto ends = frame_event_ends(state.frame);
      if (!ends) return make_error_code(kStoreDamagedCode, "{}", ends.error().message());
      auto table = std::make_shared<const Bytes>(std::move(*ends));
      auto run = RunView::parse(*table);
      if (!run) return make_error_code(kStoreDamagedCode, "{}", run.error().message());
      state.ends = std::move(table);
      state.run = *run;
      return {};
    }();
  }
  if (!loaded) {
    state.frame.clear();
    return std::move(loaded).error().with_context(
        fmt::format("reading the compressed frame of {} at position {} (offset {} of {})", name,
                    key->position, frame->offset, state.file.path()));
  }
  state.frame_position = key->position;
  return {};
}

void StoreReader::begin_frame_batch() {
  checked_ = {};  // decompressed bytes are this reader's own: no mark shared through a map
  frames_->batch_ends.clear();
  frames_->batch.clear();
  frames_->view = {};
}

void StoreReader::take_frame_bytes(std::uint64_t begin, std::uint64_t end) {
  FrameState& state = *frames_;
  state.batch_ends.push_back(state.ends);
  const ByteView bytes = ByteView(state.frame)
                             .subspan(static_cast<std::size_t>(begin - state.frame_position),
                                      static_cast<std::size_t>(end - begin));
  if (state.batch.empty() && state.view.empty()) {
    state.view = bytes;  // the batch may stay inside this frame: no copy
    return;
  }
  keep_frame_bytes();
  state.batch.insert(state.batch.end(), bytes.begin(), bytes.end());
}

void StoreReader::keep_frame_bytes() {
  FrameState& state = *frames_;
  state.batch.insert(state.batch.end(), state.view.begin(), state.view.end());
  state.view = {};
}

void StoreReader::attach_frames() {
  FrameState& state = *frames_;
  if (!state.batch.empty()) keep_frame_bytes();
  attach_to_runs(state.batch.empty() ? state.view : ByteView(state.batch));
}

}  // namespace brelay::storage
