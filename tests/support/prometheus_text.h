// A strict reader of the Prometheus text exposition format (version 0.0.4) for tests that scrape
// /metrics: it checks what Prometheus itself would reject (metric and label names, escapes,
// values, a TYPE before the samples of its family, no family split in two, histogram buckets with
// ascending `le` ending at +Inf, cumulative counts and a _count equal to the +Inf bucket) and gives
// the samples back for assertions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace brelay::testing {

struct PrometheusSample {
  std::string name;  // as written, e.g. "binlog_relay_store_fsync_seconds_bucket"
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PrometheusFamily {
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::string help;
};

struct PrometheusScrape {
  std::map<std::string, PrometheusFamily> families;
  std::vector<PrometheusSample> samples;

  // The value of the sample with this name and exactly these labels.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const;
};

Result<PrometheusScrape> parse_prometheus_text(std::string_view text);

}  // namespace brelay::testing
