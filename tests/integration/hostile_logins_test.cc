// Hostile logins against the real relay (issue 19, items 5 and 6), with a replica streaming over
// TLS the whole time as a canary: account host restrictions and require_tls answered with 1045 as
// for an unknown account, a per-account limit (1226), max_connections (1040) with the extra
// session kept for an admin, a burst of silent connections that does not keep a replica from
// logging in, and 500 wrong passwords: blocked with 1129 after max_connect_errors, counted by
// reason in /metrics, logged in a bounded number of lines, and unblocked by FLUSH HOSTS from an
// admin session opened before (the blocked address cannot log in any more).
#include <gtest/gtest.h>

#include <signal.h>

#include "net/blocking_client.h"
#include "net/replication_commands.h"
#include "tests/support/login_helpers.h"
#include "tests/support/mysql_replica_client.h"
#include "tests/support/prometheus_text.h"
#include "tests/support/raw_tcp_client.h"
#include "tests/support/served_store.h"
#include "tests/support/test_certs.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

constexpr const char* kMysql80 = "apecloud-mysql80-gtid-zstd-compressed.000057";
constexpr int kMaxConnectErrors = 5;

class HostileLogins : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tls = TlsTestDir::create("hostile-logins-certs");
    ASSERT_TRUE(tls) << tls.error().message();
    tls_ = std::move(*tls);
    auto metrics_port = free_loopback_port();
    ASSERT_TRUE(metrics_port);
    metrics_port_ = *metrics_port;
    TestRelayConfig config;
    config.metrics_listen = fmt::format("127.0.0.1:{}", metrics_port_);
    config.log_level = "info";
    config.server_extra = fmt::format(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\nmax_connections = 4\nmax_unauthenticated_connections = 8\n"
        "max_connect_errors = {}\nconnect_timeout = \"5s\"\n",
        tls_->certs().server_cert, tls_->certs().server_key, kMaxConnectErrors);
    config.users += R"(
[[users]]
name = "limited"
password = "limitedpw"
max_connections = 1
[[users]]
name = "far"
password = "farpw"
hosts = ["10.0.0.0/8", "2001:db8::/32"]
[[users]]
name = "near"
password = "nearpw"
hosts = ["10.0.0.0/8", "localhost"]
[[users]]
name = "tlsonly"
password = "tlspw"
require_tls = true
)";
    auto served = serve_binlogs({test_binlog(kMysql80)}, config);
    ASSERT_TRUE(served) << served.error().message();
    served_ = new ServedStore(std::move(*served));
  }
  static void TearDownTestSuite() {
    delete served_;
    tls_.reset();
  }

  static net::ClientOptions client(const std::string& user, const std::string& password) {
    return plain_login_options(served_->port, user, password, std::chrono::seconds(20));
  }
  static Result<CommandOutput> mariadb(const std::string& user, const std::string& password,
                                       const std::string& sql,
                                       std::vector<std::string> extra = {"--skip-ssl"}) {
    return mariadb_sql(served_->port, user, password, sql, std::move(extra));
  }
  static PrometheusScrape scrape() {
    auto output = run_command({"curl", "--silent", "--show-error", "--max-time", "20",
                               fmt::format("http://127.0.0.1:{}/metrics", metrics_port_)},
                              {}, std::chrono::seconds(30));
    EXPECT_TRUE(output && output->exit_status == 0);
    if (!output) return {};
    auto parsed = parse_prometheus_text(output->out);
    EXPECT_TRUE(parsed) << parsed.error().message();
    return parsed ? *parsed : PrometheusScrape();
  }
  static double failures(const PrometheusScrape& scrape, const std::string& reason) {
    return scrape.value("binlog_relay_auth_failures_total", {{"reason", reason}}).value_or(-1);
  }

  static inline std::unique_ptr<TlsTestDir> tls_;
  static inline ServedStore* served_ = nullptr;
  static inline std::uint16_t metrics_port_ = 0;
};

