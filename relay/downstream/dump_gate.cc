#include "relay/downstream/dump_gate.h"

namespace brelay::relay::downstream {

DumpGate::Verdict DumpGate::decide(std::string_view file, std::uint64_t position,
                                   std::uint32_t event_timestamp,
                                   std::chrono::system_clock::time_point now) const {
  Verdict verdict;
  if (settings_.hold_on_hazard && settings_.hazards != nullptr &&
      settings_.hazards->held_at(file, position)) {
    verdict.send = false;
    verdict.held = true;
    verdict.retry_after = kHoldRecheck;
    return verdict;
  }
  if (settings_.delay.count() <= 0 || event_timestamp == 0) return verdict;
  // Written within [timestamp, timestamp + 1 s): due once the end of that second is `delay` old.
  const auto written_by =
      std::chrono::system_clock::time_point(std::chrono::seconds(event_timestamp) + std::chrono::seconds(1));
  const auto due = written_by + settings_.delay;
  if (now >= due) return verdict;
  verdict.send = false;
  verdict.retry_after = std::chrono::ceil<std::chrono::milliseconds>(due - now);
  return verdict;
}

DumpGate make_dump_gate(const Config* config, const TargetHazards* hazards, std::string_view user) {
  if (config == nullptr) return DumpGate();
  DumpGate::Settings settings;
  settings.hold_on_hazard = config->server.hold_on_hazard;
  settings.hazards = hazards;
  for (const UserConfig& account : config->users) {
    if (account.name == user) settings.delay = account.delay;
  }
  return DumpGate(settings);
}

std::uint32_t event_timestamp(ByteView event) {
  if (event.size() < 4) return 0;
  return static_cast<std::uint32_t>(event[0]) | (static_cast<std::uint32_t>(event[1]) << 8) |
         (static_cast<std::uint32_t>(event[2]) << 16) | (static_cast<std::uint32_t>(event[3]) << 24);
}

}  // namespace brelay::relay::downstream
