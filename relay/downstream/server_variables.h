// The relay's system variables, as SELECT @@name and SHOW VARIABLES answer them. Three kinds:
//  - the relay's own: server_id, server_uuid, port, hostname, read_only, max_allowed_packet, the
//    semi-sync switches (ON when the relay is a semi-sync replica of its source, [source] semi_sync:
//    then a replica that asks for semi-sync gets it; otherwise OFF, and unknown as on a mysqld
//    without the plugin when the relay presents a MySQL source) ...;
//  - the source's, as the upstream last saw them (RelayContext::source->variables), with defaults
//    derived from the stored binlog when it never did: version, version_comment, binlog_format,
//    binlog_row_image, gtid_mode, enforce_gtid_consistency, gtid_domain_id, gtid_strict_mode ...;
//  - the stored binlog's state: binlog_checksum (from the newest file's FDE), gtid_executed and
//    gtid_purged (MySQL), gtid_binlog_pos, gtid_current_pos and gtid_binlog_state (MariaDB).
// A variable the source's flavour lacks is unknown (ER_UNKNOWN_SYSTEM_VARIABLE), as on the source:
// a MySQL replica reads that as "GTID_MODE OFF" from a MariaDB source, and MariaDB replicas look
// for gtid_domain_id only on a MariaDB one. Values are computed when asked. Loop thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "relay/core/relay_context.h"
#include "relay/downstream/stored_gtid_state.h"

namespace brelay::relay::downstream {

// The version the relay greets with before it has ever seen a source (an empty store): a MySQL 8.0,
// so that clients log in (an operator asking SHOW RELAY STATUS why the relay has not reached its
// source), with a suffix no server sends, so that nothing takes it for a source's. No replica
// works with it: replica accounts are refused at login and dumps are refused until the source is
// known (unknown_source_message), and replicas retry until they meet the source's own greeting.
inline constexpr std::string_view kDefaultSourceVersion = "8.0.36-binlog-relay-no-source";

// Whether `source` is the placeholder (kDefaultSourceVersion) the relay presents before it knows one.
inline bool is_unknown_source(const SourceIdentity& source) {
  return source.version == kDefaultSourceVersion;
}
// Why a replica login or a dump is refused while the relay does not know its source.
std::string unknown_source_message();

struct SystemVariable {
  enum class Type { kText, kInteger, kBoolean };
  std::string name;   // lower case
  std::string value;  // as SHOW VARIABLES prints it (booleans "ON"/"OFF")
  Type type = Type::kText;

  // As SELECT @@name returns it: booleans as 1 or 0.
  std::string selected() const;
};

class ServerVariables {
 public:
  ServerVariables(RelayContext& context, StoredGtidState& gtids);

  // The variable named `name` (any case); nullopt when the relay (for its source's flavour) has none.
  Result<std::optional<SystemVariable>> find(std::string_view name);
  // Every variable, sorted by name.
  Result<std::vector<SystemVariable>> all();

  // The source as the relay presents it (stored identity, else derived, else the default).
  const SourceIdentity& source();
  // False while the relay presents the placeholder: no identity recorded and no stored file.
  bool source_known();
  Flavor flavor() { return source().flavor; }
  // @@version: the source's version without MariaDB's "5.5.5-" prefix.
  std::string version();
  // Whether the relay offers semi-sync to its replicas ([source] semi_sync).
  bool semi_sync_enabled() const;
  // The checksum algorithm of the stored binlog (its newest file's FDE, else the source's).
  binlog::ChecksumAlgorithm binlog_checksum();

 private:
  struct Entry;
  Result<SystemVariable> evaluate(const Entry& entry);
  std::optional<std::string> source_variable(std::string_view name);

  RelayContext& context_;
  StoredGtidState& gtids_;
  std::optional<SourceIdentity> derived_source_;  // when the context has none
};

// The identity the relay presents when no upstream ever recorded one: derived from the newest
// stored file's FDE, or the placeholder MySQL 8.0 (kDefaultSourceVersion) for an empty store.
SourceIdentity presented_source(const std::optional<SourceIdentity>& recorded, storage::BinlogStore& store);

}  // namespace brelay::relay::downstream
