#include "relay/http/remembered_status.h"

#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace brelay::relay {
namespace {

std::string utc(std::int64_t seconds) {
  const auto time = static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&time, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

std::string kept_text(const downstream::RememberedReplica& replica, std::int64_t now) {
  if (!replica.protected_until) return "not kept (protect_replicas is off)";
  if (*replica.protected_until < now)
    return fmt::format("grace over since {}", utc(*replica.protected_until));
  return fmt::format("kept until {}", utc(*replica.protected_until));
}

std::string headroom_text(double seconds) {
  if (std::isinf(seconds)) return "unlimited";
  return fmt::format("{} s", static_cast<std::int64_t>(seconds));
}

}  // namespace

void add_remembered_replica_rows(StatusRows& rows, const std::vector<downstream::RememberedReplica>& replicas,
                                 bool protect_replicas, std::int64_t now) {
  std::size_t disconnected = 0;
  for (const auto& replica : replicas)
    disconnected += replica.connection_id ? 0 : 1;
  rows.emplace_back("Remembered_Replicas",
                    fmt::format("{} ({} disconnected); protect_replicas {}", replicas.size(), disconnected,
                                protect_replicas ? "on" : "off"));
  std::size_t shown = 0;
  for (const auto& replica : replicas) {
    if (replica.connection_id) continue;
    if (shown++ == kRememberedRows) {
      rows.emplace_back("Disconnected_Replicas_Not_Shown",
                        fmt::format("{} (SHOW RELAY REPLICAS lists them)", disconnected - kRememberedRows));
      break;
    }
    const storage::ReplicaRecord& record = replica.record;
    rows.emplace_back(
        fmt::format("Disconnected_Replica_{}", record.server_id),
        fmt::format("user {} from {}{} at {}:{}, last seen {}, {}, headroom {}", record.account, record.host,
                    record.uuid.empty() ? "" : " uuid " + record.uuid, record.file, record.position,
                    utc(record.last_seen), kept_text(replica, now), headroom_text(replica.headroom_seconds)));
  }
}

}  // namespace brelay::relay
