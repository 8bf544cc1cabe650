// The store options of the storage crash test's child and of the test that reopens its store: plain,
// or encrypted under one fixed master key (id 1) that both sides know.
#pragma once

#include <memory>
#include <vector>

#include "storage/binlog_store.h"

namespace brelay::testing {

inline storage::StoreOptions crash_store_options(bool encrypted, bool read_only = false) {
  storage::StoreOptions options;
  options.read_only = read_only;
  if (encrypted) {
    storage::crypto::MasterKey key;
    key.id = 1;
    key.key.fill(0xc5);
    options.master_keys =
        std::make_shared<const storage::crypto::MasterKeys>(std::vector<storage::crypto::MasterKey>{key});
  }
  return options;
}

}  // namespace brelay::testing
