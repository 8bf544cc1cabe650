// The preflight checklist of `binlog-relay check`: one line per requirement with a verdict (OK,
// WARN, FAIL), what was found, and for WARN and FAIL what to do. The checks themselves live in
// source_checks.h (the source, over SQL) and local_checks.h (the relay's own host and files).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace brelay::relay {

enum class Verdict { kOk, kWarn, kFail };

struct CheckResult {
  Verdict verdict = Verdict::kOk;
  std::string name;     // "binlog_format", "privileges", ...
  std::string finding;  // what was found
  std::string advice;   // what to do (WARN and FAIL)
};

class Checklist {
 public:
  void ok(std::string name, std::string finding);
  void warn(std::string name, std::string finding, std::string advice);
  void fail(std::string name, std::string finding, std::string advice);

  const std::vector<CheckResult>& results() const { return results_; }
  std::size_t count(Verdict verdict) const;
  bool failed() const { return count(Verdict::kFail) > 0; }
  // The result named `name`, or nullptr.
  const CheckResult* find(std::string_view name) const;

  // "OK    name: finding" lines, "      -> advice" under WARN and FAIL, and a summary line.
  std::string render() const;

 private:
  std::vector<CheckResult> results_;
};

std::string_view verdict_name(Verdict verdict);

}  // namespace brelay::relay
