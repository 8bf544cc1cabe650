// The frames of a compressed file (compression.h): a frame's stored bytes compressed as one
// independent zstd frame (with zstd's content checksum), and for an encrypted file then encrypted
// with AES-256-CTR under a frame key derived from the file's data key and the compression's salt
// (HMAC-SHA256(data key, "brelay frame key v1" || salt)), at the frame's offset in the compressed
// file and with the file's nonce, and authenticated by an AES-256-GMAC (crypto::RunMacer under the
// frame key) over the frame's stored position, both its sizes and the encrypted bytes at that
// offset (an index entry moved to another position or file fails it). A fresh salt per compression keeps the
// compressed stream from ever reusing the event file's keystream, also when a file is compressed
// again after an abandoned attempt.
//
// Threads: an encoder or decoder is used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/at_rest_crypto.h"
#include "storage/file_ciphers.h"
#include "storage/store_format.h"

namespace brelay::storage {

using FrameSalt = std::array<std::uint8_t, 16>;
Result<FrameSalt> random_frame_salt();

class FrameEncoder {
 public:
  // `cipher`: the file's when it is encrypted (null: plain frames); `salt` as in the record.
  static Result<FrameEncoder> create(int level, const FileCipher* cipher, const FrameSalt& salt);
  FrameEncoder(FrameEncoder&&) noexcept;
  FrameEncoder& operator=(FrameEncoder&&) noexcept;
  ~FrameEncoder();

  // Compresses `stored` (the file's stored bytes from `position` on) into a frame that will sit at
  // `offset` of the compressed file, then encrypts and MACs it: the MAC also covers `position` and
  // both sizes, so a frame's index entry moved to another position fails its check. Its bytes are
  // output() until the next encode().
  Result<FrameView> encode(ByteView stored, std::uint64_t position, std::uint64_t offset);
  ByteView output() const;

 private:
  struct State;
  explicit FrameEncoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class FrameDecoder {
 public:
  static Result<FrameDecoder> create(const FileCipher* cipher, const FrameSalt& salt);
  FrameDecoder(FrameDecoder&&) noexcept;
  FrameDecoder& operator=(FrameDecoder&&) noexcept;
  ~FrameDecoder();

  // `position`: where the index says the frame's stored bytes start; `compressed`: the frame's
  // bytes as read from the file (frame.compressed_size; decrypted in place); `out`: exactly
  // frame.stored_size bytes. A MAC mismatch, a zstd error or a size other
  // than the index says is an error with kStoreDamagedCode (the caller names file and position).
  Status decode(const FrameView& frame, std::uint64_t position, std::span<std::uint8_t> compressed,
                std::span<std::uint8_t> out);

 private:
  struct State;
  explicit FrameDecoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace brelay::storage
