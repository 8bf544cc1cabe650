// The test reader of the Prometheus text format accepts what the registry renders and rejects what
// Prometheus would.
#include "tests/support/prometheus_text.h"

#include <gtest/gtest.h>

#include "relay/core/metrics.h"

namespace brelay::testing {
namespace {

TEST(PrometheusText, ReadsTheRegistrysRendering) {
  relay::MetricsRegistry registry;
  registry.counter("a_total", "A.", {{"kind", "x\"y\\z\nw"}}).add(2);
  registry.gauge("b", "B.").set(-1.5);
  auto& h = registry.histogram("c_seconds", "C.", {0.1, 1});
  h.observe(0.05);
  h.observe(5);
  auto scrape = parse_prometheus_text(registry.render());
  ASSERT_TRUE(scrape) << scrape.error().message();
  EXPECT_EQ(scrape->value("a_total", {{"kind", "x\"y\\z\nw"}}), 2.0);
  EXPECT_EQ(scrape->value("b"), -1.5);
  EXPECT_EQ(scrape->value("c_seconds_bucket", {{"le", "0.1"}}), 1.0);
  EXPECT_EQ(scrape->value("c_seconds_bucket", {{"le", "+Inf"}}), 2.0);
  EXPECT_EQ(scrape->value("c_seconds_count"), 2.0);
  EXPECT_EQ(scrape->families.at("c_seconds").type, "histogram");
}

TEST(PrometheusText, RejectsWhatPrometheusWould) {
  const std::vector<std::string> bad = {
      "x 1\n",                                            // no TYPE
      "# TYPE x gauge\nx{a=b} 1\n",                       // unquoted label
      "# TYPE x gauge\n1x 1\n",                           // bad name
      "# TYPE x gauge\nx one\n",                          // bad value
      "# TYPE x gauge\nx 1",                              // no final newline
      "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx 2\n",  // family split
      "# TYPE x nonsense\nx 1\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",  // not cumulative
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n",                           // no +Inf
      "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\n",                        // count differs
  };
  for (const std::string& text : bad)
    EXPECT_FALSE(parse_prometheus_text(text)) << text;
}

}  // namespace
}  // namespace brelay::testing
