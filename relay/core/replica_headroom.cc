#include "relay/core/replica_headroom.h"

#include <algorithm>
#include <limits>

namespace brelay::relay {
namespace {

constexpr double kInfinite = std::numeric_limits<double>::infinity();

double seconds_at_rate(double bytes, double rate) {
  if (bytes <= 0) return 0;
  return rate > 0 ? bytes / rate : kInfinite;
}

}  // namespace

double store_write_rate(const std::vector<storage::FileInfo>& files) {
  if (files.empty()) return 0;
  std::uint64_t bytes = 0;
  for (const storage::FileInfo& file : files)
    bytes += file.stored_bytes();
  const std::int64_t span = files.back().last_write_time - files.front().created_time;
  if (span <= 0 || bytes == 0) return 0;
  return static_cast<double>(bytes) / static_cast<double>(span);
}

double retention_headroom_seconds(const HeadroomInputs& inputs) {
  const std::vector<storage::FileInfo>& files = *inputs.files;
  auto at = std::find_if(files.begin(), files.end(),
                         [&](const storage::FileInfo& file) { return file.name == inputs.file; });
  if (at == files.end()) return 0;
  const double rate = store_write_rate(files);

  double by_policy = kInfinite;
  if (inputs.max_age_seconds > 0) {
    by_policy = std::min(by_policy, static_cast<double>(std::max<std::int64_t>(
                                        0, at->last_write_time + inputs.max_age_seconds - inputs.now)));
  }
  if (inputs.max_total_bytes > 0) {
    std::uint64_t from_file = 0;
    for (auto it = at; it != files.end(); ++it)
      from_file += it->stored_bytes();
    const double room = static_cast<double>(inputs.max_total_bytes) - static_cast<double>(from_file);
    by_policy = std::min(by_policy, seconds_at_rate(room, rate));
  }

  double protection = 0;
  if (inputs.protect_replicas) {
    protection = inputs.connected ? kInfinite
                                  : static_cast<double>(std::max<std::int64_t>(
                                        0, inputs.last_seen + inputs.grace_seconds - inputs.now));
  }
  const double by_retention = std::max(protection, by_policy);
  const double by_disk = seconds_at_rate(
      static_cast<double>(inputs.free_bytes) - static_cast<double>(inputs.guard_free_bytes), rate);
  return std::max(0.0, std::min(by_retention, by_disk));
}

}  // namespace brelay::relay
