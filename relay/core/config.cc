#include "relay/core/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "net/ip_range.h"

namespace brelay::relay {
namespace {

constexpr std::uint32_t kMaxServerId = 4294967295u;

thread_local ConfigKeyRecorder* active_key_recorder = nullptr;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : std::isxdigit(static_cast<unsigned char>(s[i])) == 0) return false;
  }
  return true;
}

// Reads the keys of one TOML table, remembering which were used so that the rest can be reported as
// unknown, and formats every error as "<file>:<line>: [<section>] <key>: <message>".
class SectionReader {
 public:
  SectionReader(const toml::table& table, std::string section, const std::string& path,
                const std::filesystem::path& base_dir)
      : table_(table), section_(std::move(section)), path_(path), base_dir_(base_dir) {}

  bool has(std::string_view key) const {
    if (active_key_recorder != nullptr) active_key_recorder->note(section_ + "." + std::string(key));
    return table_.contains(key);
  }

  Error error(std::string_view key, std::string_view message) const {
    const toml::node* node = table_.get(key);
    const auto line = node != nullptr ? node->source().begin.line : table_.source().begin.line;
    if (key.empty()) return make_error("{}:{}: [{}]: {}", path_, line, section_, message);
    return make_error("{}:{}: [{}] {}: {}", path_, line, section_, key, message);
  }

  Status get(std::string_view key, std::string& out) {
    const toml::node* node = use(key);
    if (node == nullptr) return {};
    if (!node->is_string()) return error(key, "must be a string (in double quotes)");
    out = **node->as_string();
    return {};
  }

  Status get(std::string_view key, bool& out) {
    const toml::node* node = use(key);
    if (node == nullptr) return {};
    if (!node->is_boolean()) return error(key, "must be true or false");
    out = **node->as_boolean();
    return {};
  }

  // An array of strings (["a", "b"]); `what` names one entry in messages.
  Status get(std::string_view key, std::vector<std::string>& out) {
    const toml::node* node = use(key);
    if (node == nullptr) return {};
    const toml::array* array = node->as_array();
    if (array == nullptr) return error(key, "must be an array of strings, e.g. [\"10.0.0.0/8\"]");
    out.clear();
    for (const toml::node& element : *array) {
      if (!element.is_string()) return error(key, "must be an array of strings, e.g. [\"10.0.0.0/8\"]");
      out.push_back(**element.as_string());
    }
    return {};
  }

  Status get_uint(std::string_view key, std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
    const toml::node* node = use(key);
    if (node == nullptr) return {};
    if (!node->is_integer()) return error(key, fmt::format("must be a whole number from {} to {}", min, max));
    const std::int64_t v = **node->as_integer();
    if (v < 0 || static_cast<std::uint64_t>(v) < min || static_cast<std::uint64_t>(v) > max) {
      return error(key, fmt::format("{} is out of range: use a whole number from {} to {}", v, min, max));
    }
    out = static_cast<std::uint64_t>(v);
    return {};
  }

  Status get(std::string_view key, Duration& out) {
    const toml::node* node = use(key);
    if (node == nullptr) return {};
    if (node->is_integer() && **node->as_integer() == 0) {
      out = Duration(0);
      return {};
    }
    if (!node->is_string())
      return error(key, "must be a duration string such as \"1s\", \"500ms\" or \"7d\"");
    auto parsed = parse_duration(**node->as_string());
    if (!parsed) return error(key, parsed.error().message());
    out = *parsed;
    return {};
  }

  Status get_size(std::string_view key, std::uint64_t& out) {
    const toml::node* node = use(key);
    if (node == nullptr) return {};
    if (node->is_integer() && **node->as_integer() >= 0) {
      out = static_cast<std::uint64_t>(**node->as_integer());
      return {};
    }
    if (!node->is_string())
      return error(key, "must be a size string such as \"100GiB\", \"512MiB\" or \"0\"");
    auto parsed = parse_size(**node->as_string());
    if (!parsed) return error(key, parsed.error().message());
    out = *parsed;
    return {};
  }

