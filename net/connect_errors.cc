#include "net/connect_errors.h"

#include <fmt/format.h>

#include <algorithm>

#include "net/ip_range.h"

namespace brelay::net {

std::string address_group(std::string_view address) {
  const std::optional<IpBytes> ip = parse_ip(address);
  if (!ip) return std::string(address);
  const IpBytes& b = *ip;
  const bool v4 = std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) &&
                  b[10] == 0xff && b[11] == 0xff;
  if (v4) return canonical_ip(address);
  auto word = [&b](int i) { return (unsigned{b[2 * i]} << 8) | b[2 * i + 1]; };
  return fmt::format("{:x}:{:x}:{:x}:{:x}::/64", word(0), word(1), word(2), word(3));
}

bool ConnectErrorTable::blocked(std::string_view address) const {
  return blocked_.contains(address_group(address));
}

bool ConnectErrorTable::admits(std::string_view address) const {
  if (!order_.empty() || size() < capacity_) return true;
  const std::string group = address_group(address);
  return blocked_.contains(group) || entries_.contains(group);
}

std::uint64_t ConnectErrorTable::errors(std::string_view address) const {
  const std::string group = address_group(address);
  if (blocked_.contains(group)) return max_errors_;
  auto it = entries_.find(group);
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
  std::string key = address_group(address);
  if (blocked_.contains(key)) return delay_for(max_errors_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    order_.splice(order_.begin(), order_, it->second);
  } else {
    if (size() >= capacity_) {
      // Every kept group is blocked: this one cannot be counted (admits() refuses it from now on).
      if (order_.empty()) return kMaxDelay;
      entries_.erase(order_.back().group);
      order_.pop_back();
    }
    order_.push_front(Entry{key, 0});
    it = entries_.emplace(std::move(key), order_.begin()).first;
  }
  Entry& entry = *it->second;
  ++entry.errors;
  const std::chrono::milliseconds delay = delay_for(entry.errors);
  if (entry.errors >= max_errors_) {
    blocked_.insert(entry.group);
    order_.erase(it->second);
    entries_.erase(it);
  }
  return delay;
}

void ConnectErrorTable::record_success(std::string_view address) {
  const std::string group = address_group(address);
  blocked_.erase(group);
  auto it = entries_.find(group);
  if (it == entries_.end()) return;
  order_.erase(it->second);
  entries_.erase(it);
}

std::size_t ConnectErrorTable::flush() {
  const std::size_t blocked = blocked_.size();
  order_.clear();
  entries_.clear();
  blocked_.clear();
  return blocked;
}

AccountFailureBudget::State& AccountFailureBudget::state(std::string_view account) {
  auto it = accounts_.find(std::string(account));
  if (it != accounts_.end()) return it->second;
  // Known accounts only are counted (the caller's rule), so this bound is a safety net.
  if (accounts_.size() >= kMaxAccounts) accounts_.erase(accounts_.begin());
  return accounts_[std::string(account)];
}

void AccountFailureBudget::give_back(State& state, Clock::time_point now) const {
  if (state.spent == 0) {
    state.since = now;
    return;
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - state.since);
  const auto returned = static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed / refill_, 0));
  if (returned == 0) return;
  state.spent = returned >= state.spent ? 0 : state.spent - returned;
  state.since += refill_ * static_cast<std::int64_t>(returned);
  if (state.spent == 0) state.since = now;
}

bool AccountFailureBudget::allows(std::string_view account, std::string_view address, Clock::time_point now) {
  auto it = accounts_.find(std::string(account));
  if (it == accounts_.end()) return true;
  State& s = it->second;
  give_back(s, now);
  if (s.spent < burst_) return true;
  const std::string group = address_group(address);
  return std::find(s.trusted.begin(), s.trusted.end(), group) != s.trusted.end();
}

void AccountFailureBudget::record_failure(std::string_view account, Clock::time_point now) {
  State& s = state(account);
  give_back(s, now);
  if (s.spent < burst_) ++s.spent;
}

void AccountFailureBudget::record_success(std::string_view account, std::string_view address) {
  State& s = state(account);
  std::string group = address_group(address);
  auto known = std::find(s.trusted.begin(), s.trusted.end(), group);
  if (known != s.trusted.end()) s.trusted.erase(known);
  s.trusted.push_front(std::move(group));
  if (s.trusted.size() > kTrustedGroups) s.trusted.pop_back();
}

std::uint64_t AccountFailureBudget::left(std::string_view account, Clock::time_point now) {
  auto it = accounts_.find(std::string(account));
  if (it == accounts_.end()) return burst_;
  give_back(it->second, now);
  return burst_ - it->second.spent;
}

}  // namespace brelay::net
