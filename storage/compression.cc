#include "storage/compression.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "storage/binlog_store.h"
#include "storage/frame_codec.h"
#include "storage/lmdb_cursor.h"
#include "storage/lmdb_txn.h"
#include "storage/store_edits.h"
#include "storage/store_format.h"
#include "storage/store_internals.h"
#include "storage/store_reader.h"
#include "storage/store_recovery.h"

namespace brelay::storage {
namespace {

// What compressing one file works with: its record as the compressor found it, and the encoder.
struct Plan {
  std::uint32_t seq = 0;
  FileInfo info;
  std::optional<FileCipher> cipher;
};

// The file's record when it is due: sealed, not the newest, not compressed, with bytes.
Result<std::optional<Plan>> plan(BinlogStore& store, std::uint32_t seq) {
  StoreInternals& internals = store.internals();
  BRELAY_ASSIGN_OR_RETURN(std::vector<FileInfo> files, committed_files(internals.env(), internals.dbs()));
  const std::optional<ResumePoint> durable = store.durable_end();
  // Sealed means durable as a whole, too: a later file holds the published durable end.
  if (files.empty() || files.back().seq == seq || !durable || durable->file_seq <= seq)
    return std::optional<Plan>();
  auto it = std::ranges::find(files, seq, &FileInfo::seq);
  if (it == files.end() || !it->closed || it->compressed_bytes > 0 || it->stored_bytes() == 0)
    return std::optional<Plan>();
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals.env()));
  BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(internals.dbs().files, encode_file_key(seq)));
  if (!value) return std::optional<Plan>();
  BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(*value));
  Plan found{seq, std::move(*it), std::nullopt};
  BRELAY_ASSIGN_OR_RETURN(found.cipher, internals.ciphers().of(seq, record));
  return std::optional<Plan>(std::move(found));
}

struct Written {
  std::vector<std::pair<std::uint64_t, FrameView>> frames;  // stored position -> frame
  std::uint64_t compressed_bytes = 0;
  FileCompression compression;
};

bool stopped(const CompressionOptions& options) {
  return options.stop != nullptr && options.stop->load();
}

// Readers find a compressed file's events by their headers (frame_event_ends, store_format.h):
// a file whose events do not all give their stored length is left uncompressed.
Status check_event_headers(const EventRun& run) {
  if (run.partial_prefix() != 0)
    return make_error("a batch began inside the event before position {}", run.position());
  for (std::size_t i = 0; i < run.event_count(); ++i) {
    const ByteView event = run.event(i);
    const auto length = event_header_length(event);
    if (!length || *length != event.size()) {
      return make_error(
          "the event at position {} is stored with {} bytes but its header gives {}: the file stays "
          "uncompressed (readers of compressed files find events by their headers)",
          run.event_position(i), event.size(), length ? fmt::format("{}", *length) : std::string("none"));
    }
  }
  return {};
}

// Reads the file's stored bytes through a reader (runs of an encrypted file are MAC-checked and
// decrypted) and writes them as frames; nullopt when stopped.
Result<std::optional<Written>> write_frames(BinlogStore& store, const Plan& plan, EventFileAppender& out,
                                            const CompressionOptions& options) {
  Written written;
  if (plan.cipher) {
    BRELAY_ASSIGN_OR_RETURN(written.compression.salt, random_frame_salt());
  }
  BRELAY_ASSIGN_OR_RETURN(
      FrameEncoder encoder,
      FrameEncoder::create(options.level, plan.cipher ? &*plan.cipher : nullptr, written.compression.salt));
  BRELAY_ASSIGN_OR_RETURN(StoreReader reader, StoreReader::open(store));
  BRELAY_TRY(reader.seek(plan.info.name, plan.info.first_position));
  const std::size_t frame_bytes = std::max<std::size_t>(options.frame_bytes, 1);
  Bytes pending;
  std::uint64_t frame_position = plan.info.first_position;
  auto flush = [&]() -> Status {
    BRELAY_ASSIGN_OR_RETURN(FrameView frame,
                            encoder.encode(pending, frame_position, written.compressed_bytes));
    const ByteView piece = encoder.output();
    BRELAY_TRY(out.write_at(written.compressed_bytes, std::span<const ByteView>(&piece, 1)));
    written.compressed_bytes += frame.compressed_size;
    written.frames.emplace_back(frame_position, frame);
    frame_position += pending.size();
    pending.clear();
    return {};
  };
  while (reader.position() < plan.info.end_position) {
    if (stopped(options)) return std::optional<Written>();
    BRELAY_ASSIGN_OR_RETURN(ReadBatch batch,
                            reader.read(frame_bytes - std::min(frame_bytes, pending.size())));
    if (batch.file_changed || reader.file().seq != plan.seq || batch.runs.empty()) break;
    for (const EventRun& run : batch.runs) {
      BRELAY_TRY(check_event_headers(run));
      pending.insert(pending.end(), run.bytes().begin(), run.bytes().end());
    }
    reader.consume(batch.bytes);
    reader.release();
    if (pending.size() >= frame_bytes) BRELAY_TRY(flush());
  }
  if (!pending.empty()) BRELAY_TRY(flush());
  if (frame_position != plan.info.end_position) {
    return make_error("read its stored bytes up to position {} but it ends at {}", frame_position,
                      plan.info.end_position);
  }
  written.compression.compressed_bytes = written.compressed_bytes;
  written.compression.frames = static_cast<std::uint32_t>(written.frames.size());
  return std::optional<Written>(std::move(written));
}

