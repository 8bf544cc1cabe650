#include "relay/tools/azure_setup.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "net/auth_caching_sha2.h"
#include "net/auth_native.h"
#include "relay/tools/azure_coordinates.h"
#include "relay/tools/azure_tls.h"

namespace brelay::relay {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string_view unquote(std::string_view value) {
  value = trim(value);
  if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') && value.back() == value.front())
    return value.substr(1, value.size() - 2);
  return value;
}

Result<std::uint64_t> parse_position(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return make_error("'{}' is not a binlog position", text);
  return value;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    lines.push_back(text.substr(0, newline));
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
  return lines;
}

// One "key: value" (old format) or "key = value" (INI format) line; false when it is neither.
bool split_key_value(std::string_view line, char separator, std::string_view& key, std::string_view& value) {
  const auto at = line.find(separator);
  if (at == std::string_view::npos) return false;
  key = trim(line.substr(0, at));
  value = trim(line.substr(at + 1));
  return true;
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read {}: {}", path, std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

bool looks_like_mariadb_gtid(std::string_view text) {
  // "d-s-n[,d-s-n...]": digits and dashes only, no uuid colon.
  return !text.empty() && text.find(':') == std::string_view::npos &&
         text.find_first_not_of("0123456789-, \n") == std::string_view::npos;
}

}  // namespace

Result<MydumperCoordinates> parse_mydumper_metadata(std::string_view text) {
  MydumperCoordinates found;
  bool have_file = false, have_position = false;
  enum class Section { kOther, kMaster };
  Section section = Section::kOther;
  bool gtid_continues = false;  // the last GTID value ended with a comma
  for (std::string_view raw : split_lines(text)) {
    const std::string_view line = trim(raw);
    if (gtid_continues && !line.empty()) {
      found.gtid += line;
      gtid_continues = line.back() == ',';
      continue;
    }
    gtid_continues = false;
    if (line.empty()) continue;
    if (line == "SHOW MASTER STATUS:" || line == "SHOW BINARY LOG STATUS:" || line == "[master]" ||
        line == "[source]") {
      section = Section::kMaster;
      continue;
    }
    if (line.ends_with(":") || line.front() == '[' || line.starts_with("Started dump") ||
        line.starts_with("Finished dump")) {
      section = Section::kOther;  // SHOW SLAVE STATUS:, [replication], other INI sections
      continue;
    }
    if (section != Section::kMaster || line.front() == '#') continue;
    std::string_view key, value;
    if (!split_key_value(line, line.find('=') != std::string_view::npos ? '=' : ':', key, value)) continue;
    if (key == "Log" || key == "File") {
      found.file = std::string(unquote(value));
      have_file = true;
    } else if (key == "Pos" || key == "Position") {
      BRELAY_ASSIGN_OR_RETURN(found.position, parse_position(unquote(value)));
      have_position = true;
    } else if (key == "GTID" || key == "Executed_Gtid_Set") {
      found.gtid = std::string(unquote(value));
      gtid_continues = !found.gtid.empty() && found.gtid.back() == ',';
    }
  }
  if (!have_file || !have_position || found.file.empty()) {
    return make_error(
        "the metadata file names no binlog coordinates (no SHOW MASTER STATUS section with Log and Pos): "
        "take the dump from a source with binary logging on (log_bin) with a mydumper that records them");
  }
  return found;
}

std::string sql_string_literal(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  for (char c : text) {
    switch (c) {
      case '\'': out += "''"; break;
      case '\\': out += "\\\\"; break;
      case '\0': out += "\\0"; break;
      case '\r': out += "\\r"; break;
      case '\x1a': out += "\\Z"; break;
      default: out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

Result<std::string> read_certificates_pem(const std::string& path) {
  BRELAY_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::string pem;
  std::size_t at = 0;
  while ((at = text.find(kBegin, at)) != std::string::npos) {
    const std::size_t end = text.find(kEnd, at);
    if (end == std::string::npos) return make_error("{}: a certificate has no END line", path);
    std::string block = text.substr(at, end + kEnd.size() - at);
    std::erase(block, '\r');
    pem += block;
    pem += '\n';
    at = end + kEnd.size();
  }
  if (pem.empty()) {
    return make_error(
        "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA certificate "
        "that signed the relay's [server] tls_cert",
        path);
  }
  return pem;
}

Result<const UserConfig*> find_replica_account(const Config& config, std::string_view user) {
  for (const UserConfig& account : config.users) {
    if (account.name != user) continue;
    if (account.role != Role::kReplica) {
      return make_error(
          "[[users]] '{}' in {} has role = \"{}\": give the Azure target an account with role = \"replica\" "
          "(it may dump and read status, nothing more), or add one to [[users]] and reload the relay",
          user, config.path, to_string(account.role));
    }
    return &account;
  }
  return make_error(
      "{} has no [[users]] entry named '{}': add one with role = \"replica\" (its password as native_hash "
      "and sha2_hash from `binlog-relay hash-password`), reload the relay (SIGHUP), and run this again",
      config.path, user);
}

bool password_matches(const UserConfig& account, std::string_view password) {
  if (account.password) return *account.password == password;
  if (!account.native_hash.empty()) {
    auto stored = net::parse_native_password_hash(account.native_hash);
    if (stored && net::format_native_password_hash(*stored) ==
                      net::format_native_password_hash(net::native_password_hash(password)))
      return true;
  }
  if (!account.sha2_hash.empty()) {
    auto stored = net::parse_caching_sha2_password_hash(account.sha2_hash);
    if (stored && net::format_caching_sha2_password_hash(*stored) ==
                      net::format_caching_sha2_password_hash(net::caching_sha2_password_hash(password)))
      return true;
  }
  return false;
}

std::string render_azure_setup(const AzureSetupPlan& plan) {
  const std::string host = sql_string_literal(plan.host);
  const std::string user = sql_string_literal(plan.user);
  const std::string password = sql_string_literal(plan.password ? *plan.password : kPasswordPlaceholder);
  std::string out = fmt::format(
      "# Azure Database for MySQL flexible server: Data-in replication from binlog-relay at {}:{} as '{}',\n"
      "# starting at {}.\n",
      plan.host, plan.port, plan.user, plan.origin);
  if (plan.gtid) {
    out += fmt::format(
        "# 1. In a shell with the Azure CLI, set the GTIDs the target has already executed:\n"
        "az mysql flexible-server gtid reset --resource-group <resource-group> --server-name <server-name> "
        "--gtid-set '{}'\n"
        "# 2. On the target, as its administrator:\n",
        plan.gtid_set);
  } else {
    out += "# On the target, as its administrator:\n";
  }
  out += fmt::format("SET @ca = {};\n", sql_string_literal(plan.ca_pem));
  if (plan.gtid) {
    out += fmt::format("CALL mysql.az_replication_change_master_with_gtid({}, {}, {}, {}, @ca);\n", host,
                       user, password, plan.port);
  } else {
    out += fmt::format("CALL mysql.az_replication_change_master({}, {}, {}, {}, {}, {}, @ca);\n", host, user,
                       password, plan.port, sql_string_literal(plan.file), plan.position);
  }
  out += "CALL mysql.az_replication_start;\n";
  return out;
}

namespace {

// @ca: the PEM of --ca, or of [server] tls_cert, or '' with --no-tls; checked against the relay's
// TLS settings and the account's.
Result<std::string> choose_ca(const Config& config, const UserConfig& account,
                              const AzureSetupOptions& options, std::vector<std::string>& notes) {
  if (options.no_tls) {
    if (!options.ca_file.empty()) return make_error("--ca and --no-tls exclude each other: give one");
    if (config.server.require_tls || account.require_tls) {
      return make_error(
          "--no-tls, but the relay refuses logins of '{}' without TLS ({} require_tls = true): drop --no-tls "
          "and give the target the relay's CA",
          account.name, config.server.require_tls ? "[server]" : "its [[users]] entry has");
    }
    notes.emplace_back(
        "the target will connect without TLS: the binlog and the password cross the network in "
        "clear; use this only on a private link");
    return std::string();
  }
  if (config.server.tls_cert.empty()) {
    return make_error(
        "the relay offers no TLS ([server] tls_cert is not set in {}){}: set [server] tls_cert and tls_key "
        "and "
        "restart the relay, or use --no-tls for a plain connection",
        config.path, options.ca_file.empty() ? "" : ", so a CA is of no use");
  }
  std::string pem;
  if (!options.ca_file.empty()) {
    BRELAY_ASSIGN_OR_RETURN(pem, read_certificates_pem(options.ca_file));
  } else {
    auto chain = read_certificates_pem(config.server.tls_cert);
    if (!chain) return make_error("[server] tls_cert: {}", chain.error().message());
    pem = std::move(chain).value();
  }
  BRELAY_TRY(verify_relay_certificate(pem, config.server.tls_cert));
  if (!certificate_names_host(config.server.tls_cert, options.host)) {
    notes.push_back(fmt::format(
        "the relay's certificate ({}) does not name '{}': a target that checks the server's identity "
        "refuses it; issue one whose subjectAltName holds that name",
        config.server.tls_cert, options.host));
  }
  return pem;
}

// The GTID set an Azure target takes, checked against what the store can serve.
Status check_gtid_setup(const StoredStart& start, const binlog::GtidSet& target, std::string_view what) {
  if (start.flavor == Flavor::kMariadb) {
    return make_error(
        "the source is MariaDB: Azure Database for MySQL cannot take MariaDB GTIDs (domain-server-sequence, "
        "such as 0-1-3; MySQL's are uuid:number); set the target up by file and position instead (leave out "
        "--gtid)");
  }
  if (!start.has_mysql_gtids) {
    return make_error(
        "the stored binlog has no GTIDs (the source runs with gtid_mode = OFF): set the target up by file "
        "and "
        "position (leave out --gtid), or turn GTIDs on at the source (enforce_gtid_consistency = ON, "
        "gtid_mode = ON) and set up from a later point");
  }
  if (!start.purged.is_subset_of(target)) {
    return make_error(
        "the relay has purged transactions that {} lacks ({}): the target could not catch up. Take a new "
        "snapshot, and keep more history ([storage] retention_time, retention_size)",
        what, binlog::GtidSet::difference(start.purged, target).to_single_line());
  }
  if (!target.is_subset_of(start.executed_end)) {
    return make_error(
        "{} holds transactions the relay has not stored yet ({}): wait until the relay has caught up with "
        "the source (binlog-relay status) and run this again",
        what, binlog::GtidSet::difference(target, start.executed_end).to_single_line());
  }
  return {};
}

Status read_mydumper(const AzureSetupOptions& options, MydumperCoordinates& dump) {
  const std::string path = options.from_mydumper + "/metadata";
  auto text = read_text_file(path);
  if (!text)
    return make_error("{} (is --from-mydumper a mydumper output directory?)", text.error().message());
  auto parsed = parse_mydumper_metadata(*text);
  if (!parsed) return make_error("{}: {}", path, parsed.error().message());
  dump = std::move(parsed).value();
  return {};
}

// Fills the plan's coordinates from the store, --from or a mydumper dump.
Status plan_coordinates(storage::BinlogStore& store, const AzureSetupOptions& options, AzureSetupPlan& plan) {
  std::optional<std::string> file;
  std::uint64_t position = 0;
  MydumperCoordinates dump;
  const bool from_dump = !options.from_mydumper.empty();
  if (from_dump) {
    BRELAY_TRY(read_mydumper(options, dump));
    if (options.gtid && looks_like_mariadb_gtid(dump.gtid)) {
      return make_error(
          "the dump's GTID is MariaDB's ({}): Azure Database for MySQL cannot take MariaDB GTIDs; set the "
          "target up by file and position instead (leave out --gtid)",
          dump.gtid);
    }
    if (!options.gtid) {
      file = dump.file;
      position = dump.position;
    }
  } else if (options.from) {
    const auto colon = options.from->rfind(':');
    auto parsed = colon == std::string::npos ? Result<std::uint64_t>(make_error("no position"))
                                             : parse_position(options.from->substr(colon + 1));
    if (!parsed || colon == 0)
      return make_error("--from '{}' is not FILE:POS (e.g. mysql-bin.000042:4)", *options.from);
    file = options.from->substr(0, colon);
    position = *parsed;
  }
  BRELAY_ASSIGN_OR_RETURN(StoredStart start, locate_stored_start(store, file, position, options.gtid));
  plan.file = start.file;
  plan.position = start.position;
  if (from_dump) {
    plan.origin = fmt::format("{}:{}, the coordinates of the mydumper dump in {}", dump.file, dump.position,
                              options.from_mydumper);
  } else {
    plan.origin = fmt::format("{}:{}{}", start.file, start.position,
                              options.from ? "" : ", the end of what the relay stores now");
  }
  if (!options.gtid) return {};
  binlog::GtidSet target = start.executed_before;
  if (from_dump) {
    auto parsed = binlog::GtidSet::parse(dump.gtid);
    if (!parsed)
      return make_error("the dump's GTID '{}' is no MySQL GTID set: {}", dump.gtid, parsed.error().message());
    target = std::move(parsed).value();
    plan.origin = fmt::format("the GTIDs of the mydumper dump in {}", options.from_mydumper);
  }
  BRELAY_TRY(check_gtid_setup(start, target, from_dump ? "the dump" : "that point"));
  plan.gtid_set = target.to_single_line();
  if (!from_dump) plan.origin += fmt::format(" (GTIDs {})", plan.gtid_set.empty() ? "none" : plan.gtid_set);
  return {};
}

}  // namespace

Result<AzureSetup> prepare_azure_setup(const Config& config, storage::BinlogStore& store,
                                       const AzureSetupOptions& options) {
  if (options.host.empty())
    return make_error("give --host: the relay's name or address as the Azure server resolves and reaches it");
  if (!options.from_mydumper.empty() && options.from)
    return make_error("--from and --from-mydumper exclude each other: give one");
  AzureSetup setup;
  AzureSetupPlan plan;
  plan.host = options.host;
  plan.port = options.port.value_or(config.server.listen.port);
  plan.user = options.user;
  plan.gtid = options.gtid;
  BRELAY_ASSIGN_OR_RETURN(const UserConfig* account, find_replica_account(config, options.user));
  if (options.password) {
    if (!password_matches(*account, *options.password)) {
      return make_error(
          "--password is not the password of [[users]] '{}' in {}: the target's logins would fail (ERROR "
          "1045); give the right one, or leave --password out and type it into the printed CALL",
          account->name, config.path);
    }
    plan.password = options.password;
  } else {
    setup.notes.push_back(
        fmt::format("the password is not printed{}: replace '{}' in the CALL with the password of '{}' (or "
                    "pass --password)",
                    account->password ? "" : " (the configuration holds only its hashes)",
                    kPasswordPlaceholder, account->name));
  }
  BRELAY_ASSIGN_OR_RETURN(plan.ca_pem, choose_ca(config, *account, options, setup.notes));
  BRELAY_TRY(plan_coordinates(store, options, plan));
  setup.text = render_azure_setup(plan);
  return setup;
}

}  // namespace brelay::relay
