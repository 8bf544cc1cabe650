// DumpGate: may a dump send the stored event at (file, position) now, and if not, when to ask
// again. Two reasons to wait, both decided here without I/O:
//  - delayed serving ([[users]] delay): an account with a delay gets an event only once its
//    timestamp is at least that old. The timestamp has whole seconds and the source wrote the
//    event at some instant in [timestamp, timestamp + 1 s), so the event is due at timestamp + 1 s
//    + delay: never early, at most one second (plus the timer's slack) later than the exact bound.
//    Rows are applied when their transaction's last event arrives, so no row of a transaction
//    committed at T reaches the replica before T + delay. The timestamps are the source's clock,
//    compared with the relay's: keep both synchronised (NTP);
//  - hazard hold ([server] hold_on_hazard): the dump stops just before a transaction the upstream
//    flagged as a GIPK hazard (relay/core/target_hazards.h) until an admin releases it; asked
//    again every kHoldRecheck.
// The session (dump_session.h) asks before every stored event and, while it waits, keeps sending
// heartbeats. Loop thread only; the hazards outlive the gate.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.h"
#include "relay/core/config.h"
#include "relay/core/target_hazards.h"

namespace brelay::relay::downstream {

class DumpGate {
 public:
  static constexpr std::chrono::milliseconds kHoldRecheck{500};

  struct Settings {
    std::chrono::milliseconds delay{0};      // the account's [[users]] delay
    bool hold_on_hazard = false;             // [server] hold_on_hazard
    const TargetHazards* hazards = nullptr;  // not owned; null: no hold
  };

  struct Verdict {
    bool send = true;
    bool held = false;                         // waiting for RELEASE HAZARD (else for the delay)
    std::chrono::milliseconds retry_after{0};  // when not sent: ask again after this
  };

  DumpGate() = default;
  explicit DumpGate(Settings settings) : settings_(settings) {}

  // False when nothing ever waits (no delay, no hold): the session need not ask.
  bool active() const {
    return settings_.delay.count() > 0 || (settings_.hold_on_hazard && settings_.hazards != nullptr);
  }
  // `event_timestamp`: the event header's seconds since the epoch (0: send, artificial events).
  Verdict decide(std::string_view file, std::uint64_t position, std::uint32_t event_timestamp,
                 std::chrono::system_clock::time_point now) const;
  std::chrono::milliseconds delay() const { return settings_.delay; }

 private:
  Settings settings_;
};

// The gate of a dump by `user`: its [[users]] delay (the account as configured when the dump
// starts) and [server] hold_on_hazard. Null config: an inactive gate.
DumpGate make_dump_gate(const Config* config, const TargetHazards* hazards, std::string_view user);

// An event header's timestamp (0 when the event is too short to have one).
std::uint32_t event_timestamp(ByteView event);

}  // namespace brelay::relay::downstream
