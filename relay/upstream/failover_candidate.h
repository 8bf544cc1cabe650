// Failover candidates: whether the relay may continue its stored stream from another server after
// losing its source ([source] hosts, failover_after). Pure functions of what the relay has stored
// and what a candidate answers; the Upstream asks the questions (candidate_probe_query()).
//
// A candidate is accepted when it is writable (@@read_only = 0) and holds every stored transaction
// without a forked history:
//  - MariaDB: for each domain of the stored position (its last GTID d-s-n), the candidate's
//    @@gtid_binlog_state must hold server s at seq_no >= n in domain d (what the server checks
//    when a replica connects at that GTID); if its domain is at a lower seq_no it is "behind" and
//    lacks d-s-(c+1)..d-s-n. Each @@gtid_binlog_state entry d-s'-m with m at or before the stored
//    position in d but after the stored beginning of d must be a GTID the relay stored (the old
//    primary's history); otherwise it is "errant" (a write the old primary never had).
//  - MySQL: @@gtid_executed must contain the stored set ("behind" names the difference), and must
//    not hold a GTID of a stored source uuid below that uuid's last stored gno which the relay
//    never stored ("errant").
// A refusal names the GTIDs that differ. Value types; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "relay/binlog/gtid_set.h"
#include "relay/binlog/mariadb_gtid_position.h"

namespace brelay::relay {

enum class CandidateVerdict { kAccepted, kReadOnly, kBehind, kErrant, kUnreadable };

std::string_view to_string(CandidateVerdict verdict);

struct CandidateJudgement {
  CandidateVerdict verdict = CandidateVerdict::kUnreadable;
  std::string detail;  // e.g. "lacks 0-1-57..0-1-60"; "" when accepted
  // kBehind only: whether the relay holds every transaction the candidate lacks (none was purged
  // from the store), so the candidate can catch up from the relay (catch_up_advice()); and the
  // GTID state it has to reach (the relay's stored position, or its stored set for MySQL).
  bool relay_holds_missing = false;
  std::string catch_up_to;
  bool accepted() const { return verdict == CandidateVerdict::kAccepted; }
  // "behind: lacks 0-1-57..0-1-60"
  std::string describe() const;
};

// A judgement without catch-up details (unreadable answers, refusals made by the caller).
CandidateJudgement candidate_judgement(CandidateVerdict verdict, std::string detail);

// What the relay has stored, MariaDB flavour.
struct MariadbStoredState {
  binlog::MariadbGtidPosition position;  // the last stored GTID of each domain
  binlog::MariadbGtidPosition start;     // where the store begins (the first file's GTID_LIST)
  // Whether the store holds this GTID (StoreReader::seek_gtid).
  std::function<bool(const binlog::MariadbGtid&)> has;
};

// A MariaDB candidate's answers to candidate_probe_query(true).
struct MariadbCandidateAnswers {
  bool read_only = true;
  binlog::MariadbGtidPosition binlog_pos;         // @@gtid_binlog_pos
  std::vector<binlog::MariadbGtid> binlog_state;  // @@gtid_binlog_state: last GTID per (domain, server)
};

// A MySQL candidate's answers to candidate_probe_query(false).
struct MysqlCandidateAnswers {
  bool read_only = true;
  binlog::GtidSet gtid_executed;
};

CandidateJudgement judge_mariadb_candidate(const MariadbStoredState& stored,
                                           const MariadbCandidateAnswers& candidate);
// `stored`: every GTID the relay holds (the stored executed set); `purged`: the GTIDs executed before
// the store's first file (the part of `stored` the relay can no longer serve).
CandidateJudgement judge_mysql_candidate(const binlog::GtidSet& stored,
                                         const MysqlCandidateAnswers& candidate,
                                         const binlog::GtidSet& purged = {});

// The fix for a candidate refused as behind whose missing transactions the relay holds (the relay
// as the gap filler, like MHA's binlog server): replicate from the relay at relay_host:relay_port
// until the candidate's GTID state contains judgement.catch_up_to, then promote it. "" otherwise.
std::string catch_up_advice(bool mariadb, const CandidateJudgement& judgement, std::string_view relay_host,
                            std::uint16_t relay_port);

// The one-row query that asks a candidate what judge_*_candidate need.
std::string_view candidate_probe_query(bool mariadb);
// Parses the answer row (as text values; NULL as nullopt) of candidate_probe_query().
Result<MariadbCandidateAnswers> parse_mariadb_answers(const std::vector<std::optional<std::string>>& row);
Result<MysqlCandidateAnswers> parse_mysql_answers(const std::vector<std::optional<std::string>>& row);

}  // namespace brelay::relay
