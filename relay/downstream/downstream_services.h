// What the downstream sessions share, owned by the DownstreamServer for its whole life: the relay's
// context, the GTID state of the store, the system variables, the replica registry, what dumps
// use, and the net/ server (for KILL). Loop thread only.
#pragma once

#include <chrono>
#include <functional>

#include "net/mysql_server.h"
#include "relay/core/relay_context.h"
#include "relay/downstream/dump_session.h"
#include "relay/downstream/replica_registry.h"
#include "relay/downstream/server_variables.h"
#include "relay/downstream/stored_gtid_state.h"

namespace brelay::relay::downstream {

class RememberedReplicas;
class SchemaForwarder;

struct DownstreamServices {
  RelayContext& context;
  StoredGtidState& gtids;
  ServerVariables& variables;
  ReplicaRegistry& registry;
  DumpServices& dumps;
  net::MySqlServer* server = nullptr;        // not owned; set once the server exists
  SchemaForwarder* schema = nullptr;         // not owned; the schema queries' connection to the source
  RememberedReplicas* remembered = nullptr;  // not owned; SHOW RELAY REPLICAS, FORGET REPLICA
  // Greets new sessions as the source the variables present now (set by the DownstreamServer).
  std::function<void()> refresh_greeting = nullptr;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

}  // namespace brelay::relay::downstream
