// MySQL GTID sets ("uuid:1-5:7,uuid2[:tag]:1-3"): what @@gtid_executed and @@gtid_purged hold,
// what a PREVIOUS_GTIDS event carries and what a replica sends with COM_BINLOG_DUMP_GTID.
//
// Text: parse() accepts what the server accepts (whitespace, any case, unsorted, overlapping);
// to_string() prints the server's canonical form: uuids lower-case and sorted, a uuid's untagged
// intervals first then each tag's ("uuid:1-5:tag:1-3"), intervals merged, sets joined by ",\n"
// like SELECT @@gtid_executed (to_single_line() joins by ",").
// Binary (sql/rpl_gtid_set.cc encode / add_gtid_encoding): u64 n_sids; per sid a 16-byte uuid,
// [a tag: varlen length + characters, tagged format only], u64 n_intervals, then (i64 start,
// i64 end exclusive) pairs. The tagged format marks the first u64 with format byte 1 in its top and
// bottom bytes and keeps n_sids in bits 8-55. decode() applies the server's rejection rules.
//
// A value type; not thread-safe for concurrent mutation, const methods may be shared.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/gtid.h"

namespace brelay::binlog {

class GtidSet {
 public:
  // [start, end): end exclusive, as in the binary encoding.
  struct Interval {
    std::int64_t start = 0;
    std::int64_t end = 0;
    friend bool operator==(const Interval&, const Interval&) = default;
  };
  using Intervals = std::vector<Interval>;  // sorted, disjoint, not adjacent

  GtidSet() = default;

  static Result<GtidSet> parse(std::string_view text);
  // Decodes a whole encoding (trailing bytes are an error, as in the server).
  static Result<GtidSet> decode(ByteView encoded);

  // The tagged format is used only when the set holds a tagged GTID, as the server does.
  Bytes encode() const;
  std::string to_string() const { return to_string(",\n"); }
  std::string to_single_line() const { return to_string(","); }
  std::string to_string(std::string_view separator) const;

  bool empty() const { return sets_.empty(); }
  bool contains(const Gtid& gtid) const;
  bool contains(const Tsid& source, std::int64_t gno) const;
  // Every GTID of this set is in `other`.
  bool is_subset_of(const GtidSet& other) const;
  bool intersects(const GtidSet& other) const;
  // Number of GTIDs (saturates at UINT64_MAX).
  std::uint64_t count() const;

  // Adds gno (1..kMaxGno) of `source`.
  void add(const Gtid& gtid);
  // Adds [start, end) of `source`; requires 1 <= start < end <= kMaxGno + 1.
  void add_interval(const Tsid& source, std::int64_t start, std::int64_t end);
  // Union, in place.
  void add(const GtidSet& other);
  // Difference, in place.
  void remove(const GtidSet& other);
  void clear() { sets_.clear(); }

  static GtidSet union_of(const GtidSet& a, const GtidSet& b);
  static GtidSet difference(const GtidSet& a, const GtidSet& b);
  static GtidSet intersection(const GtidSet& a, const GtidSet& b);

  const std::map<Tsid, Intervals>& intervals() const { return sets_; }
  // The intervals of one source (nullptr if none).
  const Intervals* find(const Tsid& source) const;
  // The largest gno of `source` in the set, or 0.
  std::int64_t last_gno(const Tsid& source) const;

  friend bool operator==(const GtidSet&, const GtidSet&) = default;

 private:
  std::map<Tsid, Intervals> sets_;  // no empty vectors
};

}  // namespace brelay::binlog
