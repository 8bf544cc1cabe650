#include "storage/store_internals.h"

#include <sys/statvfs.h>

#include <utility>

namespace brelay::storage {

StoreInternals::StoreInternals(std::string directory, SyncMode sync, LmdbEnv env, StoreDatabases dbs,
                               std::unique_ptr<EventFiles> event_files,
                               std::shared_ptr<const crypto::MasterKeys> master_keys)
    : directory_(std::move(directory)),
      sync_(sync),
      env_(std::move(env)),
      dbs_(dbs),
      event_files_(std::move(event_files)),
      ciphers_(std::make_unique<FileCiphers>(directory_, std::move(master_keys))) {}

void StoreInternals::publish(std::optional<ResumePoint> point) {
  std::lock_guard lock(published_mutex_);
  limit_ = point ? DurableLimit{true, point->file_seq, point->position} : DurableLimit{};
  published_ = std::move(point);
}

std::optional<ResumePoint> StoreInternals::durable_end() const {
  std::lock_guard lock(published_mutex_);
  return published_;
}

DurableLimit StoreInternals::durable_limit() const {
  std::lock_guard lock(published_mutex_);
  return limit_;
}

Status StoreInternals::sync_after_write() const {
  if (sync_ == SyncMode::kNone) return {};
  return env_.sync(true);
}

std::uint64_t StoreInternals::filesystem_free_bytes() const {
  struct statvfs fs {};
  if (statvfs(directory_.c_str(), &fs) != 0) return 0;
  return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
}

Result<FileInfo> plain_file_info(const StoreInternals& store, std::uint32_t file_seq,
                                 const FileRecordView& record) {
  BRELAY_ASSIGN_OR_RETURN(std::optional<FileCipher> cipher, store.ciphers().of(file_seq, record));
  return decode_file_info(file_seq, record, cipher ? &*cipher : nullptr);
}

}  // namespace brelay::storage
