// StoreReader's path for encrypted files (issue 17): the runs a read() collected are checked
// against their MACs over the stored bytes, then decrypted into the reader's own buffer, so the
// caller gets plain bytes as from a plain file (zero copy stays the path of plain files).
#include <algorithm>
#include <memory>

#include "storage/store_internals.h"
#include "storage/store_reader.h"

namespace brelay::storage {
namespace {

// A run is at most the writer's max_run_bytes, or one event when that is larger: a MySQL or
// MariaDB event is at most max_allowed_packet, 1 GiB. A larger run is damage, not something to
// allocate for.
constexpr std::size_t kMaxAuthenticatedRunBytes = std::size_t{1} << 30;
// After a batch of big events the buffer goes back to nothing once batches are small again.
constexpr std::size_t kKeptDecryptBytes = std::size_t{4} << 20;

}  // namespace

struct StoreReader::DecryptContexts {
  FileCipher cipher;
  crypto::FileCtr ctr;
  crypto::RunMacer macer;
};

Status StoreReader::decrypt_runs() {
  checked_ = {};  // decrypted copies are this reader's own: no mark shared through the map
  if (!decrypt_ || decrypt_->cipher != *cipher_) {
    BRELAY_ASSIGN_OR_RETURN(crypto::FileCtr ctr,
                            crypto::FileCtr::create(cipher_->key, cipher_->nonce, cipher_->segments));
    BRELAY_ASSIGN_OR_RETURN(crypto::RunMacer macer, crypto::RunMacer::create(cipher_->key));
    decrypt_ = std::make_shared<DecryptContexts>(DecryptContexts{*cipher_, std::move(ctr), std::move(macer)});
  }
  std::size_t total = 0;
  for (const EventRun& run : runs_) {
    if (run.run_.payload_size() > kMaxAuthenticatedRunBytes) {
      return make_error_code(kStoreDamagedCode,
                             "the stored run at position {} of {} claims {} bytes, more than any event: the "
                             "store's index is damaged",
                             run.run_position_, file_.name, run.run_.payload_size());
    }
    total += run.bytes_size();
  }
  if (decrypted_.capacity() > kKeptDecryptBytes && total <= kKeptDecryptBytes) Bytes().swap(decrypted_);
  decrypted_.resize(total);
  std::size_t at = 0;
  EventFiles& event_files = store_->internals().event_files();
  for (EventRun& run : runs_) {
    const std::uint64_t start = run.run_position_;
    const std::uint64_t run_end = start + run.run_.payload_size();
    // The MAC covers the whole run; its bytes are in the file (they were written before the commit
    // that indexes the run) even where the run reaches past the durable end.
    if (!map_ || map_->length() < run_end) {
      BRELAY_ASSIGN_OR_RETURN(map_, event_files.map(file_.seq, run_end));
      map_seq_ = file_.seq;
    }
    const ByteView bytes = map_->bytes(start, run.run_.payload_size());
    const std::optional<crypto::Mac256> expected = run.run_.mac();
    bool authentic = false;
    if (const crypto::FileNonce* segment = segment_nonce_at(*cipher_, start); expected && segment) {
      BRELAY_ASSIGN_OR_RETURN(authentic,
                              decrypt_->macer.matches(start + kSegmentRunDomain, *segment, bytes, *expected));
    } else if (expected) {
      BRELAY_ASSIGN_OR_RETURN(authentic, decrypt_->macer.matches(start, bytes, *expected));
    }
    if (!authentic) {
      return make_error_code(kStoreDamagedCode,
                             "the stored bytes of {} from position {} to {} (event file {}) fail their "
                             "authentication check ({}): they were changed on disk",
                             file_.name, start, run_end, event_files.path(file_.seq),
                             expected ? "MAC mismatch" : "the index holds no MAC for them");
    }
    // The batch serves [begin_offset, end_offset) of the run: decrypted at its place in the file
    // while copied (one pass over the bytes).
    const std::span<std::uint8_t> plain(decrypted_.data() + at, run.bytes_size());
    BRELAY_TRY(decrypt_->ctr.apply(start + run.begin_offset_, bytes.subspan(run.begin_offset_, plain.size()),
                                   plain));
    run.attach(plain);
    at += plain.size();
  }
  return {};
}

}  // namespace brelay::storage
