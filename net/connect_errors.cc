#include "net/connect_errors.h"

#include "net/ip_range.h"

namespace brelay::net {

bool ConnectErrorTable::blocked(std::string_view address) const {
  return errors(address) >= max_errors_;
}

std::uint64_t ConnectErrorTable::errors(std::string_view address) const {
  auto it = entries_.find(canonical_ip(address));
  return it == entries_.end() ? 0 : it->second->errors;
}

std::chrono::milliseconds ConnectErrorTable::delay_for(std::uint64_t errors) {
  if (errors <= kFreeFailures) return std::chrono::milliseconds(0);
  const std::uint64_t doublings = errors - kFreeFailures - 1;
  if (doublings >= 16) return kMaxDelay;
  const auto delay = kFirstDelay * (std::int64_t{1} << doublings);
  return delay > kMaxDelay ? kMaxDelay : delay;
}

std::chrono::milliseconds ConnectErrorTable::record_failure(std::string_view address) {
  std::string key = canonical_ip(address);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    order_.splice(order_.begin(), order_, it->second);
  } else {
    if (entries_.size() >= capacity_) {
      entries_.erase(order_.back().address);
      order_.pop_back();
    }
    order_.push_front(Entry{key, 0});
    it = entries_.emplace(std::move(key), order_.begin()).first;
  }
  Entry& entry = *it->second;
  if (entry.errors < max_errors_) ++entry.errors;
  return delay_for(entry.errors);
}

void ConnectErrorTable::record_success(std::string_view address) {
  auto it = entries_.find(canonical_ip(address));
  if (it == entries_.end()) return;
  order_.erase(it->second);
  entries_.erase(it);
}

std::size_t ConnectErrorTable::flush() {
  std::size_t blocked = 0;
  for (const Entry& entry : order_)
    if (entry.errors >= max_errors_) ++blocked;
  order_.clear();
  entries_.clear();
  return blocked;
}

}  // namespace brelay::net
