// The configuration's settings as the lower layers spell them ([storage] sync for storage/), so that
// every component converts them alike. Pure functions. ([source] tls is net::TlsMode already.)
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "relay/core/config.h"
#include "storage/at_rest_crypto.h"
#include "storage/binlog_store.h"
#include "storage/store_types.h"

namespace brelay::relay {

inline storage::SyncMode to_storage(SyncMode mode) {
  return mode == SyncMode::kCommit ? storage::SyncMode::kCommit : storage::SyncMode::kNone;
}

// The master keys of an encryption key file (storage::crypto::load_key_file: refused unless only
// the service account can read it); null for an empty path (no encryption).
Result<std::shared_ptr<const storage::crypto::MasterKeys>> load_store_keys(const std::string& key_file);

// StoreOptions for [storage]: its sync mode and the keys of encryption_key_file.
Result<storage::StoreOptions> store_options(const StorageConfig& storage, bool read_only = false);

}  // namespace brelay::relay
