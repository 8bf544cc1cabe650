// StoreReader's path for compressed files (compression.h): a batch's bytes come from the frames
// that hold them, each read from the `.events.zst` file, checked (the frame MAC of an encrypted
// file, zstd's checksum and the size the index gives), decrypted and decompressed, then copied into
// the copy buffer. The last decompressed frame is kept, so a reader going forward decompresses each
// frame once however its batches fall.
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
  Bytes large;  // a batch larger than the copy buffer (one huge event)
};

namespace {

bool same_cipher(const std::optional<FileCipher>& a, const std::optional<FileCipher>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->key == b->key && a->nonce == b->nonce);
}

}  // namespace

Status StoreReader::attach_frames(std::size_t span) {
  checked_ = {};  // decompressed copies are this reader's own: no mark shared through a map
  const StoreInternals& internals = store_->internals();
  const FileCompression& compression = *compression_;
  if (!frames_ || frames_->seq != file_.seq || frames_->salt != compression.salt ||
      !same_cipher(frames_->cipher, cipher_)) {
    BRELAY_ASSIGN_OR_RETURN(CompressedFile file, internals.event_files().open_compressed(file_.seq));
    BRELAY_ASSIGN_OR_RETURN(FrameDecoder decoder,
                            FrameDecoder::create(cipher_ ? &*cipher_ : nullptr, compression.salt));
    frames_ = std::make_shared<FrameState>(
        FrameState{file_.seq, compression.salt, cipher_, std::move(file), std::move(decoder), {}, {}, 0, {}});
  }
  if (!internals.dbs().frames) {
    return make_error_code(kStoreDamagedCode, "{} is compressed but the store has no frames database",
                           file_.name);
  }
  std::span<std::uint8_t> into;
  if (span <= kMaxCopiedBytes) {
    if (copy_capacity_ < span) {
      constexpr std::size_t kStep = std::size_t{64} << 10;
      copy_capacity_ = std::min(kMaxCopiedBytes, (span + kStep - 1) / kStep * kStep);
      copy_ = std::make_unique_for_overwrite<std::uint8_t[]>(copy_capacity_);
    }
    into = std::span<std::uint8_t>(copy_.get(), span);
  } else {
    frames_->large.resize(span);
    into = frames_->large;
  }
  FrameState& state = *frames_;
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn_, *internals.dbs().frames));
  std::uint64_t at = position_;
  const std::uint64_t end = position_ + span;
  while (at < end) {
    const bool cached =
        !state.frame.empty() && state.frame_position <= at && at < state.frame_position + state.frame.size();
    if (!cached) {
      state.frame.clear();
      BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.seek(EventKey{file_.seq, at}.encode()));
      std::optional<EventKey> key;
      if (entry) {
        BRELAY_ASSIGN_OR_RETURN(key, EventKey::decode(entry->key));
      }
      if (!key || *key != EventKey{file_.seq, at}) {
        BRELAY_ASSIGN_OR_RETURN(entry, entry ? cursor.prev() : cursor.last());
        key.reset();
        if (entry) {
          BRELAY_ASSIGN_OR_RETURN(key, EventKey::decode(entry->key));
        }
      }
      std::optional<FrameView> frame;
      if (key && key->file_seq == file_.seq && key->position <= at) {
        BRELAY_ASSIGN_OR_RETURN(frame, FrameView::decode(entry->value));
        if (at >= key->position + frame->stored_size) frame.reset();
      }
      if (!frame) {
        return make_error_code(kStoreDamagedCode,
                               "the store has no compressed frame holding position {} of {}", at, file_.name);
      }
      state.compressed.resize(frame->compressed_size);
      Status loaded = state.file.read(frame->offset, state.compressed);
      if (loaded) {
        state.frame.resize(frame->stored_size);
        loaded = state.decoder.decode(*frame, key->position, state.compressed, state.frame);
      }
      if (!loaded) {
        state.frame.clear();
        return std::move(loaded).error().with_context(
            fmt::format("reading the compressed frame of {} at position {} (offset {} of {})", file_.name,
                        key->position, frame->offset, state.file.path()));
      }
      state.frame_position = key->position;
    }
    const std::size_t from = static_cast<std::size_t>(at - state.frame_position);
    const std::size_t count =
        static_cast<std::size_t>(std::min<std::uint64_t>(end - at, state.frame.size() - from));
    std::copy_n(state.frame.data() + from, count, into.data() + (at - position_));
    at += count;
  }
  attach_to_runs(into);
  return {};
}

}  // namespace brelay::storage
