// The configuration's settings as the lower layers spell them ([storage] sync for storage/), so that
// every component converts them alike. Pure functions. ([source] tls is net::TlsMode already.)
#pragma once

#include "relay/core/config.h"
#include "storage/store_types.h"

namespace brelay::relay {

inline storage::SyncMode to_storage(SyncMode mode) {
  return mode == SyncMode::kCommit ? storage::SyncMode::kCommit : storage::SyncMode::kNone;
}

}  // namespace brelay::relay
