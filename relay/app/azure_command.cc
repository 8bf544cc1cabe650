// `binlog-relay azure`: prints the statements that set up Azure Database for MySQL Data-in
// replication from this relay (azure_setup.h), after checking the account, TLS and coordinates.
#include <ostream>

#include "relay/app/commands.h"
#include "relay/core/config.h"
#include "relay/core/config_to_layers.h"
#include "relay/tools/azure_setup.h"
#include "storage/binlog_store.h"

namespace brelay::relay {

int run_azure(const AzureCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto config = load_config(options.config_path);
  if (!config) {
    err << "binlog-relay azure: " << config.error().message() << "\n";
    return 2;
  }
  AzureSetupOptions setup_options;
  setup_options.host = options.host;
  if (options.port != 0) setup_options.port = options.port;
  setup_options.user = options.user;
  if (!options.password.empty()) setup_options.password = options.password;
  setup_options.ca_file = options.ca_file;
  setup_options.no_tls = options.no_tls;
  if (!options.from.empty()) setup_options.from = options.from;
  setup_options.from_mydumper = options.from_mydumper;
  setup_options.gtid = options.gtid;

  auto store_options = relay::store_options(config->storage, true);
  if (!store_options) {
    err << "binlog-relay azure: " << store_options.error().message() << "\n";
    return 1;
  }
  auto store = storage::BinlogStore::open(config->storage.data_dir, *store_options);
  if (!store) {
    err << "binlog-relay azure: cannot open the store in " << config->storage.data_dir << ": "
        << store.error().message() << " (is [storage] data_dir right, and has the relay run once?)\n";
    return 1;
  }
  auto setup = prepare_azure_setup(*config, **store, setup_options);
  if (!setup) {
    err << "binlog-relay azure: " << setup.error().message() << "\n";
    return 1;
  }
  for (const std::string& note : setup->notes)
    err << "binlog-relay azure: note: " << note << "\n";
  out << setup->text;
  out.flush();
  return 0;
}

}  // namespace brelay::relay
