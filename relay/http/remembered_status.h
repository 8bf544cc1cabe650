// The remembered replicas in the relay's status (SHOW RELAY STATUS, GET /status): a summary row and
// one row per disconnected remembered replica (connected ones already have a Replica_<connection>
// row), at most kRememberedRows, by server_id. SHOW REPLICAS / SHOW SLAVE HOSTS keep the MySQL
// meaning (registered, connected replicas only) so that tools reading them are not misled; SHOW
// RELAY REPLICAS lists every remembered replica. `now` is the relay's clock (BinlogStore::now).
// Loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "relay/downstream/remembered_replicas.h"
#include "relay/http/relay_status.h"

namespace brelay::relay {

inline constexpr std::size_t kRememberedRows = 32;

void add_remembered_replica_rows(StatusRows& rows, const std::vector<downstream::RememberedReplica>& replicas,
                                 bool protect_replicas, std::int64_t now);

}  // namespace brelay::relay
