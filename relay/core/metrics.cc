#include "relay/core/metrics.h"

#include <cmath>

#include <fmt/format.h>

namespace brelay::relay {
namespace {

void atomic_add(std::atomic<double>& target, double amount) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + amount, std::memory_order_relaxed)) {
  }
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

std::string escape_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

std::string label_text(const Labels& labels, const std::pair<std::string, std::string>* extra = nullptr) {
  if (labels.empty() && extra == nullptr) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::string& name, const std::string& value) {
    if (!first) out += ",";
    first = false;
    out += fmt::format("{}=\"{}\"", name, escape_label(value));
  };
  for (const auto& [name, value] : labels)
    add(name, value);
  if (extra != nullptr) add(extra->first, extra->second);
  return out + "}";
}

}  // namespace

void Counter::add(double amount) {
  atomic_add(value_, amount);
}
double Counter::value() const {
  return value_.load(std::memory_order_relaxed);
}
void Gauge::add(double amount) {
  atomic_add(value_, amount);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1)) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < upper_bounds_.size() && value > upper_bounds_[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, value);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(upper_bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help,
                                                 Type type) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.help = help;
    it->second.type = type;
  }
  return it->second;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = family(name, help, Type::kCounter).series[labels];
  if (!series.counter) series.counter = std::make_unique<Counter>();
  return *series.counter;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = family(name, help, Type::kGauge).series[labels];
  if (!series.gauge) series.gauge = std::make_unique<Gauge>();
  return *series.gauge;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const std::vector<double>& upper_bounds, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = family(name, help, Type::kHistogram).series[labels];
  if (!series.histogram) series.histogram = std::make_unique<Histogram>(upper_bounds);
  return *series.histogram;
}

void MetricsRegistry::callback_gauge(const std::string& name, const std::string& help, const Labels& labels,
                                     std::function<double()> read) {
  std::lock_guard lock(mutex_);
  family(name, help, Type::kGauge).series[labels].read = std::move(read);
}

void MetricsRegistry::remove_series(const std::string& name, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  it->second.series.erase(labels);
  if (it->second.series.empty()) families_.erase(it);
}

void MetricsRegistry::add_collector(std::function<void()> collect) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string MetricsRegistry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors)
    collect();
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    const char* type = fam.type == Type::kCounter ? "counter"
                       : fam.type == Type::kGauge ? "gauge"
                                                  : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(fam.help), name, type);
    for (const auto& [labels, series] : fam.series) {
      if (series.counter) {
        out += fmt::format("{}{} {}\n", name, label_text(labels), format_value(series.counter->value()));
      } else if (series.gauge) {
        out += fmt::format("{}{} {}\n", name, label_text(labels), format_value(series.gauge->value()));
      } else if (series.read) {
        out += fmt::format("{}{} {}\n", name, label_text(labels), format_value(series.read()));
      } else if (series.histogram) {
        const Histogram& h = *series.histogram;
        const auto counts = h.cumulative_counts();
        for (std::size_t i = 0; i < counts.size(); ++i) {
          const std::pair<std::string, std::string> le{
              "le", i < h.upper_bounds().size() ? format_value(h.upper_bounds()[i]) : "+Inf"};
          out += fmt::format("{}_bucket{} {}\n", name, label_text(labels, &le), counts[i]);
        }
        out += fmt::format("{}_sum{} {}\n", name, label_text(labels), format_value(h.sum()));
        out += fmt::format("{}_count{} {}\n", name, label_text(labels), h.count());
      }
    }
  }
  return out;
}

std::vector<double> latency_buckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
}

}  // namespace brelay::relay
