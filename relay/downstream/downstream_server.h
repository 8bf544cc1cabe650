// DownstreamServer: the relay as a master. It owns the net::MySqlServer listening on [server]
// listen (TLS when [server] tls_cert is set, require_tls refusing plain logins), the accounts from
// [[users]], and what the sessions share (the store's GTID state, the system variables, the replica
// registry). It greets with the source's exact version string (so MySQL replicas see 5.7/8.0 and
// MariaDB replicas 10.x) and follows it when the upstream records a new one; @@server_id and
// @@server_uuid are the relay's own.
//
// reload() takes a new configuration's [[users]] and TLS files (SIGHUP): new logins use them,
// sessions already logged in keep theirs, and a bad configuration changes nothing.
//
// [[users]] hosts may name hosts: they are resolved (getaddrinfo) at start, before anything is
// served, and again on every reload on a thread of the server's own (the loop thread never waits
// for DNS): until that finishes, a reload uses the addresses resolved before. A name that does not
// resolve matches no client. Failed and refused logins are counted and logged (login_failures.h);
// FLUSH HOSTS (admins) unblocks addresses. shutdown()
// stops listening and closes every session (SIGTERM). Owned by the Daemon; loop thread only; the
// RelayContext must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

#include "common/result.h"
#include "net/mysql_server.h"
#include "relay/core/commit_notifier.h"
#include "relay/core/config.h"
#include "relay/core/relay_context.h"
#include "relay/downstream/downstream_accounts.h"
#include "relay/downstream/downstream_services.h"
#include "relay/downstream/login_failures.h"
#include "relay/downstream/remembered_replicas.h"
#include "relay/downstream/schema_forwarder.h"

namespace brelay::relay::downstream {

class DownstreamServer {
 public:
  explicit DownstreamServer(RelayContext& context);
  ~DownstreamServer();
  DownstreamServer(const DownstreamServer&) = delete;
  DownstreamServer& operator=(const DownstreamServer&) = delete;

  // Builds the accounts and TLS context from the configuration and listens. Errors name what to fix.
  Status start();
  // Applies `config`'s [[users]], tls_cert/tls_key and require_tls to new sessions.
  Status reload(const Config& config);
  void shutdown();

  // Greets new sessions with the source's version as known now (the upstream calls this when it
  // learns the source's identity; commits call it too).
  void refresh_greeting();

  std::uint16_t port() const { return server_ ? server_->port() : 0; }
  ReplicaRegistry& registry() { return registry_; }
  RememberedReplicas& remembered() { return remembered_; }
  std::size_t session_count() const { return server_ ? server_->session_count() : 0; }

 private:
  void end_dump(std::uint32_t connection_id);
  // Resolves the host names of `users` off the loop thread, then applies their accounts again.
  void resolve_in_background(const std::vector<UserConfig>& users);

  RelayContext& context_;
  StoredGtidState gtids_;
  ServerVariables variables_;
  ReplicaRegistry registry_;
  RememberedReplicas remembered_;
  DumpServices dump_services_;
  DownstreamServices services_;
  std::unique_ptr<SchemaForwarder> schema_;
  std::unique_ptr<net::MySqlServer> server_;
  std::optional<CommitNotifier::SubscriptionId> subscription_;
  LoginFailureReporter login_failures_;
  HostAddresses resolved_hosts_;  // the last resolution of [[users]] host names
  std::uint64_t resolve_generation_ = 0;
  std::thread resolver_;  // joined before the next resolution and in the destructor
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // expires with the server
};

// The TLS context for [server] tls_cert / tls_key (null when no certificate is configured).
Result<std::shared_ptr<const net::TlsContext>> server_tls_context(const ServerConfig& server);

}  // namespace brelay::relay::downstream