  // A path relative to the configuration file's directory.
  Status get_path(std::string_view key, std::string& out) {
    BRELAY_TRY(get(key, out));
    if (!out.empty() && std::filesystem::path(out).is_relative()) out = (base_dir_ / out).lexically_normal();
    return {};
  }

  // The contents of a secret file, without a trailing newline.
  Status read_secret_file(std::string_view key, std::string& out) {
    std::string file;
    BRELAY_TRY(get_path(key, file));
    std::ifstream in(file, std::ios::binary);
    if (!in) return error(key, fmt::format("cannot read {}: {}", file, std::strerror(errno)));
    std::ostringstream contents;
    contents << in.rdbuf();
    out = contents.str();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
      out.pop_back();
    return {};
  }

  // Checks that a configured PEM file can be read and looks like PEM.
  Status check_pem_file(std::string_view key, const std::string& file) const {
    std::ifstream in(file, std::ios::binary);
    if (!in) return error(key, fmt::format("cannot read {}: {}", file, std::strerror(errno)));
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (head.find("-----BEGIN ") == std::string::npos) {
      return error(key, fmt::format("{} is not a PEM file (no -----BEGIN line)", file));
    }
    return {};
  }

  // Reports the first key that was never read.
  Status finish() const {
    for (const auto& [key, node] : table_) {
      if (!used_.contains(std::string(key.str()))) {
        return make_error("{}:{}: [{}] unknown key '{}'; check its spelling against the documented keys",
                          path_, node.source().begin.line, section_, key.str());
      }
    }
    return {};
  }

 private:
  const toml::node* use(std::string_view key) {
    if (active_key_recorder != nullptr) active_key_recorder->note(section_ + "." + std::string(key));
    used_.insert(std::string(key));
    return table_.get(key);
  }

  const toml::table& table_;
  std::string section_;
  const std::string& path_;
  std::filesystem::path base_dir_;
  std::set<std::string> used_;
};

// net's names, in any letter case.
Result<net::TlsMode> parse_tls_setting(std::string_view text) {
  auto mode = net::parse_tls_mode(lower(text));
  if (!mode) {
    return make_error(
        "'{}' is not a TLS mode: use disabled, preferred, required, verify_ca or verify_identity", text);
  }
  return mode;
}

// `hosts = ["db1:3306", "db2:3306"]`, or `host` and `port`; not both.
Status read_source_hosts(SectionReader& r, SourceConfig& source) {
  std::vector<std::string> hosts;
  BRELAY_TRY(r.get("hosts", hosts));
  const bool has_hosts = r.has("hosts");
  if (has_hosts && (r.has("host") || r.has("port")))
    return r.error("hosts", "give either hosts = [\"db1:3306\", ...] or host and port, not both");
  if (!has_hosts) {
    BRELAY_TRY(r.get("host", source.host));
    if (source.host.empty())
      return r.error("host", "is required: the source server's host name or address (or hosts = [...])");
    std::uint64_t port = source.port;
    BRELAY_TRY(r.get_uint("port", port, 1, 65535));
    source.port = static_cast<std::uint16_t>(port);
    source.hosts = {net::HostPort{source.host, source.port}};
    return {};
  }
  if (hosts.empty()) return r.error("hosts", "is empty: list at least one \"host:port\"");
  source.hosts.clear();
  for (const std::string& entry : hosts) {
    auto parsed = net::parse_host_port(entry);
    if (!parsed || parsed->port == 0) {
      return r.error("hosts",
                     fmt::format("'{}' is not a source address: write \"host:port\" with a port from "
                                 "1 to 65535 (IPv6 as \"[::1]:3306\")",
                                 entry));
    }
    for (const net::HostPort& seen : source.hosts) {
      if (seen.host == parsed->host && seen.port == parsed->port)
        return r.error("hosts", fmt::format("'{}' is listed twice", entry));
    }
    source.hosts.push_back(*parsed);
  }
  source.host = source.hosts.front().host;
  source.port = source.hosts.front().port;
  return {};
}

