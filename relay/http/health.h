// What GET /health answers: 200 while the relay pulls from its source or serves replicas, 503
// otherwise, with a one-line reason an operator (or a load balancer's log) can act on. The daemon
// gathers HealthInputs from its components on the loop thread; evaluate_health() is pure.
#pragma once

#include <optional>
#include <string>

namespace brelay::relay {

struct HealthInputs {
  bool pulling = false;          // connected to the source and streaming its binlog
  std::string upstream_problem;  // why not pulling (the upstream's last error or state)
  bool serving = false;          // the replica listener is open
  std::string server_problem;    // why not serving
  // The storage writer stopped on an error (full disk, ...): serving continues, pulling pauses.
  std::optional<std::string> writer_error;
  // Damaged stored data found by readers (relay/core/stored_event_check.h). Reported in the reason
  // but still healthy: a restart does not repair it, and the rest of the stream is still served;
  // operators learn of it from this text, SHOW RELAY STATUS and
  // binlog_relay_store_corrupt_events_total.
  std::string store_damage;
};

struct HealthReport {
  bool healthy = false;
  std::string reason;
};

HealthReport evaluate_health(const HealthInputs& inputs);

}  // namespace brelay::relay
