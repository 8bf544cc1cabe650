// ConnectErrorTable: failed logins per client address, as mysqld's host cache counts them for
// max_connect_errors. Each failure adds one to its address's count and says how long to hold the
// answer back (a delay that grows with the count: the first failures are answered at once, later
// ones wait 250 ms, 500 ms, 1 s, ... up to a cap); an address with max_errors failures in a row is
// blocked (new connections get ERR 1129) until flush() (FLUSH HOSTS) or until its entry is evicted;
// a successful login resets its count. Addresses are taken in canonical form (canonical_ip), so an
// IPv4 client seen through a dual-stack listener is one entry.
//
// Memory is bounded: at most `capacity` addresses are kept; the least recently touched is dropped
// to make room. The table does no I/O and never waits (the caller delays its answer with a timer).
// Not thread-safe; the server's loop thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace brelay::net {

class ConnectErrorTable {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  static constexpr std::uint64_t kFreeFailures = 2;  // answered without delay
  static constexpr std::chrono::milliseconds kFirstDelay{250};
  static constexpr std::chrono::milliseconds kMaxDelay{4000};

  explicit ConnectErrorTable(std::uint64_t max_errors = 100, std::size_t capacity = kDefaultCapacity)
      : max_errors_(max_errors == 0 ? 1 : max_errors), capacity_(capacity == 0 ? 1 : capacity) {}

  // True when `address` has max_errors failures without a success since.
  bool blocked(std::string_view address) const;
  // Counts one failure; returns how long to wait before answering it.
  std::chrono::milliseconds record_failure(std::string_view address);
  // A successful login: forgets the address's failures.
  void record_success(std::string_view address);
  // FLUSH HOSTS: forgets everything. Returns how many addresses were blocked.
  std::size_t flush();

  std::uint64_t errors(std::string_view address) const;
  std::size_t size() const { return entries_.size(); }
  std::uint64_t max_errors() const { return max_errors_; }
  // The delay after the failure that brought an address to `errors`.
  static std::chrono::milliseconds delay_for(std::uint64_t errors);

 private:
  struct Entry {
    std::string address;
    std::uint64_t errors = 0;
  };
  using Order = std::list<Entry>;  // most recently touched first

  std::uint64_t max_errors_;
  std::size_t capacity_;
  Order order_;
  std::unordered_map<std::string, Order::iterator> entries_;
};

}  // namespace brelay::net
