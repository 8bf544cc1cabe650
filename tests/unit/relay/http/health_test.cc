#include "relay/http/health.h"

#include <gtest/gtest.h>

namespace brelay::relay {
namespace {

TEST(Health, HealthyWhilePullingOrServing) {
  HealthInputs inputs;
  inputs.upstream_problem = "cannot connect to 10.0.0.5:3306: connection refused";
  HealthReport neither = evaluate_health(inputs);
  EXPECT_FALSE(neither.healthy);
  EXPECT_EQ(neither.reason,
            "not pulling from the source (cannot connect to 10.0.0.5:3306: connection refused); not serving "
            "replicas (no listener)");

  inputs.serving = true;
  EXPECT_TRUE(evaluate_health(inputs).healthy);
  inputs.serving = false;
  inputs.pulling = true;
  EXPECT_TRUE(evaluate_health(inputs).healthy);
  inputs.serving = true;
  inputs.writer_error = "the disk is full";
  HealthReport both = evaluate_health(inputs);
  EXPECT_TRUE(both.healthy);
  EXPECT_EQ(both.reason,
            "pulling from the source; serving replicas; storage writer stopped: the disk is full");
}

}  // namespace
}  // namespace brelay::relay
