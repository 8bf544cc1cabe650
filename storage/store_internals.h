// StoreInternals: the parts of one BinlogStore that the rest of storage/ works on, and nothing
// more: the LMDB environment and its databases, the event files, the reader registry, the
// published durable end, the one-writer flag and the purge counter. BinlogStore owns it and hands
// it out through BinlogStore::internals(); StoreWriter, StoreReader, Retention and recovery are its
// only users.
//
// Storage-internal: code outside storage/ uses BinlogStore's public interface and must not include
// this header.
//
// Threads: every method may be called from any thread. publish() is the writer's (and recovery's)
// alone, and only after the commit that holds the published point is on disk (or committed, with
// its bytes and the commit record that recovery indexes it from on disk): nothing may be
// visible to readers before that.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/event_files.h"
#include "storage/file_ciphers.h"
#include "storage/lmdb_env.h"
#include "storage/reader_registry.h"
#include "storage/store_databases.h"
#include "storage/store_types.h"

namespace brelay::storage {

// The published durable end as readers test it: no strings, no allocation.
struct DurableLimit {
  bool any = false;
  std::uint32_t file_seq = 0;
  std::uint64_t position = 0;
};

class StoreInternals {
 public:
  StoreInternals(std::string directory, SyncMode sync, LmdbEnv env, StoreDatabases dbs,
                 std::unique_ptr<EventFiles> event_files,
                 std::shared_ptr<const crypto::MasterKeys> master_keys = nullptr);
  StoreInternals(const StoreInternals&) = delete;
  StoreInternals& operator=(const StoreInternals&) = delete;

  const std::string& directory() const { return directory_; }
  SyncMode sync_mode() const { return sync_; }
  const LmdbEnv& env() const { return env_; }
  const StoreDatabases& dbs() const { return dbs_; }
  EventFiles& event_files() const { return *event_files_; }
  FileCiphers& ciphers() const { return *ciphers_; }
  ReaderRegistry& readers() { return readers_; }
  const ReaderRegistry& readers() const { return readers_; }

  // Makes `point` the durable end readers see. Called by the writer (and recovery) only after the
  // commit that holds it is on disk.
  void publish(std::optional<ResumePoint> point);
  std::optional<ResumePoint> durable_end() const;
  DurableLimit durable_limit() const;

  // Forces a sync when the environment does not sync its meta page on commit.
  Status sync_after_write() const;
  // Free bytes for unprivileged users on the data directory's filesystem (0 when unknown).
  std::uint64_t filesystem_free_bytes() const;

  // At most one StoreWriter at a time: claim_writer() is false while another holds the store.
  bool claim_writer() { return !has_writer_.exchange(true); }
  void release_writer() { has_writer_ = false; }

  // Bumped after each purge: the writer uses it to know that pages were freed.
  void count_purge() { purges_.fetch_add(1); }
  std::uint64_t purges() const { return purges_.load(); }

 private:
  const std::string directory_;
  const SyncMode sync_;
  LmdbEnv env_;
  const StoreDatabases dbs_;
  const std::unique_ptr<EventFiles> event_files_;
  const std::unique_ptr<FileCiphers> ciphers_;
  ReaderRegistry readers_;
  std::atomic<std::uint64_t> purges_{0};
  std::atomic<bool> has_writer_{false};

  mutable std::mutex published_mutex_;
  std::optional<ResumePoint> published_;  // guarded by published_mutex_
  DurableLimit limit_;                    // guarded by published_mutex_
};

// Appends `next` to `pieces`, joined to the last piece when it begins where that one ends: one
// piece per stretch of contiguous memory, for a gathering write or a MAC over them. Returns
// whether it was joined.
inline bool append_joined(std::vector<ByteView>& pieces, ByteView next) {
  if (!pieces.empty() && pieces.back().data() + pieces.back().size() == next.data()) {
    pieces.back() = ByteView(pieces.back().data(), pieces.back().size() + next.size());
    return true;
  }
  pieces.push_back(next);
  return false;
}

// The plain FileInfo of a stored record (decode_file_info with the file's cipher, if encrypted).
Result<FileInfo> plain_file_info(const StoreInternals& store, std::uint32_t file_seq,
                                 const FileRecordView& record);

}  // namespace brelay::storage
