// `binlog-relay rekey` (issue 17): after a new master key id is appended to the encryption key file,
// rewraps every encrypted stored file's data key under it, offline (the store's writer lock is
// taken, so the relay must be stopped), in one LMDB transaction; event bytes are not rewritten.
// The old key may then be removed from the key file.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.h"
#include "relay/core/config.h"

namespace brelay::relay {

struct RekeyReport {
  std::size_t rewrapped = 0;        // data keys wrapped anew under master_id
  std::size_t encrypted_files = 0;  // encrypted files in the store
  std::size_t plain_files = 0;      // files stored before encryption was configured (left plain)
  std::uint32_t master_id = 0;      // the key file's current (highest) id
};

Result<RekeyReport> rekey_store(const StorageConfig& storage);

}  // namespace brelay::relay
