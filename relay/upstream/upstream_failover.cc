// Upstream's failover ([source] hosts): which server to continue from once the current source has
// been gone for failover_after (upstream.h). A candidate refused as behind whose missing transactions
// the relay holds gets the catch-up advice (the relay as the gap filler, catch_up_advice()); the
// server switched to is kept in relay_meta so that a restarted relay starts with it.
#include <spdlog/spdlog.h>
#include <uv.h>

#include "relay/core/stored_gtids.h"
#include "relay/upstream/upstream.h"
#include "relay/upstream/upstream_connection.h"
#include "storage/store_reader.h"

namespace brelay::relay {
namespace {

// The row of a one-row answer as text values.
std::vector<std::optional<std::string>> first_row(const net::QueryResult& reply) {
  if (!reply.has_rows || reply.result_set.rows.empty()) return {};
  return reply.result_set.rows.front();
}

// Whether the store holds the transaction `gtid` (its index knows the GTID).
bool store_has(storage::BinlogStore& store, const binlog::MariadbGtid& gtid) {
  auto reader = storage::StoreReader::open(store);
  if (!reader) return false;
  binlog::TransactionGtid transaction;
  transaction.kind = binlog::TransactionGtid::Kind::kMariadb;
  transaction.mariadb = gtid;
  return static_cast<bool>(reader->seek_gtid(gtid_key(transaction)));
}

// Where the store begins: the oldest file's previous GTIDs (GTIDs at or before it are not checked).
PreviousGtids stored_start(storage::BinlogStore& store) {
  auto blob = store.purged_gtid_set();
  if (!blob) return {};
  auto previous = decode_previous_gtids(*blob);
  if (!previous) return {};
  return *previous;
}

// The host replicas reach the relay at, for the catch-up advice: [server] listen, unless it is a
// wildcard address.
std::string advertised_host(const net::HostPort& listen) {
  if (listen.host.empty() || listen.host == "0.0.0.0" || listen.host == "::") return "<this relay's address>";
  return listen.host;
}

// relay_meta key: the [source] hosts entry ("host:port") the relay switched to last.
constexpr std::string_view kFollowedSourceMetaKey = "followed_source";

}  // namespace

void Upstream::restore_followed_host() {
  auto stored = context_.store.get_meta(kFollowedSourceMetaKey);
  if (!stored || !*stored) return;
  const std::string address((*stored)->begin(), (*stored)->end());
  for (std::size_t index = 0; index < config_.hosts.size(); ++index) {
    if (config_.hosts[index].to_string() != address) continue;
    host_index_ = index;
    spdlog::info("upstream: continuing from {}, the [source] hosts server the relay followed last", address);
    return;
  }
  spdlog::warn("upstream: the relay followed {} last, which [source] hosts no longer lists; starting with {}",
               address, current_host().to_string());
}

bool Upstream::failover_configured() const {
  return config_.gtid && config_.hosts.size() > 1;
}

const net::HostPort& Upstream::current_host() const {
  return config_.hosts[host_index_ % config_.hosts.size()];
}

bool Upstream::failover_due() const {
  if (!failover_configured()) return false;
  const std::uint64_t gone = uv_now(context_.loop.raw()) - source_alive_ms_;
  return gone >= static_cast<std::uint64_t>(config_.failover_after.count());
}

void Upstream::start_failover() {
  set_state(UpstreamState::kConnecting);
  round_refusals_.clear();
  // The others first, in the listed order after the current one; the current one last (it may be back).
  probe_candidate((host_index_ + 1) % config_.hosts.size(), config_.hosts.size());
}

void Upstream::probe_candidate(std::size_t index, std::size_t remaining) {
  if (shut_down_ || stopped_with_error_ || writer_stopped_) return;
  if (remaining == 0) {
    const auto delay = backoff_.next_delay();
    status_.candidate_refusals = round_refusals_;
    spdlog::warn(
        "upstream: no server of [source] hosts can continue the relay's stream (stored GTID state "
        "{}); asking again in {} ms",
        handler_.mariadb_state().empty() ? handler_.mysql_executed().to_single_line()
                                         : handler_.mariadb_state().to_string(),
        delay.count());
    set_state(UpstreamState::kWaitingToReconnect);
    reconnect_timer_.start(delay, [this] { start_failover(); });
    return;
  }
  const net::HostPort host = config_.hosts[index];
  candidate_ = std::make_unique<Connection>(*this, client_options(host));
  Connection* candidate = candidate_.get();
  auto next = [this, index, remaining] {
    retire(std::move(candidate_));
    probe_candidate((index + 1) % config_.hosts.size(), remaining - 1);
  };
  candidate->client->connect([this, candidate, index, host, next](const Status& connected) {
    if (candidate != candidate_.get()) return;
    if (!connected) {
      spdlog::info("upstream: failover candidate {} is unreachable: {}", host.to_string(),
                   connected.error().message());
      next();
      return;
    }
    const bool mariadb = flavor_of_version(candidate->client->greeting().server_version) == Flavor::kMariadb;
    candidate->client->query(std::string(candidate_probe_query(mariadb)),
                             [this, candidate, index, host, mariadb, next](Result<net::QueryResult> reply) {
                               if (candidate != candidate_.get()) return;
                               const CandidateJudgement judgement =
                                   reply ? judge_candidate(mariadb, *reply)
                                         : candidate_judgement(CandidateVerdict::kUnreadable,
                                                               reply.error().message());
                               if (!judgement.accepted()) {
                                 refuse_candidate(host, mariadb, judgement);
                                 next();
                                 return;
                               }
                               status_.candidate_refusals.clear();
                               retire(std::move(candidate_));
                               switch_to(index);
                             });
  });
}

void Upstream::refuse_candidate(const net::HostPort& host, bool mariadb,
                                const CandidateJudgement& judgement) {
  const net::HostPort& listen = context_.config.server.listen;
  const std::string advice = catch_up_advice(mariadb, judgement, advertised_host(listen), listen.port);
  const std::string refusal = advice.empty()
                                  ? fmt::format("{}: {}", host.to_string(), judgement.describe())
                                  : fmt::format("{}: {}; {}", host.to_string(), judgement.describe(), advice);
  spdlog::warn("upstream: refusing failover candidate {}", refusal);
  if (!round_refusals_.empty()) round_refusals_ += " | ";
  round_refusals_ += refusal;
  // A behind candidate the relay can fill is its own reason: the operator's fix differs.
  const std::string reason =
      advice.empty() ? std::string(to_string(judgement.verdict)) : std::string("behind_catch_up_from_relay");
  context_.metrics
      .counter("binlog_relay_source_candidates_refused_total",
               "Failover candidates the relay refused, by reason", {{"reason", reason}})
      .add();
}

CandidateJudgement Upstream::judge_candidate(bool mariadb, const net::QueryResult& reply) {
  const auto row = first_row(reply);
  if (mariadb) {
    auto answers = parse_mariadb_answers(row);
    if (!answers) return candidate_judgement(CandidateVerdict::kUnreadable, answers.error().message());
    MariadbStoredState stored;
    stored.position = handler_.mariadb_state();
    const PreviousGtids start = stored_start(context_.store);
    if (start.kind == PreviousGtids::Kind::kMariadb)
      stored.start = binlog::MariadbGtidPosition::from_list(start.gtid_list);
    stored.has = [this](const binlog::MariadbGtid& gtid) { return store_has(context_.store, gtid); };
    return judge_mariadb_candidate(stored, *answers);
  }
  auto answers = parse_mysql_answers(row);
  if (!answers) return candidate_judgement(CandidateVerdict::kUnreadable, answers.error().message());
  const PreviousGtids start = stored_start(context_.store);
  return judge_mysql_candidate(handler_.mysql_executed(), *answers,
                               start.kind == PreviousGtids::Kind::kMysql ? start.mysql : binlog::GtidSet{});
}

void Upstream::switch_to(std::size_t index) {
  const std::string from = current_host().to_string();
  const std::string to = config_.hosts[index].to_string();
  if (index != host_index_) {
    const std::string at = handler_.mariadb_state().empty() ? handler_.mysql_executed().to_single_line()
                                                            : handler_.mariadb_state().to_string();
    spdlog::warn("upstream: switching the source from {} to {} at GTID state {}", from, to, at);
    switches_counter_.add();
    ++status_.source_switches;
    status_.last_switch = fmt::format("from {} to {} at {}", from, to, at);
    host_index_ = index;
    status_.source_address = to;
    set_source_label(to);
    batch_.put_meta(kFollowedSourceMetaKey, as_bytes(to));
    schedule_flush();
    if (!handler_.empty()) handler_.expect_new_source();
    lost_source_ms_ = source_alive_ms_;
  } else {
    spdlog::info("upstream: the source {} is back and still the one to follow", to);
  }
  source_alive_ms_ = uv_now(context_.loop.raw());
  ++status_.reconnects;
  reconnects_counter_.add();
  connect();
}

void Upstream::set_source_label(const std::string& address) {
  const std::string name = "binlog_relay_source_info";
  if (!source_label_.empty()) context_.metrics.remove_series(name, {{"source", source_label_}});
  source_label_ = address;
  context_.metrics
      .gauge(name, "1 for the server the relay pulls from ([source] hosts)", {{"source", address}})
      .set(1);
}

}  // namespace brelay::relay
