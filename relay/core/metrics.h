// Metrics for /metrics in the Prometheus text exposition format (version 0.0.4).
//
// A MetricsRegistry owns metric families (one name, help text and type each) and their series (one
// per label set). Counters, gauges and histograms are updated lock-free from any thread (the loop
// thread and the storage writer thread both record); creating, removing and rendering series take
// the registry's mutex. References returned by counter()/gauge()/histogram() stay valid until the
// series is removed with remove_series() or the registry is destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace brelay::relay {

// Label name/value pairs, e.g. {{"replica", "4003"}}. Order is kept as given.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void add(double amount = 1.0);
  double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double amount);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `upper_bounds` ascending; a +Inf bucket is implied.
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Cumulative counts per bound (the last entry is +Inf), the sum and the count.
  std::vector<std::uint64_t> cumulative_counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // upper_bounds_.size() + 1 entries
  std::atomic<double> sum_{0.0};
  std::atomic<std::uint64_t> count_{0};
};

class MetricsRegistry {
 public:
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& upper_bounds, const Labels& labels = {});
  // A gauge whose value is computed when /metrics is rendered (on the rendering thread).
  void callback_gauge(const std::string& name, const std::string& help, const Labels& labels,
                      std::function<double()> read);
  // Drops one series (e.g. a replica that disconnected); references to it become invalid.
  void remove_series(const std::string& name, const Labels& labels);
  // A function render() runs first (on the rendering thread, without the registry's lock held, so
  // it may update series or create them): for figures that are cheaper to read together once per
  // scrape than one callback gauge at a time (e.g. the store's statistics).
  void add_collector(std::function<void()> collect);

  // Runs the collectors, then renders the whole registry in the Prometheus text format, families
  // sorted by name.
  std::string render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    std::string help;
    Type type;
    std::map<Labels, Series> series;
  };
  Family& family(const std::string& name, const std::string& help, Type type);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;         // guarded by mutex_
  std::vector<std::function<void()>> collectors_;  // guarded by mutex_
};

// Buckets (seconds) for fsync / commit latencies: 50 µs to 10 s.
std::vector<double> latency_buckets();

}  // namespace brelay::relay