Status read_source(SectionReader& r, SourceConfig& source) {
  BRELAY_TRY(read_source_hosts(r, source));
  BRELAY_TRY(r.get("user", source.user));
  if (source.user.empty()) return r.error("user", "is required: the replication account on the source");
  if (r.has("password") && r.has("password_file")) {
    return r.error("password_file", "give either password or password_file, not both");
  }
  if (r.has("password")) {
    BRELAY_TRY(r.get("password", source.password));
  } else if (r.has("password_file")) {
    BRELAY_TRY(r.read_secret_file("password_file", source.password));
  } else {
    return r.error("", "password is missing: set password = \"...\" or password_file = \"/path\"");
  }
  std::uint64_t server_id = 0;
  if (!r.has("server_id")) {
    return r.error("", "server_id is missing: the id the relay registers with at the source (unique there)");
  }
  BRELAY_TRY(r.get_uint("server_id", server_id, 1, kMaxServerId));
  source.server_id = static_cast<std::uint32_t>(server_id);
  BRELAY_TRY(r.get("gtid", source.gtid));
  BRELAY_TRY(r.get("start_file", source.start_file));
  BRELAY_TRY(r.get_uint("start_position", source.start_position, 4, std::uint64_t{1} << 62));
  std::string tls = "preferred";
  BRELAY_TRY(r.get("tls", tls));
  auto mode = parse_tls_setting(tls);
  if (!mode) return r.error("tls", mode.error().message());
  source.tls = *mode;
  BRELAY_TRY(r.get_path("tls_ca", source.tls_ca));
  if ((source.tls == net::TlsMode::kVerifyCa || source.tls == net::TlsMode::kVerifyIdentity) &&
      source.tls_ca.empty()) {
    return r.error("tls_ca",
                   fmt::format("is required with tls = \"{}\": the CA bundle that signed the source's "
                               "certificate",
                               tls));
  }
  if (!source.tls_ca.empty()) BRELAY_TRY(r.check_pem_file("tls_ca", source.tls_ca));
  BRELAY_TRY(r.get("semi_sync", source.semi_sync));
  BRELAY_TRY(r.get("heartbeat_period", source.heartbeat_period));
  if (source.heartbeat_period > std::chrono::seconds(4294967)) {
    return r.error("heartbeat_period", "is longer than the protocol allows (4294967s)");
  }
  BRELAY_TRY(r.get("reconnect_max_delay", source.reconnect_max_delay));
  if (source.reconnect_max_delay < std::chrono::milliseconds(100)) {
    return r.error("reconnect_max_delay", "must be at least 100ms");
  }
  source.failover_after = source.heartbeat_period * 3;
  BRELAY_TRY(r.get("failover_after", source.failover_after));
  if (source.failover_after < std::chrono::milliseconds(100))
    return r.error("failover_after", "must be at least 100ms");
  if (source.hosts.size() > 1 && !source.gtid) {
    return r.error("hosts",
                   "lists several servers, which needs gtid = true: the relay follows a failover "
                   "by GTID (list one server, or set gtid = true)");
  }
  return r.finish();
}

