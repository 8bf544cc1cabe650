// Which server the relay may continue from after losing its source: writable, holding every
// stored GTID, without errant ones; refusals name the GTIDs that differ.
#include "relay/upstream/failover_candidate.h"

#include <set>

#include <gtest/gtest.h>

namespace brelay::relay {
namespace {

using binlog::MariadbGtid;
using binlog::MariadbGtidPosition;

MariadbGtidPosition position(std::string_view text) {
  return MariadbGtidPosition::parse(text).value();
}

// The relay stored 0-1-11..0-1-60 (its first file starts after 0-1-10).
MariadbStoredState stored_from_primary_1() {
  MariadbStoredState stored;
  stored.position = position("0-1-60");
  stored.start = position("0-1-10");
  stored.has = [](const MariadbGtid& gtid) {
    return gtid.domain_id == 0 && gtid.server_id == 1 && gtid.seq_no > 10 && gtid.seq_no <= 60;
  };
  return stored;
}

MariadbCandidateAnswers answers(bool read_only, std::string_view pos, std::vector<std::string> state) {
  MariadbCandidateAnswers a;
  a.read_only = read_only;
  a.binlog_pos = position(pos);
  for (const std::string& gtid : state)
    a.binlog_state.push_back(MariadbGtid::parse(gtid).value());
  return a;
}

TEST(FailoverCandidate, MariadbPromotedStandbyThatHoldsEverythingIsAccepted) {
  const auto stored = stored_from_primary_1();
  // Replicated up to 0-1-60 with log_slave_updates, then promoted and written to.
  EXPECT_TRUE(judge_mariadb_candidate(stored, answers(false, "0-1-60", {"0-1-60"})).accepted());
  EXPECT_TRUE(judge_mariadb_candidate(stored, answers(false, "0-2-64", {"0-1-62", "0-2-64"})).accepted())
      << "it received more of the old primary than the relay did, then wrote its own";
  // An old server of the domain from before the store's beginning is no errant transaction.
  EXPECT_TRUE(judge_mariadb_candidate(stored, answers(false, "0-1-60", {"0-3-5", "0-1-60"})).accepted());
}

TEST(FailoverCandidate, MariadbReadOnlyCandidateIsRefused) {
  const auto judgement =
      judge_mariadb_candidate(stored_from_primary_1(), answers(true, "0-1-60", {"0-1-60"}));
  EXPECT_EQ(judgement.verdict, CandidateVerdict::kReadOnly);
}

TEST(FailoverCandidate, MariadbCandidateBehindTheStoreIsRefusedNamingTheMissingGtids) {
  const auto judgement =
      judge_mariadb_candidate(stored_from_primary_1(), answers(false, "0-1-56", {"0-1-56"}));
  EXPECT_EQ(judgement.verdict, CandidateVerdict::kBehind);
  EXPECT_EQ(judgement.describe(), "behind: lacks 0-1-57..0-1-60");
  const auto empty = judge_mariadb_candidate(stored_from_primary_1(), answers(false, "", {}));
  EXPECT_EQ(empty.describe(), "behind: lacks 0-1-1..0-1-60");
  MariadbStoredState two_domains = stored_from_primary_1();
  two_domains.position = position("0-1-60,1-1-7");
  const auto second = judge_mariadb_candidate(two_domains, answers(false, "0-1-60", {"0-1-60"}));
  EXPECT_EQ(second.describe(), "behind: lacks 1-1-1..1-1-7");
}

TEST(FailoverCandidate, MariadbErrantTransactionBeforeTheRelaysPositionIsRefused) {
  // A write made on the standby (server 2) at seq 41, then the primary's 0-1-41.. applied on top.
  const auto judgement =
      judge_mariadb_candidate(stored_from_primary_1(), answers(false, "0-1-60", {"0-2-41", "0-1-60"}));
  EXPECT_EQ(judgement.verdict, CandidateVerdict::kErrant);
  EXPECT_EQ(judgement.describe(), "errant: has 0-2-41, which the relay never received");
}

TEST(FailoverCandidate, MariadbForkedHistoryAtTheSameSeqNoIsErrant) {
  // The candidate's 58..60 came from server 2, the relay's from server 1.
  const auto judgement =
      judge_mariadb_candidate(stored_from_primary_1(), answers(false, "0-2-60", {"0-1-57", "0-2-60"}));
  EXPECT_EQ(judgement.verdict, CandidateVerdict::kErrant);
  EXPECT_NE(judgement.detail.find("0-2-60"), std::string::npos) << judgement.detail;
}

TEST(FailoverCandidate, MariadbServerThatWasPrimaryBeforeAndStoredIsNotErrant) {
  MariadbStoredState stored = stored_from_primary_1();
  std::set<MariadbGtid> held = {MariadbGtid{0, 2, 30}};
  stored.has = [held](const MariadbGtid& gtid) {
    return held.contains(gtid) || (gtid.server_id == 1 && gtid.seq_no > 30 && gtid.seq_no <= 60);
  };
  EXPECT_TRUE(judge_mariadb_candidate(stored, answers(false, "0-1-60", {"0-2-30", "0-1-60"})).accepted());
}

binlog::GtidSet gtid_set(std::string_view text) {
  return binlog::GtidSet::parse(text).value();
}

constexpr std::string_view kA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
constexpr std::string_view kB = "4a1f3f2b-71ca-11e1-9e33-c80aa9429562";

TEST(FailoverCandidate, MysqlCandidates) {
  const auto stored = gtid_set(fmt::format("{}:1-60", kA));
  MysqlCandidateAnswers candidate;
  candidate.read_only = false;
  candidate.gtid_executed = gtid_set(fmt::format("{}:1-62,{}:1-3", kA, kB));
  EXPECT_TRUE(judge_mysql_candidate(stored, candidate).accepted());

  candidate.gtid_executed = gtid_set(fmt::format("{}:1-56", kA));
  EXPECT_EQ(judge_mysql_candidate(stored, candidate).describe(), fmt::format("behind: lacks {}:57-60", kA));

  const auto with_hole = gtid_set(fmt::format("{}:1-40:45-60", kA));
  candidate.gtid_executed = gtid_set(fmt::format("{}:1-60", kA));
  EXPECT_EQ(judge_mysql_candidate(with_hole, candidate).describe(),
            fmt::format("errant: has {}:41-44, which the relay never received", kA));

  candidate.gtid_executed = stored;
  candidate.read_only = true;
  EXPECT_EQ(judge_mysql_candidate(stored, candidate).verdict, CandidateVerdict::kReadOnly);
}

TEST(FailoverCandidate, BehindCandidateTheRelayCanFillGetsTheCatchUpFix) {
  // The standby lacks 0-1-57..60, all stored (the store begins after 0-1-10).
  const auto fillable = judge_mariadb_candidate(stored_from_primary_1(), answers(true, "0-1-56", {"0-1-56"}));
  EXPECT_EQ(fillable.verdict, CandidateVerdict::kBehind);
  EXPECT_TRUE(fillable.relay_holds_missing);
  EXPECT_EQ(fillable.catch_up_to, "0-1-60");
  const std::string advice = catch_up_advice(true, fillable, "10.0.0.5", 3307);
  EXPECT_NE(advice.find("CHANGE MASTER TO MASTER_HOST='10.0.0.5', MASTER_PORT=3307"), std::string::npos)
      << advice;
  EXPECT_NE(advice.find("MASTER_USE_GTID=slave_pos; START SLAVE; until @@gtid_slave_pos contains 0-1-60"),
            std::string::npos)
      << advice;
  EXPECT_NE(advice.find("RESET SLAVE ALL"), std::string::npos) << advice;
  // It lacks 0-1-6..60, but the relay's store begins after 0-1-10: the relay cannot fill the gap.
  const auto purged = judge_mariadb_candidate(stored_from_primary_1(), answers(true, "0-1-5", {"0-1-5"}));
  EXPECT_EQ(purged.verdict, CandidateVerdict::kBehind);
  EXPECT_FALSE(purged.relay_holds_missing);
  EXPECT_EQ(catch_up_advice(true, purged, "10.0.0.5", 3307), "");
  // Not behind: no advice.
  const auto errant =
      judge_mariadb_candidate(stored_from_primary_1(), answers(false, "0-1-60", {"0-2-41", "0-1-60"}));
  EXPECT_EQ(catch_up_advice(true, errant, "10.0.0.5", 3307), "");

  const auto stored = gtid_set(fmt::format("{}:1-60", kA));
  MysqlCandidateAnswers candidate;
  candidate.read_only = true;
  candidate.gtid_executed = gtid_set(fmt::format("{}:1-56", kA));
  const auto mysql = judge_mysql_candidate(stored, candidate, gtid_set(fmt::format("{}:1-10", kA)));
  EXPECT_TRUE(mysql.relay_holds_missing);
  EXPECT_NE(catch_up_advice(false, mysql, "relay", 3306).find("MASTER_AUTO_POSITION=1"), std::string::npos);
  const auto mysql_purged = judge_mysql_candidate(stored, candidate, gtid_set(fmt::format("{}:1-58", kA)));
  EXPECT_FALSE(mysql_purged.relay_holds_missing);
}

TEST(FailoverCandidate, ParsesTheProbeAnswers) {
  const auto mariadb = parse_mariadb_answers({"0", "0-2-64", "0-1-62,0-2-64"});
  ASSERT_TRUE(mariadb.ok()) << mariadb.error().message();
  EXPECT_FALSE(mariadb->read_only);
  EXPECT_EQ(mariadb->binlog_state.size(), 2U);
  EXPECT_EQ(mariadb->binlog_pos.to_string(), "0-2-64");
  EXPECT_TRUE(parse_mariadb_answers({"1", "", ""})->read_only);
  EXPECT_FALSE(parse_mariadb_answers({"1", "x", ""}).ok());
  EXPECT_FALSE(parse_mariadb_answers({std::nullopt, "", ""}).ok());
  EXPECT_FALSE(parse_mariadb_answers({"0", ""}).ok());
  const auto mysql = parse_mysql_answers({"0", fmt::format("{}:1-5,\n{}:1-2", kA, kB)});
  ASSERT_TRUE(mysql.ok()) << mysql.error().message();
  EXPECT_EQ(mysql->gtid_executed.count(), 7U);
}

}  // namespace
}  // namespace brelay::relay
