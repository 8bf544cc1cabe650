// `binlog-relay check`: the preflight checklist (preflight.h) of the configuration, the source and
// the relay's own host.
#include <ctime>
#include <fstream>
#include <ostream>
#include <sstream>

#include <fmt/format.h>

#include "net/blocking_client.h"
#include "relay/app/commands.h"
#include "relay/checks/local_checks.h"
#include "relay/checks/preflight.h"
#include "relay/checks/source_checks.h"
#include "relay/core/config.h"

namespace brelay::relay {
namespace {

net::ClientOptions client_options(const SourceConfig& source, std::string user, std::string password) {
  net::ClientOptions options;
  options.host = source.host;
  options.port = source.port;
  options.user = std::move(user);
  options.password = std::move(password);
  options.tls_mode = source.tls;
  options.tls_ca_file = source.tls_ca;
  options.connect_timeout = std::chrono::seconds(10);
  options.connect_attributes = {{"_client_name", "binlog-relay"}, {"program_name", "binlog-relay check"}};
  return options;
}

Result<std::string> read_password_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read {}: {}", path, std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string password = contents.str();
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
    password.pop_back();
  return password;
}

void check_source_server(const Config& config, const CheckCommandOptions& options, Checklist& checklist) {
  const SourceConfig& source = config.source;
  const std::string endpoint = fmt::format("{}:{} as {}", source.host, source.port, source.user);
  auto client = net::BlockingClient::connect(client_options(source, source.user, source.password));
  if (!client) {
    checklist.fail(
        "source", fmt::format("cannot log in to {}: {}", endpoint, client.error().message()),
        "check [source] host, port, user and password (or password_file), the network path and the "
        "source's TLS settings; every other source check needs this connection");
    return;
  }
  const bool tls = (*client)->async().tls();
  if (!tls && source.tls != net::TlsMode::kDisabled) {
    checklist.warn(
        "source", fmt::format("connected to {} without TLS: the source offers none", endpoint),
        "enable TLS on the source (ssl_cert, ssl_key) and set [source] tls = \"verify_ca\" with tls_ca, "
        "so that the binlog crosses the network encrypted");
  } else {
    checklist.ok("source", fmt::format("connected to {} ({})", endpoint,
                                       tls ? "TLS " + (*client)->async().tls_version() : "TLS disabled"));
  }

  std::unique_ptr<net::BlockingClient> inspector;
  if (!options.inspect_user.empty()) {
    std::string password;
    if (!options.inspect_password_file.empty()) {
      auto read = read_password_file(options.inspect_password_file);
      if (!read) {
        checklist.fail("inspect account", read.error().message(), "give a readable --inspect-password-file");
        return;
      }
      password = std::move(read).value();
    }
    auto connected = net::BlockingClient::connect(client_options(source, options.inspect_user, password));
    if (!connected) {
      checklist.fail(
          "inspect account",
          fmt::format("cannot log in as {}: {}", options.inspect_user, connected.error().message()),
          "check --inspect-user and --inspect-password-file");
      return;
    }
    inspector = std::move(connected).value();
  }

  auto facts = gather_source_facts(**client, inspector.get());
  if (!facts) {
    checklist.fail("source", fmt::format("cannot read the source's settings: {}", facts.error().message()),
                   "check that the account may run SHOW GLOBAL VARIABLES and SHOW GRANTS");
    return;
  }
  facts->endpoint = endpoint;
  check_source(*facts, config, checklist);
  if (inspector) inspector->close();
  (*client)->close();
}

}  // namespace

int run_check(const CheckCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto config = load_config(options.config_path);
  if (!config) {
    err << "binlog-relay check: " << config.error().message() << "\n";
    return 2;
  }
  Checklist checklist;
  checklist.ok("config", fmt::format("{} is valid", config->path));
  if (!options.config_only) {
    // Every server of [source] hosts, each as the source it may become.
    if (config->source.hosts.size() <= 1) check_source_server(*config, options, checklist);
    for (std::size_t i = 0; config->source.hosts.size() > 1 && i < config->source.hosts.size(); ++i) {
      Config one = *config;
      one.source.host = config->source.hosts[i].host;
      one.source.port = config->source.hosts[i].port;
      check_source_server(one, options, checklist);
    }
  }
  check_certificate(*config, static_cast<std::int64_t>(std::time(nullptr)), checklist);
  check_free_disk(*config, checklist);
  check_config_access(*config, checklist);
  check_process_user(checklist);
  check_logins(*config, checklist);
  out << checklist.render();
  out.flush();
  return checklist.failed() ? 1 : 0;
}

}  // namespace brelay::relay
