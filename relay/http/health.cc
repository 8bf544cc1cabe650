#include "relay/http/health.h"

#include <fmt/format.h>

namespace brelay::relay {

HealthReport evaluate_health(const HealthInputs& inputs) {
  HealthReport report;
  report.healthy = inputs.pulling || inputs.serving;
  const std::string pulling =
      inputs.pulling ? "pulling from the source"
                     : fmt::format("not pulling from the source ({})",
                                   inputs.upstream_problem.empty() ? "no upstream" : inputs.upstream_problem);
  const std::string serving =
      inputs.serving ? "serving replicas"
                     : fmt::format("not serving replicas ({})",
                                   inputs.server_problem.empty() ? "no listener" : inputs.server_problem);
  report.reason = fmt::format("{}; {}", pulling, serving);
  if (inputs.writer_error) report.reason += fmt::format("; storage writer stopped: {}", *inputs.writer_error);
  if (!inputs.store_damage.empty()) report.reason += "; store damaged: " + inputs.store_damage;
  return report;
}

}  // namespace brelay::relay
