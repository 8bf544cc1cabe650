// The configuration's settings as the lower layers spell them ([source] tls for net/, [storage] sync
// for storage/), so that every component converts them alike. Pure functions.
#pragma once

#include "net/tls_context.h"
#include "relay/core/config.h"
#include "storage/store_types.h"

namespace brelay::relay {

inline net::TlsMode to_net(TlsMode mode) {
  switch (mode) {
    case TlsMode::kDisabled: return net::TlsMode::kDisabled;
    case TlsMode::kPreferred: return net::TlsMode::kPreferred;
    case TlsMode::kRequired: return net::TlsMode::kRequired;
    case TlsMode::kVerifyCa: return net::TlsMode::kVerifyCa;
    case TlsMode::kVerifyIdentity: return net::TlsMode::kVerifyIdentity;
  }
  return net::TlsMode::kPreferred;
}

inline storage::SyncMode to_storage(SyncMode mode) {
  return mode == SyncMode::kCommit ? storage::SyncMode::kCommit : storage::SyncMode::kNone;
}

}  // namespace brelay::relay
