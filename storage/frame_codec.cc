#include "storage/frame_codec.h"

#include <openssl/rand.h>
#include <zstd.h>

#include <string_view>
#include <utility>

#include "common/byte_writer.h"

namespace brelay::storage {
namespace {

constexpr std::string_view kFrameKeyLabel = "brelay frame key v1";

struct CCtxFree {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

// The frame key's CTR and MAC contexts of an encrypted file.
struct FrameCrypto {
  crypto::FileCtr ctr;
  crypto::RunMacer macer;
};

Result<std::optional<FrameCrypto>> frame_crypto(const FileCipher* cipher, const FrameSalt& salt) {
  if (cipher == nullptr) return std::optional<FrameCrypto>();
  BRELAY_ASSIGN_OR_RETURN(crypto::Key256 key, crypto::derive_key(cipher->key, kFrameKeyLabel, salt));
  auto ctr = crypto::FileCtr::create(key, cipher->nonce);
  auto macer = crypto::RunMacer::create(key);
  key.fill(0);
  if (!ctr) return std::move(ctr).error();
  if (!macer) return std::move(macer).error();
  return std::optional<FrameCrypto>(FrameCrypto{std::move(*ctr), std::move(*macer)});
}

// What a frame's MAC binds besides its bytes: where its stored bytes start and both sizes
// (position u64 LE, stored size u32 LE, compressed size u32 LE).
Bytes frame_binding(const FrameView& frame, std::uint64_t position) {
  ByteWriter bound;
  bound.u64(position).u32(frame.stored_size).u32(frame.compressed_size);
  return std::move(bound).take();
}

}  // namespace

Result<FrameSalt> random_frame_salt() {
  FrameSalt salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1)
    return make_error("the random generator failed to make a frame key salt");
  return salt;
}

struct FrameEncoder::State {
  std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx;
  std::optional<FrameCrypto> crypto;
  Bytes output;
};

FrameEncoder::FrameEncoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
FrameEncoder::FrameEncoder(FrameEncoder&&) noexcept = default;
FrameEncoder& FrameEncoder::operator=(FrameEncoder&&) noexcept = default;
FrameEncoder::~FrameEncoder() = default;

Result<FrameEncoder> FrameEncoder::create(int level, const FileCipher* cipher, const FrameSalt& salt) {
  auto state = std::make_unique<State>();
  state->cctx.reset(ZSTD_createCCtx());
  if (!state->cctx) return make_error("zstd could not make a compression context (out of memory?)");
  for (auto [param, value] : {std::pair{ZSTD_c_compressionLevel, level}, std::pair{ZSTD_c_checksumFlag, 1}}) {
    const std::size_t set = ZSTD_CCtx_setParameter(state->cctx.get(), param, value);
    if (ZSTD_isError(set))
      return make_error("zstd refused a compression setting: {}", ZSTD_getErrorName(set));
  }
  BRELAY_ASSIGN_OR_RETURN(state->crypto, frame_crypto(cipher, salt));
  return FrameEncoder(std::move(state));
}

Result<FrameView> FrameEncoder::encode(ByteView stored, std::uint64_t position, std::uint64_t offset) {
  if (stored.empty() || stored.size() > FrameView::kMaxStoredBytes)
    return make_error("a frame of {} bytes cannot be compressed (1 to {} bytes)", stored.size(),
                      FrameView::kMaxStoredBytes);
  Bytes& out = state_->output;
  out.resize(ZSTD_compressBound(stored.size()));
  const std::size_t size =
      ZSTD_compress2(state_->cctx.get(), out.data(), out.size(), stored.data(), stored.size());
  if (ZSTD_isError(size)) return make_error("zstd failed to compress a frame: {}", ZSTD_getErrorName(size));
  out.resize(size);
  FrameView frame;
  frame.offset = offset;
  frame.compressed_size = static_cast<std::uint32_t>(size);
  frame.stored_size = static_cast<std::uint32_t>(stored.size());
  if (state_->crypto) {
    BRELAY_TRY(state_->crypto->ctr.apply(offset, out, out));
    BRELAY_TRY(state_->crypto->macer.begin(offset));
    BRELAY_TRY(state_->crypto->macer.update(frame_binding(frame, position)));
    BRELAY_TRY(state_->crypto->macer.update(out));
    BRELAY_ASSIGN_OR_RETURN(frame.mac, state_->crypto->macer.finish());
  }
  return frame;
}

ByteView FrameEncoder::output() const {
  return state_->output;
}

struct FrameDecoder::State {
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx;
  std::optional<FrameCrypto> crypto;
};

FrameDecoder::FrameDecoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
FrameDecoder::FrameDecoder(FrameDecoder&&) noexcept = default;
FrameDecoder& FrameDecoder::operator=(FrameDecoder&&) noexcept = default;
FrameDecoder::~FrameDecoder() = default;

Result<FrameDecoder> FrameDecoder::create(const FileCipher* cipher, const FrameSalt& salt) {
  auto state = std::make_unique<State>();
  state->dctx.reset(ZSTD_createDCtx());
  if (!state->dctx) return make_error("zstd could not make a decompression context (out of memory?)");
  BRELAY_ASSIGN_OR_RETURN(state->crypto, frame_crypto(cipher, salt));
  return FrameDecoder(std::move(state));
}

Status FrameDecoder::decode(const FrameView& frame, std::uint64_t position,
                            std::span<std::uint8_t> compressed, std::span<std::uint8_t> out) {
  if (state_->crypto) {
    bool authentic = false;
    if (frame.mac) {
      BRELAY_ASSIGN_OR_RETURN(
          authentic, state_->crypto->macer.matches(frame.offset, frame_binding(frame, position), compressed,
                                                   *frame.mac));
    }
    if (!authentic) {
      return make_error_code(kStoreDamagedCode,
                             "the frame fails its authentication check ({}): it was changed on disk",
                             frame.mac ? "MAC mismatch" : "the index holds no MAC for it");
    }
    BRELAY_TRY(state_->crypto->ctr.apply(frame.offset, compressed, compressed));
  } else if (frame.mac) {
    return make_error_code(kStoreDamagedCode,
                           "the frame of a plain file has a MAC: the store's index is damaged");
  }
  const std::size_t size =
      ZSTD_decompressDCtx(state_->dctx.get(), out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(size)) {
    return make_error_code(kStoreDamagedCode,
                           "the frame does not decompress (zstd: {}): it was changed on disk",
                           ZSTD_getErrorName(size));
  }
  if (size != out.size()) {
    return make_error_code(kStoreDamagedCode, "the frame decompresses to {} bytes where the index says {}",
                           size, out.size());
  }
  return {};
}

}  // namespace brelay::storage
