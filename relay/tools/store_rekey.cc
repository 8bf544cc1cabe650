#include "relay/tools/store_rekey.h"

#include "relay/core/config_to_layers.h"
#include "storage/binlog_store.h"

namespace brelay::relay {

Result<RekeyReport> rekey_store(const StorageConfig& storage) {
  if (storage.encryption_key_file.empty())
    return make_error("rekey needs [storage] encryption_key_file: the key file with the new master key id");
  BRELAY_ASSIGN_OR_RETURN(storage::StoreOptions options, store_options(storage));
  auto store = storage::BinlogStore::open(storage.data_dir, options);
  if (!store) {
    return std::move(store).error().with_context(fmt::format(
        "opening the store in {} (stop the relay first: rekey needs the store to itself)", storage.data_dir));
  }
  RekeyReport report;
  BRELAY_ASSIGN_OR_RETURN(report.rewrapped, (*store)->rewrap_data_keys());
  BRELAY_ASSIGN_OR_RETURN(storage::BinlogStore::EncryptionSummary summary, (*store)->encryption_summary());
  report.encrypted_files = summary.encrypted_files;
  report.plain_files = summary.plain_files;
  report.master_id = summary.current_master_id;
  return report;
}

}  // namespace brelay::relay