Status read_storage(SectionReader& r, StorageConfig& storage) {
  BRELAY_TRY(r.get_path("data_dir", storage.data_dir));
  if (storage.data_dir.empty()) return r.error("data_dir", "must not be empty");
  std::string sync = "commit";
  BRELAY_TRY(r.get("sync", sync));
  if (sync == "commit") {
    storage.sync = SyncMode::kCommit;
  } else if (sync == "none") {
    storage.sync = SyncMode::kNone;
  } else {
    return r.error("sync", fmt::format("'{}' is not a sync mode: use \"commit\" (fsync before events become "
                                       "visible) or \"none\" (tests only: a crash can lose data)",
                                       sync));
  }
  BRELAY_TRY(r.get("retention_time", storage.retention_time));
  BRELAY_TRY(r.get_size("retention_size", storage.retention_size));
  BRELAY_TRY(r.get("protect_replicas", storage.protect_replicas));
  BRELAY_TRY(r.get("replica_grace", storage.replica_grace));
  if (storage.replica_grace < std::chrono::seconds(1))
    return r.error("replica_grace", "must be at least 1s (how long a disconnected replica's files are kept)");
  BRELAY_TRY(r.get_path("encryption_key_file", storage.encryption_key_file));
  BRELAY_TRY(r.get("compression", storage.compression));
  if (storage.compression != "none" && storage.compression != "zstd") {
    return r.error("compression", fmt::format("'{}' is not a compression: use \"zstd\" (sealed files are "
                                              "rewritten as zstd frames) or \"none\"",
                                              storage.compression));
  }
  std::uint64_t level = static_cast<std::uint64_t>(storage.compression_level);
  BRELAY_TRY(r.get_uint("compression_level", level, 1, 19));
  storage.compression_level = static_cast<int>(level);
  BRELAY_TRY(r.get("compress_after", storage.compress_after));
  return r.finish();
}