// Step 2 of the crash rule: the frames and the record's compression part in one commit, when the
// record is still the one compressed. False when it changed (purged meanwhile).
Result<bool> index_frames(StoreInternals& internals, const Plan& plan, const Written& written) {
  const StoreDatabases& dbs = internals.dbs();
  if (!dbs.frames) return make_error("the store has no frames database: it was opened read-only");
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(internals.env()));
  const auto key = encode_file_key(plan.seq);
  BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(dbs.files, key));
  if (!value) return false;
  BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(*value));
  if (record.compression || !record.closed || record.end_position != plan.info.end_position ||
      record.first_position != plan.info.first_position) {
    return false;
  }
  for (const auto& [position, frame] : written.frames) {
    const Bytes encoded = frame.encode();
    BRELAY_TRY(txn.put(*dbs.frames, EventKey{plan.seq, position}.encode(), encoded));
  }
  record.compression = written.compression;
  const Bytes encoded = record.encode();  // views into the snapshot: encode before the put
  BRELAY_TRY(txn.put(dbs.files, key, encoded));
  // A compressed file keeps no runs (format version 5): its frames' headers give its events; and
  // its GTID positions, needed only to purge it, are packed into one value.
  BRELAY_TRY(drop_index_of_compressed_file(txn, dbs, plan.seq));
  BRELAY_TRY(txn.commit());
  BRELAY_TRY(internals.sync_after_write());
  return true;
}

void step(const CompressionOptions& options, std::string_view name) {
  if (options.after_step) options.after_step(name);
}

}  // namespace

Result<std::vector<std::uint32_t>> Compressor::due_files(BinlogStore& store, std::int64_t written_before) {
  StoreInternals& internals = store.internals();
  BRELAY_ASSIGN_OR_RETURN(std::vector<FileInfo> files, committed_files(internals.env(), internals.dbs()));
  const std::optional<ResumePoint> durable = store.durable_end();
  std::vector<std::uint32_t> due;
  for (std::size_t i = 0; i + 1 < files.size(); ++i) {
    const FileInfo& file = files[i];
    if (!durable || file.seq >= durable->file_seq) break;  // not durable as a whole yet
    if (file.closed && file.compressed_bytes == 0 && file.stored_bytes() > 0 &&
        file.last_write_time <= written_before) {
      due.push_back(file.seq);
    }
  }
  return due;
}

Result<std::optional<CompressionReport>> Compressor::compress_file(BinlogStore& store, std::uint32_t file_seq,
                                                                   const CompressionOptions& options) {
  if (store.read_only())
    return make_error("the store in {} is open read-only: nothing can be compressed", store.directory());
  StoreInternals& internals = store.internals();
  BRELAY_ASSIGN_OR_RETURN(std::optional<Plan> found, plan(store, file_seq));
  if (!found) return std::optional<CompressionReport>();
  EventFiles& files = internals.event_files();
  CompressionReport report;
  report.file_seq = file_seq;
  report.file = found->info.name;
  report.stored_bytes = found->info.stored_bytes();
  BRELAY_ASSIGN_OR_RETURN(report.event_file_bytes, files.size(file_seq));
  auto abandon = [&](Error error) -> Result<std::optional<CompressionReport>> {
    (void)files.remove_compressed(file_seq);
    return std::move(error).with_context(fmt::format("compressing binary log {}", report.file));
  };
  std::optional<Written> written;
  {
    BRELAY_ASSIGN_OR_RETURN(EventFileAppender out, files.create_compressed(file_seq));
    auto frames = write_frames(store, *found, out, options);
    if (!frames) return abandon(std::move(frames).error());
    written = std::move(*frames);
    if (!written) {
      (void)files.remove_compressed(file_seq);
      return std::optional<CompressionReport>();
    }
    if (auto synced = out.sync(); !synced) return abandon(std::move(synced).error());
  }
  if (auto synced = files.sync_directory(); !synced) return abandon(std::move(synced).error());
  step(options, "written");
  auto indexed = index_frames(internals, *found, *written);
  if (!indexed) return abandon(std::move(indexed).error());
  if (!*indexed) {
    (void)files.remove_compressed(file_seq);
    return std::optional<CompressionReport>();
  }
  step(options, "indexed");
  report.compressed_bytes = written->compressed_bytes;
  report.frames = written->frames.size();
  report.readers_during_swap = internals.readers().reading(file_seq);
  // Only once the index names the compressed form (a crash before this leaves a file recovery
  // removes); readers that hold a map of it keep reading it.
  BRELAY_TRY(files.remove(file_seq));
  step(options, "swapped");
  return std::optional<CompressionReport>(std::move(report));
}

Result<std::vector<CompressionReport>> Compressor::compress_due(BinlogStore& store,
                                                                std::int64_t written_before,
                                                                const CompressionOptions& options) {
  BRELAY_ASSIGN_OR_RETURN(std::vector<std::uint32_t> due, due_files(store, written_before));
  std::vector<CompressionReport> reports;
  std::optional<Error> first_error;
  for (std::uint32_t seq : due) {
    if (stopped(options)) break;
    auto report = compress_file(store, seq, options);
    if (!report) {
      // A file that fails stays as it was and does not hold up the later ones.
      if (!first_error) first_error = std::move(report).error();
      continue;
    }
    if (*report) reports.push_back(std::move(**report));
  }
  if (first_error) return std::move(*first_error);
  return reports;
}

}  // namespace brelay::storage
