// ConnectErrorTable: failed logins per client, as mysqld's host cache counts them for
// max_connect_errors. Each failure adds one to its client's count and says how long to hold the
// answer back (a delay that grows with the count: the first failures are answered at once, later
// ones wait 250 ms, 500 ms, 1 s, ... up to a cap); a client with max_errors failures in a row is
// blocked (new connections get ERR 1129) until flush() (FLUSH HOSTS); a successful login resets
// its count.
//
// A client is an address group (address_group): an IPv4 address (also seen as IPv4-mapped IPv6
// through a dual-stack listener), or an IPv6 /64, the least a site is given, so that an attacker
// rotating through the addresses of its /64 is one client.
//
// Memory is bounded: at most `capacity` clients are kept. To make room, the least recently touched
// client that is not blocked is forgotten; blocked clients are never forgotten (only FLUSH HOSTS
// forgets them). When every kept client is blocked, no new client can be counted: admits() is
// false for a client the table does not know, and the server refuses its connections (ERR 1129)
// rather than lose a block.
//
// AccountFailureBudget: failed passwords per account, whatever the address, so that rotating
// addresses cannot try one account's passwords at will. Each account has `burst` failures, given
// back one per `refill`; with none left, logins to the account are answered as for an unknown
// account (ERR 1045, no password checked), except from address groups that logged in to it before
// (a replica reconnecting from its own address is never locked out by someone else's guessing).
//
// Neither class does I/O or waits (the caller delays its answer with a timer). Not thread-safe;
// the server's loop thread owns them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace brelay::net {

// The key failed logins are counted under: "a.b.c.d" for IPv4 and IPv4-mapped IPv6, "p:q:r:s::/64"
// for other IPv6 addresses, anything else (not an IP literal) as given.
std::string address_group(std::string_view address);

class ConnectErrorTable {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  static constexpr std::uint64_t kFreeFailures = 2;  // answered without delay
  static constexpr std::chrono::milliseconds kFirstDelay{250};
  static constexpr std::chrono::milliseconds kMaxDelay{4000};

  explicit ConnectErrorTable(std::uint64_t max_errors = 100, std::size_t capacity = kDefaultCapacity)
      : max_errors_(max_errors == 0 ? 1 : max_errors), capacity_(capacity == 0 ? 1 : capacity) {}

  // True when `address`'s group has max_errors failures without a success since.
  bool blocked(std::string_view address) const;
  // False when the table is full of blocked groups and `address`'s is not among them: its
  // failures could not be counted, so its connections are refused.
  bool admits(std::string_view address) const;
  // Counts one failure; returns how long to wait before answering it.
  std::chrono::milliseconds record_failure(std::string_view address);
  // A successful login: forgets the group's failures.
  void record_success(std::string_view address);
  // FLUSH HOSTS: forgets everything. Returns how many groups were blocked.
  std::size_t flush();

  std::uint64_t errors(std::string_view address) const;
  std::size_t size() const { return entries_.size() + blocked_.size(); }
  std::size_t blocked_count() const { return blocked_.size(); }
  std::uint64_t max_errors() const { return max_errors_; }
  // The delay after the failure that brought an address to `errors`.
  static std::chrono::milliseconds delay_for(std::uint64_t errors);

 private:
  struct Entry {
    std::string group;
    std::uint64_t errors = 0;
  };
  using Order = std::list<Entry>;  // most recently touched first; not blocked

  std::uint64_t max_errors_;
  std::size_t capacity_;
  Order order_;
  std::unordered_map<std::string, Order::iterator> entries_;
  std::unordered_set<std::string> blocked_;
};

class AccountFailureBudget {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::uint64_t kDefaultBurst = 20;
  static constexpr std::chrono::milliseconds kDefaultRefill{3000};
  static constexpr std::size_t kTrustedGroups = 8;  // per account, the most recent
  static constexpr std::size_t kMaxAccounts = 4096;

  explicit AccountFailureBudget(std::uint64_t burst = kDefaultBurst,
                                std::chrono::milliseconds refill = kDefaultRefill)
      : burst_(burst == 0 ? 1 : burst),
        refill_(refill.count() <= 0 ? std::chrono::milliseconds(1) : refill) {}

  // Whether a login to `account` from `address` may have its password checked at `now`.
  bool allows(std::string_view account, std::string_view address, Clock::time_point now);
  // A wrong password for `account` (a known account).
  void record_failure(std::string_view account, Clock::time_point now);
  // A login to `account` from `address`: the group is trusted for the account from now on.
  void record_success(std::string_view account, std::string_view address);
  // FLUSH HOSTS: every account's budget back in full.
  void flush() { accounts_.clear(); }
  // Failures the account may still have at `now`.
  std::uint64_t left(std::string_view account, Clock::time_point now);

 private:
  struct State {
    std::uint64_t spent = 0;    // failures not yet given back
    Clock::time_point since{};  // when the last one was given back (or the first spent)
    std::deque<std::string> trusted;
  };
  State& state(std::string_view account);
  void give_back(State& state, Clock::time_point now) const;

  std::uint64_t burst_;
  std::chrono::milliseconds refill_;
  std::unordered_map<std::string, State> accounts_;
};

}  // namespace brelay::net
