#include "relay/core/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace brelay::relay {
namespace {

TEST(Metrics, RendersCountersGaugesAndLabelsInTextFormat) {
  MetricsRegistry registry;
  registry.counter("binlog_relay_events_received_total", "Events received from the source.").add(3);
  registry.gauge("binlog_relay_upstream_connected", "1 while connected to the source.").set(1);
  registry.gauge("binlog_relay_replica_lag_seconds", "Replica lag.", {{"replica", "4003"}}).set(2.5);
  registry.gauge("binlog_relay_replica_lag_seconds", "Replica lag.", {{"replica", "a\"b"}}).set(0);
  EXPECT_EQ(registry.render(),
            "# HELP binlog_relay_events_received_total Events received from the source.\n"
            "# TYPE binlog_relay_events_received_total counter\n"
            "binlog_relay_events_received_total 3\n"
            "# HELP binlog_relay_replica_lag_seconds Replica lag.\n"
            "# TYPE binlog_relay_replica_lag_seconds gauge\n"
            "binlog_relay_replica_lag_seconds{replica=\"4003\"} 2.5\n"
            "binlog_relay_replica_lag_seconds{replica=\"a\\\"b\"} 0\n"
            "# HELP binlog_relay_upstream_connected 1 while connected to the source.\n"
            "# TYPE binlog_relay_upstream_connected gauge\n"
            "binlog_relay_upstream_connected 1\n");
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  MetricsRegistry registry;
  Histogram& h = registry.histogram("fsync_seconds", "fsync latency.", {0.001, 0.01});
  h.observe(0.0005);
  h.observe(0.005);
  h.observe(0.005);
  h.observe(5);
  EXPECT_EQ(registry.render(),
            "# HELP fsync_seconds fsync latency.\n"
            "# TYPE fsync_seconds histogram\n"
            "fsync_seconds_bucket{le=\"0.001\"} 1\n"
            "fsync_seconds_bucket{le=\"0.01\"} 3\n"
            "fsync_seconds_bucket{le=\"+Inf\"} 4\n"
            "fsync_seconds_sum 5.0105\n"
            "fsync_seconds_count 4\n");
}

TEST(Metrics, RemovedSeriesAndCallbackGauges) {
  MetricsRegistry registry;
  registry.gauge("lag", "Lag.", {{"replica", "1"}}).set(1);
  registry.remove_series("lag", {{"replica", "1"}});
  EXPECT_EQ(registry.render(), "");
  double bytes = 10;
  registry.callback_gauge("store_bytes", "Bytes stored.", {}, [&] { return bytes; });
  bytes = 42;
  EXPECT_EQ(registry.render(),
            "# HELP store_bytes Bytes stored.\n# TYPE store_bytes gauge\nstore_bytes 42\n");
}

TEST(Metrics, CollectorsRunBeforeEachRender) {
  MetricsRegistry registry;
  int scrapes = 0;
  registry.add_collector([&] {
    ++scrapes;
    registry.gauge("scrapes", "Renders so far.").set(scrapes);
  });
  EXPECT_EQ(registry.render(), "# HELP scrapes Renders so far.\n# TYPE scrapes gauge\nscrapes 1\n");
  EXPECT_EQ(registry.render(), "# HELP scrapes Renders so far.\n# TYPE scrapes gauge\nscrapes 2\n");
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry registry;
  Counter& c = registry.counter("c", "C.");
  Histogram& h = registry.histogram("h", "H.", {1.0});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.add();
        h.observe(0.5);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(c.value(), 40000);
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_EQ(h.sum(), 20000);
}

}  // namespace
}  // namespace brelay::relay
