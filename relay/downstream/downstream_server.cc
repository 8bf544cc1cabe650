#include "relay/downstream/downstream_server.h"

#include <spdlog/spdlog.h>

#include "relay/binlog/format_description.h"
#include "relay/downstream/downstream_accounts.h"
#include "relay/downstream/downstream_session.h"
#include "relay/downstream/mysql_errors.h"

namespace brelay::relay::downstream {

Result<std::shared_ptr<const net::TlsContext>> server_tls_context(const ServerConfig& server) {
  if (server.tls_cert.empty()) return std::shared_ptr<const net::TlsContext>();
  auto tls = net::TlsContext::server(server.tls_cert, server.tls_key,
                                     net::TlsServerPolicy{server.tls_min_version, server.tls_ciphers});
  if (!tls) {
    return make_error(
        "[server] tls_cert {} / tls_key {}: {}; give a PEM certificate chain and its unencrypted key",
        server.tls_cert, server.tls_key, tls.error().message());
  }
  return tls;
}

DownstreamServer::DownstreamServer(RelayContext& context)
    : context_(context),
      gtids_(context.store),
      variables_(context, gtids_),
      remembered_(context),
      dump_services_{context.loop,
                     context.store,
                     context.commits,
                     gtids_,
                     variables_,
                     registry_,
                     context.metrics,
                     context.config.server.server_id,
                     [this](std::uint32_t connection_id) { end_dump(connection_id); }},
      services_{context, gtids_, variables_, registry_, dump_services_},
      schema_(std::make_unique<SchemaForwarder>(context.loop, context.config.source)),
      login_failures_(context.metrics) {
  services_.schema = schema_.get();
  dump_services_.config = &context.config;
  dump_services_.hazards = &context.hazards;
  services_.remembered = &remembered_;
  services_.refresh_greeting = [this] { refresh_greeting(); };
}

DownstreamServer::~DownstreamServer() {
  registry_.set_observer(nullptr);
  alive_.reset();
  if (resolver_.joinable()) resolver_.join();
  if (subscription_) context_.commits.unsubscribe(*subscription_);
}

Status DownstreamServer::start() {
  BRELAY_TRY(remembered_.load());
  registry_.set_observer(&remembered_);
  net::ServerSettings settings;
  // At start nothing is served yet: host names may be resolved here, blocking.
  resolved_hosts_ = resolve_host_names(account_host_names(context_.config.users));
  BRELAY_ASSIGN_OR_RETURN(settings.accounts, make_account_store(context_.config.users, resolved_hosts_));
  const ServerConfig& limits = context_.config.server;
  settings.max_connections = limits.max_connections;
  settings.max_unauthenticated = limits.max_unauthenticated_connections;
  settings.handshake_timeout = limits.connect_timeout;
  settings.write_timeout = limits.net_write_timeout;
  settings.max_connect_errors = limits.max_connect_errors;
  settings.on_login_refused = [this](const net::LoginRefusalEvent& event) {
    login_failures_.on_refused(event);
  };
  // A replica that logs in before the relay knows its source would take its protocol from a
  // placeholder greeting (and a MySQL GTID replica would read GTID_MODE OFF and stop for good):
  // refused, it retries its connection like any failed connect.
  settings.admit = [this](const net::ServerSession& session) -> std::optional<net::ErrPacket> {
    if (session.role() != kReplicaRole || variables_.source_known()) return std::nullopt;
    spdlog::info("session {} ({} from {}): replica login refused: the relay does not know its source yet",
                 session.connection_id(), session.user(), session.peer_address());
    return net::ErrPacket{mysql_error::kUnknownError, "HY000", unknown_source_message()};
  };
  BRELAY_ASSIGN_OR_RETURN(settings.tls, server_tls_context(context_.config.server));
  settings.require_tls = context_.config.server.require_tls;
  settings.max_packet = static_cast<std::size_t>(context_.config.server.max_allowed_packet);
  if (settings.require_tls && !settings.tls) {
    return make_error("[server] require_tls is set but no tls_cert is configured: set tls_cert and tls_key");
  }
  // caching_sha2_password's full authentication without TLS needs the server's RSA key: made on a
  // worker thread (a few hundred ms) when a login first needs it, which waits for it meanwhile
  // (net/rsa_key_source.h).
  settings.rsa_key_source = net::RsaKeySource::create(context_.loop, 2048, [](const Error& error) {
    spdlog::warn("no RSA key for caching_sha2_password ({}): its full authentication needs TLS",
                 error.message());
  });
  server_ = std::make_unique<net::MySqlServer>(
      context_.loop, std::move(settings), [this](net::ServerSession& session) {
        return std::make_unique<DownstreamSession>(services_, session);
      });
  services_.server = server_.get();
  refresh_greeting();
  BRELAY_TRY(server_->listen(context_.config.server.listen.to_string()));
  subscription_ = context_.commits.subscribe([this](const CommitNotifier::Progress&) { refresh_greeting(); });
  spdlog::info("serving replicas on {} (port {}){}, greeting as {}{}",
               context_.config.server.listen.to_string(), server_->port(),
               server_->settings().tls ? " with TLS" : "", server_->settings().server_version,
               variables_.source_known() ? ""
                                         : " until the source is known (the store holds no source identity "
                                           "yet; replica logins and dumps are refused until then)");
  return {};
}

void DownstreamServer::refresh_greeting() {
  if (!server_) return;
  const SourceIdentity& source = variables_.source();
  if (server_->settings().server_version == source.version) return;
  server_->set_server_version(source.version);
  // MySQL 8 clients start with caching_sha2_password; 5.7 and MariaDB with mysql_native_password.
  const bool mysql8 = source.flavor == Flavor::kMysql &&
                      binlog::split_server_version(source.version) >= std::array<unsigned, 3>{8, 0, 0};
  server_->set_greeting_auth_plugin(mysql8 ? net::kCachingSha2Plugin : net::kNativePasswordPlugin);
}

Status DownstreamServer::reload(const Config& config) {
  if (!server_) return make_error("the downstream server is not running");
  BRELAY_ASSIGN_OR_RETURN(auto accounts, make_account_store(config.users, resolved_hosts_));
  BRELAY_ASSIGN_OR_RETURN(auto tls, server_tls_context(config.server));
  if (config.server.require_tls && !tls) {
    return make_error("[server] require_tls is set but no tls_cert is configured: set tls_cert and tls_key");
  }
  server_->set_accounts(std::move(accounts));
  server_->set_tls_context(std::move(tls));
  server_->set_require_tls(config.server.require_tls);
  spdlog::info("downstream accounts and TLS reloaded: {} account(s){}", config.users.size(),
               config.server.tls_cert.empty() ? "" : ", certificate " + config.server.tls_cert);
  resolve_in_background(config.users);
  return {};
}

void DownstreamServer::resolve_in_background(const std::vector<UserConfig>& users) {
  std::vector<std::string> names = account_host_names(users);
  if (names.empty()) return;
  if (resolver_.joinable()) resolver_.join();  // a reload while the last one resolved: rare, short
  const std::uint64_t generation = ++resolve_generation_;
  std::weak_ptr<bool> alive = alive_;
  resolver_ = std::thread([this, alive, generation, users, names = std::move(names)] {
    HostAddresses resolved = resolve_host_names(names);
    context_.loop.post([this, alive, generation, users, resolved = std::move(resolved)]() mutable {
      // On the loop thread; the server may be gone, or a newer reload may have started.
      if (alive.expired() || generation != resolve_generation_ || !server_) return;
      resolved_hosts_ = std::move(resolved);
      auto accounts = make_account_store(users, resolved_hosts_);
      if (!accounts) {
        spdlog::error("[[users]] hosts resolved, but the accounts could not be rebuilt: {}",
                      accounts.error().message());
        return;
      }
      server_->set_accounts(std::move(*accounts));
      spdlog::info("[[users]] host names resolved again; new logins use the addresses");
    });
  });
}

void DownstreamServer::end_dump(std::uint32_t connection_id) {
  if (!server_) return;
  net::ServerSession* session = server_->find_session(connection_id);
  if (session == nullptr) return;
  auto* handler = dynamic_cast<DownstreamSession*>(session->handler());
  if (handler == nullptr || handler->dump() == nullptr) return;
  spdlog::info("ending the dump of connection {}: the same replica started a new one", connection_id);
  handler->dump()->stop_with_error(handler->dump()->same_replica_error());
}

void DownstreamServer::shutdown() {
  if (subscription_) {
    context_.commits.unsubscribe(*subscription_);
    subscription_.reset();
  }
  if (server_) server_->shutdown();
  registry_.set_observer(nullptr);
  remembered_.stop();
  schema_->shutdown();
}

}  // namespace brelay::relay::downstream
