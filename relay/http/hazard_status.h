// The GIPK target hazards in the relay's status (SHOW RELAY STATUS, GET /status): a summary row
// and one row per recent hazard, newest last, at most kHazardRows. Loop thread.
#pragma once

#include <cstddef>

#include "relay/core/target_hazards.h"
#include "relay/http/relay_status.h"

namespace brelay::relay {

inline constexpr std::size_t kHazardRows = 16;

void add_hazard_rows(StatusRows& rows, const TargetHazards& hazards, bool hold_on_hazard);

}  // namespace brelay::relay
