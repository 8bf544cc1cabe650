#include "relay/checks/preflight.h"

#include <algorithm>

#include <fmt/format.h>

namespace brelay::relay {

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk: return "OK";
    case Verdict::kWarn: return "WARN";
    case Verdict::kFail: return "FAIL";
  }
  return "?";
}

void Checklist::ok(std::string name, std::string finding) {
  results_.push_back({Verdict::kOk, std::move(name), std::move(finding), {}});
}
void Checklist::warn(std::string name, std::string finding, std::string advice) {
  results_.push_back({Verdict::kWarn, std::move(name), std::move(finding), std::move(advice)});
}
void Checklist::fail(std::string name, std::string finding, std::string advice) {
  results_.push_back({Verdict::kFail, std::move(name), std::move(finding), std::move(advice)});
}

std::size_t Checklist::count(Verdict verdict) const {
  return static_cast<std::size_t>(std::count_if(results_.begin(), results_.end(),
                                                [&](const CheckResult& r) { return r.verdict == verdict; }));
}

const CheckResult* Checklist::find(std::string_view name) const {
  for (const CheckResult& result : results_) {
    if (result.name == name) return &result;
  }
  return nullptr;
}

std::string Checklist::render() const {
  std::string out;
  for (const CheckResult& result : results_) {
    out += fmt::format("{:<5} {}: {}\n", verdict_name(result.verdict), result.name, result.finding);
    if (result.verdict != Verdict::kOk && !result.advice.empty())
      out += fmt::format("      -> {}\n", result.advice);
  }
  out += fmt::format("check: {} OK, {} WARN, {} FAIL{}\n", count(Verdict::kOk), count(Verdict::kWarn),
                     count(Verdict::kFail), failed() ? ": fix what FAILs before starting the relay" : "");
  return out;
}

}  // namespace brelay::relay