Status read_server_limits(SectionReader& r, ServerConfig& server) {
  std::uint64_t value = server.max_connections;
  BRELAY_TRY(r.get_uint("max_connections", value, 1, 100'000));
  server.max_connections = static_cast<std::uint32_t>(value);
  value = server.max_unauthenticated_connections;
  BRELAY_TRY(r.get_uint("max_unauthenticated_connections", value, 1, 100'000));
  server.max_unauthenticated_connections = static_cast<std::uint32_t>(value);
  BRELAY_TRY(r.get("connect_timeout", server.connect_timeout));
  if (server.connect_timeout < std::chrono::seconds(1) || server.connect_timeout > std::chrono::hours(1))
    return r.error("connect_timeout", "must be from 1s to 1h (the time a client has to log in)");
  BRELAY_TRY(r.get("net_write_timeout", server.net_write_timeout));
  if (server.net_write_timeout.count() != 0 && (server.net_write_timeout < std::chrono::seconds(1) ||
                                                server.net_write_timeout > std::chrono::hours(24)))
    return r.error("net_write_timeout",
                   "must be 0 (never) or from 1s to 24h (the time a client may read nothing)");
  BRELAY_TRY(r.get_uint("max_connect_errors", server.max_connect_errors, 1, kMaxServerId));
  return {};
}

// A [[users]] hosts entry: "%" (anywhere), an address or CIDR range, or a host name.
Status check_user_host(SectionReader& r, const UserConfig& user, const std::string& entry) {
  if (entry == "%") return {};
  const bool numeric = std::all_of(entry.begin(), entry.end(), [](unsigned char c) {
    return std::isdigit(c) != 0 || c == '.' || c == '/';
  });
  if (numeric || entry.find(':') != std::string::npos || entry.find('/') != std::string::npos) {
    auto range = net::IpRange::parse(entry);
    if (!range) {
      return r.error("hosts", fmt::format("user '{}': entry '{}' is not an address or CIDR range: {}",
                                          user.name, entry, range.error().message()));
    }
    return {};
  }
  const bool name = !entry.empty() && entry.size() <= 253 && entry.front() != '.' && entry.front() != '-' &&
                    entry.find("..") == std::string::npos &&
                    std::all_of(entry.begin(), entry.end(),
                                [](unsigned char c) { return std::isalnum(c) != 0 || c == '-' || c == '.'; });
  if (!name) {
    return r.error("hosts", fmt::format("user '{}': entry '{}' is neither an address, a CIDR range "
                                        "(\"10.0.0.0/8\", \"2001:db8::/32\") nor a host name",
                                        user.name, entry));
  }
  return {};
}

Status read_user_limits(SectionReader& r, UserConfig& user, const ServerConfig& server) {
  BRELAY_TRY(r.get("hosts", user.hosts));
  for (const std::string& entry : user.hosts)
    BRELAY_TRY(check_user_host(r, user, entry));
  BRELAY_TRY(r.get("require_tls", user.require_tls));
  if (user.require_tls && server.tls_cert.empty()) {
    return r.error("require_tls", fmt::format("user '{}': needs [server] tls_cert and tls_key: without a "
                                              "certificate the account could never log in",
                                              user.name));
  }
  std::uint64_t max_connections = 0;
  BRELAY_TRY(r.get_uint("max_connections", max_connections, 0, 100'000));
  user.max_connections = static_cast<std::uint32_t>(max_connections);
  return {};
}

Status read_server(SectionReader& r, ServerConfig& server) {
  std::string listen = server.listen.to_string();
  BRELAY_TRY(r.get("listen", listen));
  auto parsed = parse_listen_address(listen);
  if (!parsed) return r.error("listen", parsed.error().message());
  server.listen = *parsed;
  std::uint64_t server_id = 0;
  if (!r.has("server_id")) {
    return r.error("",
                   "server_id is missing: the id the relay answers for @@server_id (must differ from every "
                   "replica's and from [source] server_id)");
  }
  BRELAY_TRY(r.get_uint("server_id", server_id, 1, kMaxServerId));
  server.server_id = static_cast<std::uint32_t>(server_id);
  BRELAY_TRY(r.get("server_uuid", server.server_uuid));
  if (!server.server_uuid.empty() && !is_uuid(server.server_uuid)) {
    return r.error("server_uuid",
                   "must be a UUID like 3e11fa47-71ca-11e1-9e33-c80aa9429562, or \"\" to generate one");
  }
  server.server_uuid = lower(server.server_uuid);
  BRELAY_TRY(r.get_size("max_allowed_packet", server.max_allowed_packet));
  if (server.max_allowed_packet < 1024 || server.max_allowed_packet > (std::uint64_t{1} << 30)) {
    return r.error(
        "max_allowed_packet",
        fmt::format("{} bytes is out of range: use 1KiB to 1GiB, as MySQL allows (default \"64MiB\")",
                    server.max_allowed_packet));
  }
  server.max_allowed_packet -= server.max_allowed_packet % 1024;  // MySQL rounds down to whole KiB
  BRELAY_TRY(r.get_path("tls_cert", server.tls_cert));
  BRELAY_TRY(r.get_path("tls_key", server.tls_key));
  if (server.tls_cert.empty() != server.tls_key.empty()) {
    return r.error(server.tls_cert.empty() ? "tls_key" : "tls_cert",
                   "tls_cert and tls_key go together: set both (PEM chain and its private key) or neither");
  }
  if (!server.tls_cert.empty()) {
    BRELAY_TRY(r.check_pem_file("tls_cert", server.tls_cert));
    BRELAY_TRY(r.check_pem_file("tls_key", server.tls_key));
  }
  BRELAY_TRY(r.get("tls_ciphers", server.tls_ciphers));
  if (auto ciphers = net::check_tls_ciphers(server.tls_ciphers); !ciphers)
    return r.error("tls_ciphers", ciphers.error().message());
  std::string min_version(net::tls_version_name(server.tls_min_version));
  BRELAY_TRY(r.get("tls_min_version", min_version));
  auto version = net::parse_tls_version(min_version);
  if (!version) return r.error("tls_min_version", version.error().message());
  server.tls_min_version = *version;
  BRELAY_TRY(r.get("require_tls", server.require_tls));
  if (server.require_tls && server.tls_cert.empty()) {
    return r.error("require_tls",
                   "needs tls_cert and tls_key: without a certificate no session could connect");
  }
  BRELAY_TRY(read_server_limits(r, server));
  BRELAY_TRY(r.get("hold_on_hazard", server.hold_on_hazard));
  return r.finish();
}

Status read_user(SectionReader& r, UserConfig& user, const ServerConfig& server) {
  BRELAY_TRY(r.get("name", user.name));
  if (user.name.empty()) return r.error("name", "is required: the account name replicas log in with");
  if (user.name.size() > 80) return r.error("name", "is longer than 80 characters");
  const int credentials = int{r.has("password")} + int{r.has("password_file")};
  if (credentials > 1) return r.error("password_file", "give either password or password_file, not both");
  if (r.has("password")) {
    std::string password;
    BRELAY_TRY(r.get("password", password));
    user.password = password;
  } else if (r.has("password_file")) {
    std::string password;
    BRELAY_TRY(r.read_secret_file("password_file", password));
    user.password = password;
  }
  BRELAY_TRY(r.get("native_hash", user.native_hash));
  if (!user.native_hash.empty()) {
    if (user.native_hash.size() != 41 || user.native_hash[0] != '*' || !is_hex(user.native_hash.substr(1))) {
      return r.error("native_hash",
                     "must be '*' followed by 40 hex digits, as `binlog-relay hash-password` prints it");
    }
    user.native_hash = "*" + fmt::format("{}", lower(user.native_hash.substr(1)));
  }
  BRELAY_TRY(r.get("sha2_hash", user.sha2_hash));
  if (!user.sha2_hash.empty()) {
    if (user.sha2_hash.size() != 64 || !is_hex(user.sha2_hash)) {
      return r.error("sha2_hash",
                     "must be 64 hex digits (SHA256(SHA256(password))), as `binlog-relay "
                     "hash-password` prints it");
    }
    user.sha2_hash = lower(user.sha2_hash);
  }
  if (user.password && (!user.native_hash.empty() || !user.sha2_hash.empty())) {
    return r.error("", fmt::format("user '{}': give a password or hashes, not both", user.name));
  }
  if (!user.password && user.native_hash.empty() && user.sha2_hash.empty()) {
    return r.error("", fmt::format("user '{}' has no password: set password, password_file, native_hash or "
                                   "sha2_hash",
                                   user.name));
  }
  std::string role = "replica";
  BRELAY_TRY(r.get("role", role));
  if (role == "replica") {
    user.role = Role::kReplica;
  } else if (role == "admin") {
    user.role = Role::kAdmin;
  } else {
    return r.error("role",
                   fmt::format("'{}' is not a role: use \"replica\" (dump and read status) or \"admin\" "
                               "(also PURGE and relay control)",
                               role));
  }
  BRELAY_TRY(read_user_limits(r, user, server));
  BRELAY_TRY(r.get("schema", user.schema));
  BRELAY_TRY(r.get("delay", user.delay));
  if (user.delay > std::chrono::hours(24 * 365)) {
    return r.error(
        "delay", fmt::format("user '{}': a delay of more than a year (365d) is surely a mistake", user.name));
  }
  return r.finish();
}

Status read_metrics(SectionReader& r, MetricsConfig& metrics) {
  if (r.has("listen")) {
    std::string listen;
    BRELAY_TRY(r.get("listen", listen));
    if (!listen.empty()) {
      auto parsed = parse_listen_address(listen);
      if (!parsed) return r.error("listen", parsed.error().message());
      metrics.listen = *parsed;
    }
  }
  if (r.has("status_token") && r.has("status_token_file")) {
    return r.error("status_token_file", "give either status_token or status_token_file, not both");
  }
  if (r.has("status_token")) {
    BRELAY_TRY(r.get("status_token", metrics.status_token));
    if (metrics.status_token.empty()) return r.error("status_token", "must not be empty (or leave it out)");
  } else if (r.has("status_token_file")) {
    BRELAY_TRY(r.read_secret_file("status_token_file", metrics.status_token));
    if (metrics.status_token.empty()) return r.error("status_token_file", "the file is empty");
  }
  return r.finish();
}

Status read_log(SectionReader& r, LogConfig& log) {
  BRELAY_TRY(r.get("level", log.level));
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!kLevels.contains(log.level)) {
    return r.error(
        "level",
        fmt::format("'{}' is not a level: use trace, debug, info, warn, error, critical or off", log.level));
  }
  BRELAY_TRY(r.get_path("file", log.file));
  BRELAY_TRY(r.get("format", log.format));
  if (log.format != "text" && log.format != "json")
    return r.error("format", fmt::format("'{}' is not a log format: use \"text\" or \"json\"", log.format));
  return r.finish();
}

// The keys of a validated file that hold a plain-text secret in the file itself.
std::vector<std::string> inline_secret_keys(const toml::table& root) {
  std::vector<std::string> keys;
  if (root.at_path("source.password")) keys.emplace_back("[source] password");
  if (const toml::array* users = root["users"].as_array()) {
    for (const toml::node& user : *users) {
      if (!user.as_table()->contains("password")) continue;
      keys.push_back(fmt::format("[[users]] password of '{}'", user.at_path("name").value_or(std::string())));
    }
  }
  if (root.at_path("metrics.status_token")) keys.emplace_back("[metrics] status_token");
  return keys;
}

Result<Config> build_config(const toml::table& root, const std::string& path) {
  Config config;
  config.path = path;
  const std::filesystem::path base_dir = std::filesystem::path(path).parent_path();
  const std::set<std::string> known = {"source", "storage", "server", "users", "metrics", "log"};
  for (const auto& [key, node] : root) {
    if (!known.contains(std::string(key.str()))) {
      return make_error(
          "{}:{}: unknown section or key '{}'; the sections are [source], [storage], [server], "
          "[[users]], [metrics] and [log]",
          path, node.source().begin.line, key.str());
    }
  }
  auto section = [&](std::string_view name) -> Result<const toml::table*> {
    const toml::node* node = root.get(name);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!node->is_table()) {
      return make_error("{}:{}: '{}' must be a section [{}]", path, node->source().begin.line, name, name);
    }
    return node->as_table();
  };

  BRELAY_ASSIGN_OR_RETURN(const toml::table* source, section("source"));
  if (source == nullptr)
    return make_error("{}: the [source] section is missing: where the relay pulls from", path);
  SectionReader source_reader(*source, "source", path, base_dir);
  BRELAY_TRY(read_source(source_reader, config.source));

  BRELAY_ASSIGN_OR_RETURN(const toml::table* storage, section("storage"));
  if (storage != nullptr) {
    SectionReader reader(*storage, "storage", path, base_dir);
    BRELAY_TRY(read_storage(reader, config.storage));
  }

  BRELAY_ASSIGN_OR_RETURN(const toml::table* server, section("server"));
  if (server == nullptr) {
    return make_error("{}: the [server] section is missing: at least its server_id is required", path);
  }
  SectionReader server_reader(*server, "server", path, base_dir);
  BRELAY_TRY(read_server(server_reader, config.server));
  if (config.server.server_id == config.source.server_id) {
    return server_reader.error("server_id",
                               fmt::format("{} equals [source] server_id: the id the relay answers "
                                           "with must differ from the one it registers at the "
                                           "source",
                                           config.server.server_id));
  }

  if (const toml::node* users = root.get("users"); users != nullptr) {
    const toml::array* array = users->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      return make_error("{}:{}: users must be written as [[users]] sections", path,
                        users->source().begin.line);
    }
    std::set<std::string> names;
    for (const toml::node& element : *array) {
      SectionReader reader(*element.as_table(), "users", path, base_dir);
      UserConfig user;
      BRELAY_TRY(read_user(reader, user, config.server));
      if (!names.insert(user.name).second) {
        return reader.error("name", fmt::format("user '{}' is defined twice", user.name));
      }
      config.users.push_back(std::move(user));
    }
  }
  if (config.users.empty()) {
    return make_error("{}: no [[users]]: replicas could not log in; add at least one account", path);
  }

  BRELAY_ASSIGN_OR_RETURN(const toml::table* metrics, section("metrics"));
  if (metrics != nullptr) {
    SectionReader reader(*metrics, "metrics", path, base_dir);
    BRELAY_TRY(read_metrics(reader, config.metrics));
  }
  BRELAY_ASSIGN_OR_RETURN(const toml::table* log, section("log"));
  if (log != nullptr) {
    SectionReader reader(*log, "log", path, base_dir);
    BRELAY_TRY(read_log(reader, config.log));
  }
  return config;
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  if (text == "0") return Duration(0);
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) != 0)
    ++digits;
  const std::string_view unit = text.substr(digits);
  std::uint64_t value = 0;
  if (digits == 0 || std::from_chars(text.data(), text.data() + digits, value).ec != std::errc()) {
    return make_error(
        "'{}' is not a duration: write a whole number and a unit (ms, s, m, h, d), e.g. \"30s\"", text);
  }
  std::uint64_t ms_per_unit = 0;
  if (unit == "ms")
    ms_per_unit = 1;
  else if (unit == "s")
    ms_per_unit = 1000;
  else if (unit == "m")
    ms_per_unit = 60'000;
  else if (unit == "h")
    ms_per_unit = 3'600'000;
  else if (unit == "d")
    ms_per_unit = 86'400'000;
  else
    return make_error("'{}' has no known unit: use ms, s, m, h or d, e.g. \"30s\"", text);
  if (value > (std::uint64_t{1} << 52) / ms_per_unit) return make_error("'{}' is too long", text);
  return Duration(static_cast<std::int64_t>(value * ms_per_unit));
}

Result<std::uint64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) != 0)
    ++digits;
  std::uint64_t value = 0;
  if (digits == 0 || std::from_chars(text.data(), text.data() + digits, value).ec != std::errc()) {
    return make_error(
        "'{}' is not a size: write a whole number and a unit (KiB, MiB, GiB, TiB), e.g. \"100GiB\"", text);
  }
  const std::string_view unit = text.substr(digits);
  int shift = 0;
  if (unit.empty() || unit == "B")
    shift = 0;
  else if (unit == "KiB")
    shift = 10;
  else if (unit == "MiB")
    shift = 20;
  else if (unit == "GiB")
    shift = 30;
  else if (unit == "TiB")
    shift = 40;
  else
    return make_error("'{}' has no known unit: use KiB, MiB, GiB or TiB, e.g. \"100GiB\"", text);
  if (shift > 0 && value > (~std::uint64_t{0} >> shift)) return make_error("'{}' is too large", text);
  return value << shift;
}

