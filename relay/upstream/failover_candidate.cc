#include "relay/upstream/failover_candidate.h"

#include <algorithm>

#include <fmt/format.h>

namespace brelay::relay {

CandidateJudgement candidate_judgement(CandidateVerdict verdict, std::string detail) {
  CandidateJudgement made;
  made.verdict = verdict;
  made.detail = std::move(detail);
  return made;
}

namespace {

CandidateJudgement judgement(CandidateVerdict verdict, std::string detail) {
  return candidate_judgement(verdict, std::move(detail));
}

void append(std::string& out, std::string_view text) {
  if (!out.empty()) out += ", ";
  out += text;
}

// "d-s-a..d-s-b", or "d-s-a" for one GTID.
std::string gtid_range(std::uint32_t domain, std::uint32_t server, std::uint64_t first, std::uint64_t last) {
  if (first == last) return fmt::format("{}-{}-{}", domain, server, first);
  return fmt::format("{}-{}-{}..{}-{}-{}", domain, server, first, domain, server, last);
}

// The candidate's last GTID of (domain, server) in @@gtid_binlog_state, or nullptr.
const binlog::MariadbGtid* state_entry(const MariadbCandidateAnswers& candidate, std::uint32_t domain,
                                       std::uint32_t server) {
  for (const binlog::MariadbGtid& gtid : candidate.binlog_state) {
    if (gtid.domain_id == domain && gtid.server_id == server) return &gtid;
  }
  return nullptr;
}

// GTIDs the candidate lacks: each stored domain's last GTID must be in its binlog state. Clears
// `relay_holds` when a lacked GTID is before the store's beginning (purged from the relay).
std::string mariadb_missing(const MariadbStoredState& stored, const MariadbCandidateAnswers& candidate,
                            std::string& diverged, bool& relay_holds) {
  std::string missing;
  for (const auto& [domain, last] : stored.position.gtids()) {
    const binlog::MariadbGtid* reached = candidate.binlog_pos.find(domain);
    const binlog::MariadbGtid* own = state_entry(candidate, domain, last.server_id);
    if (own != nullptr && own->seq_no >= last.seq_no) continue;
    const std::uint64_t candidate_seq = reached != nullptr ? reached->seq_no : 0;
    if (candidate_seq < last.seq_no) {
      const binlog::MariadbGtid* start = stored.start.find(domain);
      if (start != nullptr && candidate_seq < start->seq_no) relay_holds = false;
      append(missing, gtid_range(domain, last.server_id, candidate_seq + 1, last.seq_no));
    } else {
      // The domain went as far, but not through the stored GTID: another history.
      append(diverged, fmt::format("lacks {} but has {}", last.to_string(), reached->to_string()));
    }
  }
  return missing;
}

}  // namespace

std::string_view to_string(CandidateVerdict verdict) {
  switch (verdict) {
    case CandidateVerdict::kAccepted: return "accepted";
    case CandidateVerdict::kReadOnly: return "read_only";
    case CandidateVerdict::kBehind: return "behind";
    case CandidateVerdict::kErrant: return "errant";
    case CandidateVerdict::kUnreadable: return "unreadable";
  }
  return "unknown";
}

std::string CandidateJudgement::describe() const {
  if (detail.empty()) return std::string(to_string(verdict));
  return fmt::format("{}: {}", to_string(verdict), detail);
}

CandidateJudgement judge_mariadb_candidate(const MariadbStoredState& stored,
                                           const MariadbCandidateAnswers& candidate) {
  std::string errant;
  bool relay_holds = true;
  const std::string missing = mariadb_missing(stored, candidate, errant, relay_holds);
  for (const binlog::MariadbGtid& gtid : candidate.binlog_state) {
    const binlog::MariadbGtid* last = stored.position.find(gtid.domain_id);
    if (last == nullptr || gtid.seq_no > last->seq_no) continue;  // a new domain, or after the relay
    const binlog::MariadbGtid* start = stored.start.find(gtid.domain_id);
    if (start != nullptr && gtid.seq_no <= start->seq_no) continue;  // before the store: unknown
    if (gtid.server_id == last->server_id && gtid.seq_no == last->seq_no) continue;
    if (stored.has && stored.has(gtid)) continue;
    append(errant, fmt::format("has {}, which the relay never received", gtid.to_string()));
  }
  if (!errant.empty()) return judgement(CandidateVerdict::kErrant, errant);
  if (!missing.empty()) {
    CandidateJudgement behind = judgement(CandidateVerdict::kBehind, "lacks " + missing);
    behind.relay_holds_missing = relay_holds;
    behind.catch_up_to = stored.position.to_string();
    return behind;
  }
  if (candidate.read_only) return judgement(CandidateVerdict::kReadOnly, "@@read_only = 1");
  return judgement(CandidateVerdict::kAccepted, "");
}

CandidateJudgement judge_mysql_candidate(const binlog::GtidSet& stored,
                                         const MysqlCandidateAnswers& candidate,
                                         const binlog::GtidSet& purged) {
  const binlog::GtidSet missing = binlog::GtidSet::difference(stored, candidate.gtid_executed);
  // GTIDs of a stored source below its last stored gno that the relay never stored: holes the
  // old primary never filled (written on the candidate, or on its own source, not through the stream).
  binlog::GtidSet errant;
  const binlog::GtidSet extra = binlog::GtidSet::difference(candidate.gtid_executed, stored);
  for (const auto& [source, intervals] : extra.intervals()) {
    const std::int64_t last = stored.last_gno(source);
    for (const binlog::GtidSet::Interval& interval : intervals) {
      if (last == 0 || interval.start > last) continue;
      errant.add_interval(source, interval.start, std::min(interval.end, last + 1));
    }
  }
  if (!errant.empty()) {
    return judgement(CandidateVerdict::kErrant,
                     fmt::format("has {}, which the relay never received", errant.to_single_line()));
  }
  if (!missing.empty()) {
    CandidateJudgement behind = judgement(CandidateVerdict::kBehind, "lacks " + missing.to_single_line());
    behind.relay_holds_missing = binlog::GtidSet::intersection(missing, purged).empty();
    behind.catch_up_to = stored.to_single_line();
    return behind;
  }
  if (candidate.read_only) return judgement(CandidateVerdict::kReadOnly, "@@read_only = 1");
  return judgement(CandidateVerdict::kAccepted, "");
}

std::string catch_up_advice(bool mariadb, const CandidateJudgement& judgement, std::string_view relay_host,
                            std::uint16_t relay_port) {
  if (judgement.verdict != CandidateVerdict::kBehind || !judgement.relay_holds_missing) return "";
  return fmt::format(
      "the relay holds every transaction it lacks: let it catch up from the relay first (on the "
      "candidate: STOP SLAVE; CHANGE MASTER TO MASTER_HOST='{}', MASTER_PORT={}, MASTER_USER='<a relay "
      "user with REPLICATION SLAVE>', MASTER_PASSWORD='...', {}; START SLAVE; until {} contains {}), "
      "then promote it (STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0) and the relay continues "
      "from it",
      relay_host, relay_port, mariadb ? "MASTER_USE_GTID=slave_pos" : "MASTER_AUTO_POSITION=1",
      mariadb ? "@@gtid_slave_pos" : "@@gtid_executed", judgement.catch_up_to);
}

std::string_view candidate_probe_query(bool mariadb) {
  if (mariadb) return "SELECT @@global.read_only, @@global.gtid_binlog_pos, @@global.gtid_binlog_state";
  return "SELECT @@global.read_only, @@global.gtid_executed";
}

namespace {

Result<bool> parse_read_only(const std::optional<std::string>& value) {
  if (!value) return make_error("the candidate answered NULL for @@read_only");
  if (*value == "0" || *value == "OFF") return false;
  if (*value == "1" || *value == "ON") return true;
  return make_error("the candidate answered '{}' for @@read_only", *value);
}

}  // namespace

Result<MariadbCandidateAnswers> parse_mariadb_answers(const std::vector<std::optional<std::string>>& row) {
  if (row.size() != 3) return make_error("the candidate answered {} values, expected 3", row.size());
  MariadbCandidateAnswers answers;
  BRELAY_ASSIGN_OR_RETURN(answers.read_only, parse_read_only(row[0]));
  BRELAY_ASSIGN_OR_RETURN(answers.binlog_pos, binlog::MariadbGtidPosition::parse(row[1].value_or("")));
  const std::string state = row[2].value_or("");
  std::string_view rest = state;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item.find_first_not_of(" \t\r\n") == std::string_view::npos) continue;
    BRELAY_ASSIGN_OR_RETURN(const binlog::MariadbGtid gtid, binlog::MariadbGtid::parse(item));
    answers.binlog_state.push_back(gtid);
  }
  return answers;
}

Result<MysqlCandidateAnswers> parse_mysql_answers(const std::vector<std::optional<std::string>>& row) {
  if (row.size() != 2) return make_error("the candidate answered {} values, expected 2", row.size());
  MysqlCandidateAnswers answers;
  BRELAY_ASSIGN_OR_RETURN(answers.read_only, parse_read_only(row[0]));
  BRELAY_ASSIGN_OR_RETURN(answers.gtid_executed, binlog::GtidSet::parse(row[1].value_or("")));
  return answers;
}

}  // namespace brelay::relay
