// The dump gate: delayed serving's bound (an event written within [ts, ts + 1 s) goes out no
// earlier than ts + 1 s + delay, and when not, the time to ask again), the hazard hold and its
// release, and the accounts' settings.
#include "relay/downstream/dump_gate.h"

#include <gtest/gtest.h>

#include "relay/downstream/sql_statement.h"

namespace brelay::relay::downstream {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::system_clock;

Clock::time_point at(std::int64_t unix_ms) {
  return Clock::time_point(milliseconds(unix_ms));
}

TEST(DumpGate, InactiveWithoutDelayOrHold) {
  DumpGate gate;
  EXPECT_FALSE(gate.active());
  EXPECT_TRUE(gate.decide("f", 4, 1000, at(0)).send);
}

TEST(DumpGate, DelayNeverServesEarly) {
  DumpGate::Settings settings;
  settings.delay = seconds(5);
  DumpGate gate(settings);
  ASSERT_TRUE(gate.active());
  // Written at 1000.999 at the latest: due at 1006.000.
  DumpGate::Verdict verdict = gate.decide("f", 4, 1000, at(1'005'999));
  EXPECT_FALSE(verdict.send);
  EXPECT_FALSE(verdict.held);
  EXPECT_EQ(verdict.retry_after, milliseconds(1));
  verdict = gate.decide("f", 4, 1000, at(1'000'500));
  EXPECT_FALSE(verdict.send);
  EXPECT_EQ(verdict.retry_after, milliseconds(5'500));
  EXPECT_TRUE(gate.decide("f", 4, 1000, at(1'006'000)).send);
  EXPECT_TRUE(gate.decide("f", 4, 1000, at(2'000'000)).send);
  // Artificial events without a timestamp are not held back.
  EXPECT_TRUE(gate.decide("f", 4, 0, at(0)).send);
}

TEST(DumpGate, HoldsBeforeAnUnreleasedHazardUntilReleased) {
  TargetHazards hazards;
  TargetHazard hazard;
  hazard.file = "mysql-bin.000002";
  hazard.position = 900;
  hazard.gtid = "0-1-12";
  hazards.record(hazard);
  DumpGate::Settings settings;
  settings.hold_on_hazard = true;
  settings.hazards = &hazards;
  DumpGate gate(settings);
  EXPECT_TRUE(gate.decide("mysql-bin.000002", 800, 1, at(0)).send);
  DumpGate::Verdict verdict = gate.decide("mysql-bin.000002", 900, 1, at(0));
  EXPECT_FALSE(verdict.send);
  EXPECT_TRUE(verdict.held);
  EXPECT_EQ(verdict.retry_after, DumpGate::kHoldRecheck);
  EXPECT_TRUE(gate.decide("mysql-bin.000003", 900, 1, at(0)).send);
  ASSERT_TRUE(hazards.release("0-1-12"));
  EXPECT_TRUE(gate.decide("mysql-bin.000002", 900, 1, at(0)).send);

  // Without hold_on_hazard hazards are only reported.
  hazard.position = 1000;
  hazards.record(hazard);
  settings.hold_on_hazard = false;
  EXPECT_TRUE(DumpGate(settings).decide("mysql-bin.000002", 1000, 1, at(0)).send);
}

TEST(DumpGate, MadeFromTheAccountsConfiguration) {
  Config config;
  UserConfig delayed;
  delayed.name = "azure_delayed";
  delayed.delay = seconds(5);
  UserConfig plain;
  plain.name = "azure";
  config.users = {delayed, plain};
  EXPECT_EQ(make_dump_gate(&config, nullptr, "azure_delayed").delay(), seconds(5));
  EXPECT_FALSE(make_dump_gate(&config, nullptr, "azure").active());
  config.server.hold_on_hazard = true;
  TargetHazards hazards;
  EXPECT_TRUE(make_dump_gate(&config, &hazards, "azure").active());
  EXPECT_FALSE(make_dump_gate(nullptr, &hazards, "azure").active());

  const std::uint8_t header[] = {0x78, 0x56, 0x34, 0x12, 2};
  EXPECT_EQ(event_timestamp(header), 0x12345678u);
  EXPECT_EQ(event_timestamp(ByteView(header, 3)), 0u);
}

TEST(DumpGate, ReleaseHazardStatement) {
  auto statement = parse_statement("RELEASE HAZARD 'mysql-bin.000002:900';");
  ASSERT_TRUE(statement) << statement.error().message();
  ASSERT_TRUE(std::holds_alternative<ReleaseHazardStatement>(*statement));
  EXPECT_EQ(std::get<ReleaseHazardStatement>(*statement).key, "mysql-bin.000002:900");
  EXPECT_FALSE(parse_statement("RELEASE HAZARD"));
  EXPECT_FALSE(parse_statement("release hazard 12"));
}

}  // namespace
}  // namespace brelay::relay::downstream
