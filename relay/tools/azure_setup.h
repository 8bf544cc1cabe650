// `binlog-relay azure`: the statements that set up Azure Database for MySQL flexible server
// Data-in replication from this relay, ready to paste. Azure's replica is configured with stored
// procedures, not CHANGE MASTER:
//   SET @ca = '<the relay's CA, PEM>';            ('' for no TLS)
//   CALL mysql.az_replication_change_master(host, user, password, port, log_file, log_pos, @ca);
//   or, by GTID (the only mode of HA-enabled servers), after
//   `az mysql flexible-server gtid reset --gtid-set <what the target already has>`:
//   CALL mysql.az_replication_change_master_with_gtid(host, user, password, port, @ca);
//   CALL mysql.az_replication_start;
// Before printing it checks what it can (the account is a [[users]] entry with role replica, TLS
// is offered when a CA is given and the CA verifies the relay's certificate (azure_tls.h), the
// coordinates are stored and not purged) and otherwise says what to fix. Pure functions but
// prepare_azure_setup(), which reads files and the store; any thread but a libuv loop's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "relay/core/config.h"
#include "storage/binlog_store.h"

namespace brelay::relay {

// The coordinates of a mydumper dump, from its `metadata` file: the source's SHOW MASTER STATUS
// when the snapshot was taken.
struct MydumperCoordinates {
  std::string file;
  std::uint64_t position = 0;
  std::string gtid;  // as the server printed @@gtid_executed / @@gtid_binlog_pos; may be empty
};

// Parses a `metadata` file. mydumper 0.10 to 0.13 write
//   Started dump at: ...\nSHOW MASTER STATUS:\n\tLog: mysql-bin.000001\n\tPos: 766\n\tGTID:0-1-3\n...
// (a MySQL GTID set may continue on the following lines after a comma); later versions an INI
// section [source] or [master] with File, Position and Executed_Gtid_Set. A SHOW SLAVE STATUS
// section (a dump taken on a replica) is not the dumped server's own binlog and is skipped.
Result<MydumperCoordinates> parse_mydumper_metadata(std::string_view text);

// A MySQL string literal for `text`: in single quotes, with ' doubled and \, NUL, CR and Ctrl-Z
// backslash-escaped; newlines stay as they are (a PEM stays readable).
std::string sql_string_literal(std::string_view text);

// The PEM certificates of a file (the blocks between -----BEGIN CERTIFICATE----- and -----END
// CERTIFICATE-----, each ending with a newline); anything else in it, a private key in particular,
// is left out. Errors: unreadable, or no certificate in it.
Result<std::string> read_certificates_pem(const std::string& path);

// The [[users]] entry `user`, which must exist with role replica. Errors say what to change.
Result<const UserConfig*> find_replica_account(const Config& config, std::string_view user);

// True when `password` is the account's (its plain password or either hash).
bool password_matches(const UserConfig& account, std::string_view password);

struct AzureSetupOptions {
  std::string host;                     // the relay's name or address as Azure resolves it (required)
  std::optional<std::uint16_t> port;    // default: [server] listen's port
  std::string user;                     // a [[users]] account with role replica
  std::optional<std::string> password;  // nullopt: the placeholder '<password>' is printed
  std::string ca_file;                  // empty: [server] tls_cert's chain
  bool no_tls = false;                  // master_ssl_ca '' (the target connects without TLS)
  std::optional<std::string> from;      // "FILE:POS"
  std::string from_mydumper;            // a mydumper dump directory (its `metadata` file)
  bool gtid = false;                    // the _with_gtid procedure and the gtid reset value
};

// What the statements say, before they are rendered.
struct AzureSetupPlan {
  std::string host;
  std::uint16_t port = 3306;
  std::string user;
  std::optional<std::string> password;  // nullopt: placeholder
  std::string ca_pem;                   // "" = no TLS
  bool gtid = false;
  std::string file;  // file/position setups
  std::uint64_t position = 0;
  std::string gtid_set;  // GTID setups: what the target must have executed (single line)
  std::string origin;    // where the coordinates come from, for the header comment
};

inline constexpr std::string_view kPasswordPlaceholder = "<password>";

// The statements, ready to paste (comment lines start with '#' or '--').
std::string render_azure_setup(const AzureSetupPlan& plan);

struct AzureSetup {
  std::string text;                // render_azure_setup()
  std::vector<std::string> notes;  // what the operator must know or do before pasting
};

// Checks the account, TLS and the coordinates against `config` and `store`, and renders the
// statements. Errors say what failed and what to fix.
Result<AzureSetup> prepare_azure_setup(const Config& config, storage::BinlogStore& store,
                                       const AzureSetupOptions& options);

}  // namespace brelay::relay
