// The relay's configuration: one TOML file with [source], [storage], [server], [[users]], [metrics]
// and [log] (the contract in shared/docs/design.md). load_config() validates everything at start and
// reports the first problem as "<file>:<line>: <section> <key>: what is wrong and what to do".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/socket_address.h"
#include "net/tls_context.h"

namespace brelay::relay {

using Duration = std::chrono::milliseconds;

enum class SyncMode { kCommit, kNone };
enum class Role { kReplica, kAdmin };

struct SourceConfig {
  std::string host;  // the first of `hosts` when the file lists several
  std::uint16_t port = 3306;
  // Every server the relay may pull from, in the order given: `hosts = ["db1:3306", ...]`, or the
  // one `host`/`port`. Several require gtid = true (the relay follows a failover by GTID).
  std::vector<net::HostPort> hosts;
  // How long the current source must stay unreachable before the relay probes the other hosts;
  // default three heartbeat periods. Only used with several hosts.
  Duration failover_after = std::chrono::seconds(3);
  std::string user;
  std::string password;  // from `password` or `password_file`
  std::uint32_t server_id = 0;
  bool gtid = false;
  std::string start_file;  // "" = the source's oldest binlog
  std::uint64_t start_position = 4;
  net::TlsMode tls = net::TlsMode::kPreferred;
  std::string tls_ca;
  bool semi_sync = false;
  Duration heartbeat_period = std::chrono::seconds(1);
  Duration reconnect_max_delay = std::chrono::seconds(30);
};

struct StorageConfig {
  std::string data_dir = "/var/lib/binlog-relay";
  SyncMode sync = SyncMode::kCommit;
  Duration retention_time = std::chrono::hours(24 * 7);     // 0 = keep regardless of age
  std::uint64_t retention_size = std::uint64_t{100} << 30;  // bytes; 0 = unlimited
  // Never purge what a replica still needs: a connected dump's file, and what a remembered replica
  // (one that dumped from the relay) needs for replica_grace since it was last seen.
  bool protect_replicas = true;
  Duration replica_grace = std::chrono::hours(24 * 7);
  // AES-256 at rest (issue 17) when set: the key file ("<id> <64 hex>" lines, readable by the
  // service account only). Read by the commands that open the store, not here.
  std::string encryption_key_file;
  // Compression of sealed files (issue 17, storage/compression.h): "none" or "zstd"; files closed
  // and last written more than compress_after ago are rewritten as zstd frames in the background.
  std::string compression = "none";
  int compression_level = 3;                        // zstd level, 1..19
  Duration compress_after = std::chrono::hours(1);  // 0: as soon as a file is sealed
};

struct ServerConfig {
  net::HostPort listen{"0.0.0.0", 3306};
  std::uint32_t server_id = 0;
  std::string server_uuid;  // "" = generated once and kept in the store
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ciphers = std::string(net::kDefaultTlsCiphers);  // TLS 1.2 suites, an OpenSSL list
  net::TlsVersion tls_min_version = net::TlsVersion::kTls12;
  bool require_tls = false;
  // Connection limits and brute-force throttling (net/mysql_server.h).
  std::uint32_t max_connections = 151;                  // logged-in sessions (+1 kept for admins)
  std::uint32_t max_unauthenticated_connections = 64;   // sessions still in the handshake
  Duration connect_timeout = std::chrono::seconds(10);  // from connect to logged in
  // A client that takes none of the bytes waiting for it this long is disconnected (MySQL's
  // net_write_timeout, answered for @@net_write_timeout); 0 = never.
  Duration net_write_timeout = std::chrono::seconds(60);
  std::uint64_t max_connect_errors = 100;  // failed logins in a row that block an address
  // The largest statement (command packet) a client may send after logging in, as MySQL's
  // max_allowed_packet: 1 KiB to 1 GiB, a multiple of 1 KiB; bigger ones get 1153 and the
  // connection is closed. Applies at start.
  std::uint64_t max_allowed_packet = std::uint64_t{64} << 20;
  // Dumps stop just before a transaction flagged as a hazard for an Azure (GIPK) replica until an
  // admin runs RELEASE HAZARD (relay/core/target_hazards.h).
  bool hold_on_hazard = false;
};

struct UserConfig {
  std::string name;
  std::optional<std::string> password;  // from `password` or `password_file`
  std::string native_hash;              // "*" + 40 hex digits (SHA1(SHA1(pw))), as MySQL prints it
  std::string sha2_hash;                // 64 hex digits, SHA256(SHA256(pw))
  Role role = Role::kReplica;
  // Where the account may log in from: CIDR ranges, addresses and host names (resolved by the
  // downstream server, never on the loop thread); empty: anywhere.
  std::vector<std::string> hosts;
  bool require_tls = false;           // plain-connection logins are refused (ERR 1045)
  std::uint32_t max_connections = 0;  // sessions at once; 0 = no limit of its own
  bool schema = false;  // may ask schema metadata, forwarded read-only to the source (CDC readers)
  // Delayed serving: the account gets only events at least this old (relay/downstream/dump_gate.h);
  // 0 = none.
  Duration delay{0};
};

struct MetricsConfig {
  std::optional<net::HostPort> listen;  // absent: no HTTP endpoint
  std::string status_token;             // from status_token or status_token_file; "" = none
};

struct LogConfig {
  std::string level = "info";   // trace | debug | info | warn | error | critical | off
  std::string file;             // "" = stderr; SIGHUP reopens it
  std::string format = "text";  // text | json (one JSON object per line)
};

struct Config {
  std::string path;  // the file it was loaded from
  SourceConfig source;
  StorageConfig storage;
  ServerConfig server;
  std::vector<UserConfig> users;
  MetricsConfig metrics;
  LogConfig log;
  // The keys that hold a plain-text secret in the file itself ("[source] password", "[[users]]
  // password of 'repl'", "[metrics] status_token"), not in a *_file or as a hash: the file must
  // then be private (config_access.h).
  std::vector<std::string> inline_secrets;
};

// Reads and validates `path`. Relative paths inside the file (password_file, certificates, data_dir)
// are taken relative to the file's directory.
Result<Config> load_config(const std::string& path);
// The same for TOML text; `path` only names the text in messages and anchors relative paths.
Result<Config> parse_config(std::string_view text, const std::string& path);

// "1s", "250ms", "5m", "2h", "7d" (a bare "0" is zero). Errors say which units exist.
Result<Duration> parse_duration(std::string_view text);
// "0", "512KiB", "100MiB", "100GiB", "1TiB", or a plain number of bytes.
Result<std::uint64_t> parse_size(std::string_view text);
// A listening address as [server] and [metrics] write it: net::parse_host_port's "host:port" or
// "[v6]:port" with a port from 1 to 65535; errors in the configuration's wording.
Result<net::HostPort> parse_listen_address(std::string_view text);

std::string_view to_string(Role role);

// For tests (the man page test): while one lives, parse_config() and load_config() on this thread
// record every key they look up as "section.key" ("users.name" for [[users]]), whether or not the
// file has it. Not thread-safe across threads; nests.
class ConfigKeyRecorder {
 public:
  ConfigKeyRecorder();
  ~ConfigKeyRecorder();
  ConfigKeyRecorder(const ConfigKeyRecorder&) = delete;
  ConfigKeyRecorder& operator=(const ConfigKeyRecorder&) = delete;
  const std::set<std::string>& keys() const { return keys_; }
  void note(std::string key) { keys_.insert(std::move(key)); }

 private:
  std::set<std::string> keys_;
  ConfigKeyRecorder* previous_;
};

}  // namespace brelay::relay