Result<net::HostPort> parse_listen_address(std::string_view text) {
  auto parsed = net::parse_host_port(text);
  if (parsed && parsed->port != 0) return parsed;
  // net's message names the detail; the configuration's says which form to write, by the part that
  // is wrong: the brackets of an IPv6 address, the single colon, or else the host or port.
  if (!parsed && text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error("'{}' is not an address: write \"[ipv6]:port\"", text);
  } else if (!parsed) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
      return make_error("'{}' is not an address: write \"host:port\" (IPv6 as \"[::1]:3306\")", text);
  }
  return make_error("'{}' is not an address: write \"host:port\" with a port from 1 to 65535", text);
}

ConfigKeyRecorder::ConfigKeyRecorder() : previous_(active_key_recorder) {
  active_key_recorder = this;
}

ConfigKeyRecorder::~ConfigKeyRecorder() {
  active_key_recorder = previous_;
}

std::string_view to_string(Role role) {
  return role == Role::kAdmin ? "admin" : "replica";
}

Result<Config> parse_config(std::string_view text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return make_error("{}:{}: {}", path, e.source().begin.line, e.description());
  }
  auto config = build_config(root, path);
  if (config) config->inline_secrets = inline_secret_keys(root);
  return config;
}

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read the configuration file {}: {}", path, std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  return parse_config(contents.str(), path);
}

}  // namespace brelay::relay