TEST_F(HostileLogins, EachIsMetAsMysqldMeetsItWhileAReplicaStreamsOn) {
  // The canary: a replica over TLS at the end of the stored binlog, getting heartbeats.
  auto canary =
      MysqlReplicaClient::connect(tls_replica_options(served_->port, "replpw", tls_->certs().ca_cert));
  ASSERT_TRUE(canary) << canary.error().message();
  ASSERT_TRUE((*canary)->dump_from(kMysql80, 4, net::dump_flag::kHeartbeatV2OrAnnotateRows));
  ASSERT_TRUE((*canary)->receive([&](const ReceivedEvent&) { return (*canary)->heartbeats() >= 1; }));
  // An operator's session, open throughout.
  auto operator_session = net::BlockingClient::connect(client("admin", "adminpw"));
  ASSERT_TRUE(operator_session) << operator_session.error().message();

  // hosts: from 127.0.0.1 an account limited to 10.0.0.0/8 is answered as one that does not exist.
  auto far = mariadb("far", "farpw", "SELECT 1");
  auto ghost = mariadb("ghost", "farpw", "SELECT 1");
  ASSERT_TRUE(far && ghost);
  EXPECT_NE(far->exit_status, 0);
  EXPECT_NE(
      far->err.find("ERROR 1045 (28000): Access denied for user 'far'@'127.0.0.1' (using password: YES)"),
      std::string::npos)
      << far->err;
  EXPECT_NE(
      ghost->err.find("ERROR 1045 (28000): Access denied for user 'ghost'@'127.0.0.1' (using password: YES)"),
      std::string::npos)
      << ghost->err;
  auto near = mariadb("near", "nearpw", "SELECT CURRENT_USER()");
  ASSERT_TRUE(near);
  EXPECT_EQ(near->exit_status, 0) << near->err;

  // require_tls: 1045 without TLS, in with it.
  auto plain = mariadb("tlsonly", "tlspw", "SELECT 1");
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->err.find("ERROR 1045 (28000): Access denied for user 'tlsonly'@'127.0.0.1'"),
            std::string::npos)
      << plain->err;
  auto secure = mariadb("tlsonly", "tlspw", "SELECT 1", {"--ssl", "--ssl-ca=" + tls_->certs().ca_cert});
  ASSERT_TRUE(secure);
  EXPECT_EQ(secure->exit_status, 0) << secure->err;

  // An account's own limit.
  {
    auto held = net::BlockingClient::connect(client("limited", "limitedpw"));
    ASSERT_TRUE(held) << held.error().message();
    auto second = mariadb("limited", "limitedpw", "SELECT 1");
    ASSERT_TRUE(second);
    EXPECT_NE(second->err.find("ERROR 1226 (42000): User 'limited' has exceeded the 'max_user_connections' "
                               "resource (current value: 1)"),
              std::string::npos)
        << second->err;
  }

  // max_connections = 4: the canary, the operator and two more; a fifth login gets 1040, an admin
  // still logs in (and can look around).
  {
    auto second = net::BlockingClient::connect(client("repl", "replpw"));
    auto third = net::BlockingClient::connect(client("repl", "replpw"));
    ASSERT_TRUE(second && third);
    auto fourth = mariadb("near", "nearpw", "SELECT 1");
    ASSERT_TRUE(fourth);
    EXPECT_NE(fourth->err.find("ERROR 1040 (08004): Too many connections"), std::string::npos) << fourth->err;
    auto admin = mariadb("admin", "adminpw", "SHOW STATUS LIKE 'Threads_connected'");
    ASSERT_TRUE(admin);
    EXPECT_EQ(admin->exit_status, 0) << admin->err;
  }

  // 40 silent connections, five times the handshake limit: a replica still logs in and dumps.
  {
    std::vector<std::unique_ptr<RawTcpClient>> silent;
    for (int i = 0; i < 40; ++i) {
      silent.push_back(std::make_unique<RawTcpClient>(served_->port));
      ASSERT_TRUE(silent.back()->connected());
    }
    auto replica = net::BlockingClient::connect(client("repl", "replpw"));
    ASSERT_TRUE(replica) << "a replica could not log in during a burst of silent connections";
    auto rows = (*replica)->query_rows("SELECT @@server_id");
    ASSERT_TRUE(rows) << rows.error().message();
  }
  const PrometheusScrape after_burst = scrape();
  EXPECT_GE(after_burst.value("binlog_relay_connections_refused_total", {{"reason", "unauthenticated_limit"}})
                .value_or(0),
            32);

  auto replica_session = net::BlockingClient::connect(client("repl", "replpw"));
  ASSERT_TRUE(replica_session) << replica_session.error().message();

  // 500 wrong passwords as fast as the relay answers: max_connect_errors of them are checked (and
  // answered ever more slowly), the rest get 1129 at once, as does the right password.
  int denied = 0;
  int blocked = 0;
  for (int i = 0; i < 500; ++i) {
    auto wrong = net::BlockingClient::connect(client(i % 2 == 0 ? "repl" : "nobody", "wrong"));
    ASSERT_FALSE(wrong);
    if (wrong.error().code() == 1045) ++denied;
    if (wrong.error().code() == 1129) ++blocked;
  }
  EXPECT_EQ(denied, kMaxConnectErrors);
  EXPECT_EQ(blocked, 500 - kMaxConnectErrors);
  auto right = mariadb("repl", "replpw", "SELECT 1");
  ASSERT_TRUE(right);
  EXPECT_NE(right->err.find("ERROR 1129 (HY000): Host '127.0.0.1' is blocked because of many connection "
                            "errors; unblock with 'mysqladmin flush-hosts'"),
            std::string::npos)
      << right->err;

  const PrometheusScrape scraped = scrape();
  EXPECT_EQ(failures(scraped, "bad_password"), 3);     // the brute force's repl attempts
  EXPECT_EQ(failures(scraped, "unknown_account"), 3);  // ghost, and the brute force's nobody
  EXPECT_EQ(failures(scraped, "host_not_allowed"), 1);
  EXPECT_EQ(failures(scraped, "tls_required"), 1);
  EXPECT_EQ(failures(scraped, "blocked"), 500 - kMaxConnectErrors + 1);
  EXPECT_EQ(failures(scraped, "bad_password") + failures(scraped, "unknown_account"), kMaxConnectErrors + 1);

  // Logged, but not 500 lines.
  const std::string log = served_->relay->log();
  std::size_t lines = 0;
  for (std::size_t at = log.find("failed login: "); at != std::string::npos;
       at = log.find("failed login: ", at + 1))
    ++lines;
  EXPECT_GE(lines, 10u);
  EXPECT_LE(lines, 25u);
  EXPECT_NE(log.find("failed login: account 'repl' from 127.0.0.1: bad_password"), std::string::npos) << log;
  EXPECT_NE(log.find("failed login: account 'far' from 127.0.0.1: host_not_allowed"), std::string::npos);
  EXPECT_NE(log.find("are counted (binlog_relay_auth_failures_total) but not logged"), std::string::npos);

  // FLUSH HOSTS: refused to a replica account, done by an admin.
  auto by_replica = (*replica_session)->query("FLUSH HOSTS");
  ASSERT_FALSE(by_replica);
  EXPECT_EQ(by_replica.error().code(), 1227);
  EXPECT_EQ((*replica_session)->async().last_server_error()->message,
            "Access denied; you need (at least one of) the RELOAD privilege(s) for this operation");
  auto by_admin = (*operator_session)->query("FLUSH HOSTS");
  ASSERT_TRUE(by_admin) << by_admin.error().message();
  auto unblocked = mariadb("repl", "replpw", "SELECT 1");
  ASSERT_TRUE(unblocked);
  EXPECT_EQ(unblocked->exit_status, 0) << unblocked->err;
  EXPECT_NE(served_->relay->log().find("FLUSH HOSTS by admin"), std::string::npos);

  // hosts naming a host: resolved again after SIGHUP off the loop thread, then in use.
  auto original = read_file(served_->relay->config_path());
  ASSERT_TRUE(original);
  const std::string far_hosts = "hosts = [\"10.0.0.0/8\", \"2001:db8::/32\"]";
  std::string reloaded = *original;
  ASSERT_NE(reloaded.find(far_hosts), std::string::npos);
  reloaded.replace(reloaded.find(far_hosts), far_hosts.size(), "hosts = [\"localhost\"]");
  ASSERT_TRUE(write_file(served_->relay->config_path(), reloaded));
  served_->relay->signal(SIGHUP);
  ASSERT_TRUE(served_->relay->wait_for_notification("READY=1", std::chrono::seconds(10)));
  ASSERT_TRUE(
      wait_until([&] { return served_->relay->log().find("host names resolved again") != std::string::npos; },
                 std::chrono::seconds(20)));
  auto far_now = mariadb("far", "farpw", "SELECT 1");
  ASSERT_TRUE(far_now);
  EXPECT_EQ(far_now->exit_status, 0) << far_now->err;

  // The canary streamed on through all of it.
  const std::size_t heartbeats = (*canary)->heartbeats();
  ASSERT_TRUE(
      (*canary)->receive([&](const ReceivedEvent&) { return (*canary)->heartbeats() >= heartbeats + 2; }));
  EXPECT_TRUE(served_->relay->running());
}

}  // namespace
}  // namespace brelay::testing
