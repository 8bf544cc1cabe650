#include "relay/core/config_to_layers.h"

namespace brelay::relay {

Result<std::shared_ptr<const storage::crypto::MasterKeys>> load_store_keys(const std::string& key_file) {
  if (key_file.empty()) return std::shared_ptr<const storage::crypto::MasterKeys>();
  auto keys = storage::crypto::load_key_file(key_file);
  if (!keys) return std::move(keys).error().with_context("[storage] encryption_key_file");
  return std::make_shared<const storage::crypto::MasterKeys>(std::move(keys).value());
}

Result<storage::StoreOptions> store_options(const StorageConfig& storage, bool read_only) {
  storage::StoreOptions options;
  options.read_only = read_only;
  options.sync = to_storage(storage.sync);
  BRELAY_ASSIGN_OR_RETURN(options.master_keys, load_store_keys(storage.encryption_key_file));
  return options;
}

}  // namespace brelay::relay
