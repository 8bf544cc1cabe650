#include "relay/http/hazard_status.h"

#include <fmt/format.h>

namespace brelay::relay {

void add_hazard_rows(StatusRows& rows, const TargetHazards& hazards, bool hold_on_hazard) {
  const std::size_t unreleased = hazards.unreleased();
  rows.emplace_back(
      "Target_Hazards",
      fmt::format("{} flagged since start, {} unreleased; hold_on_hazard {}{}", hazards.recorded_total(),
                  unreleased, hold_on_hazard ? "on" : "off",
                  hold_on_hazard && unreleased > 0 ? " (dumps hold before them: RELEASE HAZARD)" : ""));
  const auto& recent = hazards.recent();
  const std::size_t first = recent.size() > kHazardRows ? recent.size() - kHazardRows : 0;
  for (std::size_t i = first; i < recent.size(); ++i) {
    const TargetHazard& hazard = recent[i];
    rows.emplace_back(fmt::format("Target_Hazard_{}", hazards.recorded_total() - recent.size() + i + 1),
                      fmt::format("{}{}", hazard.describe(), hazard.released ? " [released]" : ""));
  }
}

}  // namespace brelay::relay
