#include "tests/support/prometheus_text.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

namespace brelay::testing {
namespace {

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' || c == ':' ||
                    (i > 0 && std::isdigit(static_cast<unsigned char>(c)) != 0);
    if (!ok) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  return valid_metric_name(name) && name.find(':') == std::string_view::npos;
}

Result<double> parse_value(std::string_view text) {
  if (text == "+Inf" || text == "Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return std::nan("");
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size())
    return make_error("'{}' is not a sample value", text);
  return value;
}

// The family a sample belongs to: its own name, or the histogram/summary it is part of.
std::string family_of(const std::string& name, const std::map<std::string, PrometheusFamily>& families) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string_view s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      auto it = families.find(base);
      if (it != families.end() && (it->second.type == "histogram" || it->second.type == "summary"))
        return base;
    }
  }
  return name;
}

Result<PrometheusSample> parse_sample(std::string_view line, std::size_t number) {
  PrometheusSample sample;
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ')
    ++i;
  sample.name = std::string(line.substr(0, i));
  if (!valid_metric_name(sample.name))
    return make_error("line {}: bad metric name '{}'", number, sample.name);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      const std::size_t eq = line.find('=', i);
      if (eq == std::string_view::npos) return make_error("line {}: label without '='", number);
      const std::string label(line.substr(i, eq - i));
      if (!valid_label_name(label)) return make_error("line {}: bad label name '{}'", number, label);
      if (eq + 1 >= line.size() || line[eq + 1] != '"')
        return make_error("line {}: unquoted label value", number);
      std::string value;
      std::size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\') {
          if (j + 1 >= line.size()) return make_error("line {}: dangling escape", number);
          const char e = line[++j];
          if (e == 'n')
            value.push_back('\n');
          else if (e == '\\' || e == '"')
            value.push_back(e);
          else
            return make_error("line {}: bad escape \\{}", number, e);
        } else {
          value.push_back(line[j]);
        }
      }
      if (j >= line.size()) return make_error("line {}: unterminated label value", number);
      if (!sample.labels.emplace(label, value).second)
        return make_error("line {}: label {} twice", number, label);
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
  }
  if (i >= line.size() || line[i] != ' ') return make_error("line {}: no value", number);
  std::string_view rest = line.substr(i + 1);
  const std::size_t space = rest.find(' ');
  if (space != std::string_view::npos) {
    const std::string_view timestamp = rest.substr(space + 1);
    if (timestamp.empty() || timestamp.find_first_not_of("-0123456789") != std::string_view::npos)
      return make_error("line {}: bad timestamp", number);
    rest = rest.substr(0, space);
  }
  BRELAY_ASSIGN_OR_RETURN(sample.value, parse_value(rest));
  return sample;
}

Status check_histograms(const PrometheusScrape& scrape) {
  for (const auto& [name, family] : scrape.families) {
    if (family.type != "histogram") continue;
    // Series by their labels without `le`.
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts;
    for (const PrometheusSample& sample : scrape.samples) {
      if (sample.name == name + "_bucket") {
        auto labels = sample.labels;
        auto le = labels.find("le");
        if (le == labels.end()) return make_error("{}: a bucket without le", name);
        BRELAY_ASSIGN_OR_RETURN(double bound, parse_value(le->second));
        labels.erase(le);
        buckets[labels].emplace_back(bound, sample.value);
      } else if (sample.name == name + "_count") {
        counts[sample.labels] = sample.value;
      }
    }
    if (buckets.empty()) return make_error("{}: a histogram without buckets", name);
    for (const auto& [labels, series] : buckets) {
      for (std::size_t k = 1; k < series.size(); ++k) {
        if (!(series[k].first > series[k - 1].first)) return make_error("{}: le not ascending", name);
        if (series[k].second < series[k - 1].second) return make_error("{}: buckets not cumulative", name);
      }
      if (!std::isinf(series.back().first)) return make_error("{}: no +Inf bucket", name);
      auto count = counts.find(labels);
      if (count == counts.end() || count->second != series.back().second)
        return make_error("{}: _count differs from the +Inf bucket", name);
    }
  }
  return {};
}

}  // namespace

std::optional<double> PrometheusScrape::value(const std::string& name,
                                              const std::map<std::string, std::string>& labels) const {
  for (const PrometheusSample& sample : samples) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  return std::nullopt;
}

Result<PrometheusScrape> parse_prometheus_text(std::string_view text) {
  PrometheusScrape scrape;
  if (!text.empty() && text.back() != '\n') return make_error("the text does not end with a newline");
  std::set<std::string> finished;  // families whose samples are over
  std::string current;
  std::size_t number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (line.empty()) continue;
    if (line.front() == '#') {
      if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
        const std::string_view rest = line.substr(7);
        const std::size_t space = rest.find(' ');
        const std::string name(rest.substr(0, space));
        if (!valid_metric_name(name)) return make_error("line {}: bad metric name '{}'", number, name);
        const std::string value = space == std::string_view::npos ? "" : std::string(rest.substr(space + 1));
        if (name != current) {
          if (!current.empty()) finished.insert(current);
          if (finished.contains(name)) return make_error("line {}: family {} split in two", number, name);
          current = name;
        }
        PrometheusFamily& family = scrape.families[name];
        if (line[2] == 'T') {
          static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
          if (!kTypes.contains(value)) return make_error("line {}: unknown type '{}'", number, value);
          if (!family.type.empty()) return make_error("line {}: second TYPE for {}", number, name);
          family.type = value;
        } else {
          family.help = value;
        }
      }
      continue;
    }
    BRELAY_ASSIGN_OR_RETURN(PrometheusSample sample, parse_sample(line, number));
    const std::string family = family_of(sample.name, scrape.families);
    if (family != current) {
      if (!current.empty()) finished.insert(current);
      if (finished.contains(family)) return make_error("line {}: family {} split in two", number, family);
      current = family;
    }
    auto it = scrape.families.find(family);
    if (it == scrape.families.end() || it->second.type.empty())
      return make_error("line {}: sample {} before its TYPE line", number, sample.name);
    scrape.samples.push_back(std::move(sample));
  }
  BRELAY_TRY(check_histograms(scrape));
  return scrape;
}

}  // namespace brelay::testing
