// MariaDB GTIDs "domain-server-seq" and GTID positions: one GTID per replication domain, as in
// @slave_connect_state, @@gtid_binlog_pos, @@gtid_slave_pos ("0-1-100,1-2-5"). Value types; const
// methods may be shared between threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace brelay::binlog {

struct MariadbGtid {
  std::uint32_t domain_id = 0;
  std::uint32_t server_id = 0;
  std::uint64_t seq_no = 0;

  // "d-s-n"
  static Result<MariadbGtid> parse(std::string_view text);
  std::string to_string() const;
  friend auto operator<=>(const MariadbGtid&, const MariadbGtid&) = default;
  friend bool operator==(const MariadbGtid&, const MariadbGtid&) = default;
};

// "d-s-n,d-s-n" for a list (GTID_LIST order kept).
std::string to_string(const std::vector<MariadbGtid>& gtids);

class MariadbGtidPosition {
 public:
  MariadbGtidPosition() = default;

  // Parses "d-s-n,d-s-n" (whitespace allowed, "" = empty). Two GTIDs of one domain are an error,
  // as on the server ("duplicate domain id").
  static Result<MariadbGtidPosition> parse(std::string_view text);
  // The last GTID of each domain in a GTID_LIST (its position in binlog order).
  static MariadbGtidPosition from_list(const std::vector<MariadbGtid>& gtids);

  // Sorted by domain, joined by ",", like @@gtid_binlog_pos.
  std::string to_string() const;
  bool empty() const { return by_domain_.empty(); }
  std::size_t size() const { return by_domain_.size(); }

  // The GTID of `domain_id`, or nullptr.
  const MariadbGtid* find(std::uint32_t domain_id) const;
  // Records `gtid` as the domain's position (what the binlog or a replica has reached).
  void update(const MariadbGtid& gtid);
  // True when the position has already passed `gtid`: same domain with seq_no >= gtid's. A replica
  // at this position skips such an event group.
  bool has_reached(const MariadbGtid& gtid) const;

  // True when this position has reached every domain of `other` (a replica at `other` has nothing
  // this position lacks).
  bool includes(const MariadbGtidPosition& other) const;
  // Takes, domain by domain, the further of the two GTIDs (by seq_no).
  void merge(const MariadbGtidPosition& other);

  // Whether a replica connecting at this position may start reading at the beginning of a file
  // whose GTID_LIST is `file_gtid_list` (MariaDB sql_repl.cc contains_all_slave_gtid): every
  // domain of the list must be in the position, and not behind the list's GTID of the same
  // server, except when it equals the last GTID of that domain in the list.
  bool can_start_in_file(const std::vector<MariadbGtid>& file_gtid_list) const;

  const std::map<std::uint32_t, MariadbGtid>& gtids() const { return by_domain_; }
  friend bool operator==(const MariadbGtidPosition&, const MariadbGtidPosition&) = default;

 private:
  std::map<std::uint32_t, MariadbGtid> by_domain_;
};

}  // namespace brelay::binlog
