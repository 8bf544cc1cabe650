// The Upstream in the test process (as the daemon wires it: store, writer, commit notifier, loop)
// against a real MariaDB source that requires TLS, logged in with a replication account of its own
// (mysql_native_password, REPLICATION SLAVE and BINLOG MONITOR only): what operators see in its
// UpstreamStatus and metrics while it streams, after the source restarts, and when the source
// refuses it (a certificate from the wrong CA, the relay's own server_id).
#include "relay/upstream/upstream.h"

#include <gtest/gtest.h>

#include <functional>

#include "relay/core/commit_notifier.h"
#include "relay/core/config.h"
#include "relay/core/metrics.h"
#include "relay/core/relay_context.h"
#include "storage/binlog_store.h"
#include "storage/store_writer.h"
#include "tests/integration/upstream_harness.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace brelay::relay {
namespace {

using namespace std::chrono_literals;
using testing::MariaDbServer;
using testing::TempDir;

// Everything the daemon gives the upstream, over a store in a temporary directory.
class InProcessRelay {
 public:
  static std::unique_ptr<InProcessRelay> start(const std::string& toml, const std::string& data_dir) {
    auto relay = std::unique_ptr<InProcessRelay>(new InProcessRelay());
    auto config = parse_config(toml, data_dir + "/relay.toml");
    EXPECT_TRUE(config) << config.error().message();
    if (!config) return nullptr;
    relay->config_ = std::move(config).value();
    storage::StoreOptions options;
    options.sync = storage::SyncMode::kNone;
    auto store = storage::BinlogStore::open(data_dir, options);
    EXPECT_TRUE(store) << store.error().message();
    if (!store) return nullptr;
    relay->store_ = std::move(*store);
    relay->commits_ = std::make_unique<CommitNotifier>(relay->loop_);
    auto writer = storage::StoreWriter::start(
        *relay->store_, {}, [notifier = relay->commits_.get()](const auto& p) { notifier->publish(p); });
    EXPECT_TRUE(writer);
    relay->writer_ = std::move(*writer);
    relay->context_.emplace(RelayContext{relay->loop_,
                                         relay->config_,
                                         *relay->store_,
                                         *relay->writer_,
                                         *relay->commits_,
                                         relay->metrics_,
                                         "5b0c3f4e-2d5e-4d1a-9a51-3e6f2f9e0a11",
                                         std::nullopt,
                                         {}});
    relay->upstream_ = std::make_unique<Upstream>(*relay->context_);
    EXPECT_TRUE(relay->upstream_->start());
    return relay;
  }

  ~InProcessRelay() {
    if (upstream_) upstream_->stop();
    upstream_.reset();
    if (writer_) (void)writer_->stop();
  }

  // Runs the loop until `done` holds (checked every 50 ms) or `timeout`; false on timeout.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool met = false;
    net::Timer check(loop_.raw());
    std::function<void()> tick = [&] {
      if (done()) {
        met = true;
        loop_.stop();
      } else if (std::chrono::steady_clock::now() > deadline) {
        loop_.stop();
      } else {
        check.start(50ms, tick);
      }
    };
    check.start(0ms, tick);
    EXPECT_TRUE(loop_.run());
    return met;
  }

  Upstream& upstream() { return *upstream_; }
  RelayContext& context() { return *context_; }
  MetricsRegistry& metrics() { return metrics_; }

 private:
  InProcessRelay() = default;

  net::EventLoop loop_;
  Config config_;
  MetricsRegistry metrics_;
  std::unique_ptr<storage::BinlogStore> store_;
  std::unique_ptr<CommitNotifier> commits_;
  std::unique_ptr<storage::StoreWriter> writer_;
  std::optional<RelayContext> context_;
  std::unique_ptr<Upstream> upstream_;
};

std::string relay_toml(const MariaDbServer& source, const std::string& data_dir,
                       const std::string& source_extra) {
  return fmt::format(
      "[source]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"repl\"\npassword = \"replpw\"\nserver_id = 4001\n"
      "heartbeat_period = \"200ms\"\nreconnect_max_delay = \"1s\"\n{}\n"
      "[storage]\ndata_dir = \"{}\"\nsync = \"none\"\n"
      "[server]\nlisten = \"127.0.0.1:3306\"\nserver_id = 4002\n"
      "[[users]]\nname = \"r\"\npassword = \"p\"\n",
      source.port(), source_extra, data_dir);
}

std::unique_ptr<MariaDbServer> tls_source(const testing::TestCertificates& certs) {
  testing::MariaDbOptions options;
  options.tls = certs;
  options.require_secure_transport = true;
  auto started = MariaDbServer::start(options);
  EXPECT_TRUE(started) << started.error().message();
  if (!started) return nullptr;
  auto source = std::move(*started);
  EXPECT_TRUE(source->execute(
      "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('replpw'); "
      "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'repl'@'127.0.0.1'; "
      "CREATE DATABASE st; CREATE TABLE st.t (id INT PRIMARY KEY, v TEXT); "
      "INSERT INTO st.t VALUES (1, 'one'), (2, 'two')"));
  return source;
}

double metric(MetricsRegistry& metrics, const std::string& series) {
  const std::string text = metrics.render();
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(UpstreamStatus, ReportsTheStreamOverTlsWithAReplicationAccountAndAfterTheSourceRestarts) {
  auto dir = TempDir::create("upstream-status");
  ASSERT_TRUE(dir);
  auto certs = testing::generate_test_certificates(dir->path());
  ASSERT_TRUE(certs) << certs.error().message();
  auto source = tls_source(*certs);
  ASSERT_TRUE(source);
  const std::string data_dir = dir->file("data");
  auto relay = InProcessRelay::start(
      relay_toml(*source, data_dir, fmt::format("tls = \"verify_ca\"\ntls_ca = \"{}\"\n", certs->ca_cert)),
      data_dir);
  ASSERT_TRUE(relay);
  auto end = testing::master_status(*source);
  ASSERT_TRUE(end);
  const UpstreamStatus& status = relay->upstream().status();
  const bool caught_up = relay->run_until(
      [&] {
        return status.durable_end && status.durable_end->file == end->first &&
               status.durable_end->position >= end->second && status.seconds_behind_source == 0;
      },
      30s);
  ASSERT_TRUE(caught_up) << status.last_error;
  EXPECT_EQ(status.state, UpstreamState::kStreaming);
  EXPECT_TRUE(status.tls);
  EXPECT_NE(status.source_version.find("MariaDB"), std::string::npos);
  EXPECT_EQ(status.dump_request, "the source's first binlog");
  EXPECT_EQ(status.source_file, end->first);
  EXPECT_GE(status.source_position, end->second);
  EXPECT_GT(status.received_bytes, 0u);
  EXPECT_GT(status.received_events, 5u);
  EXPECT_EQ(status.reconnects, 0u);
  EXPECT_EQ(status.last_error, "");
  // The source's identity, for replicas asking the relay, in the context and in the store.
  ASSERT_TRUE(relay->context().source);
  EXPECT_EQ(relay->context().source->flavor, Flavor::kMariadb);
  EXPECT_EQ(relay->context().source->server_id, 1u);
  EXPECT_EQ(relay->context().source->checksum, binlog::ChecksumAlgorithm::kCrc32);
  EXPECT_EQ(relay->context().source->variables.at("binlog_format"), "ROW");
  EXPECT_EQ(relay->context().source->variables.at("log_bin"), "ON");
  auto stored = relay->context().store.get_meta(kSourceIdentityMetaKey);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(*decode_source_identity(**stored), *relay->context().source);
  EXPECT_EQ(metric(relay->metrics(), "binlog_relay_upstream_connected"), 1);
  EXPECT_EQ(metric(relay->metrics(), "binlog_relay_source_seconds_behind"), 0);
  EXPECT_EQ(metric(relay->metrics(), "binlog_relay_received_bytes_total"),
            static_cast<double>(status.received_bytes));
  EXPECT_EQ(metric(relay->metrics(), "binlog_relay_received_events_total"),
            static_cast<double>(status.received_events));

  // The source restarts: the upstream notices, reconnects and streams again.
  ASSERT_TRUE(source->restart());
  ASSERT_TRUE(source->execute("INSERT INTO st.t VALUES (3, 'three')"));
  end = testing::master_status(*source);
  ASSERT_TRUE(end);
  ASSERT_TRUE(relay->run_until(
      [&] {
        return status.state == UpstreamState::kStreaming && status.durable_end &&
               status.durable_end->file == end->first && status.durable_end->position >= end->second;
      },
      30s))
      << status.last_error;
  EXPECT_GE(status.reconnects, 1u);
  EXPECT_NE(status.last_error, "");
  EXPECT_GE(metric(relay->metrics(), "binlog_relay_upstream_reconnects_total"), 1);
  EXPECT_NE(relay->metrics().render().find("binlog_relay_upstream_errors_total{kind="), std::string::npos);

  relay->upstream().stop();
  EXPECT_EQ(status.state, UpstreamState::kShutDown);
  EXPECT_EQ(metric(relay->metrics(), "binlog_relay_upstream_connected"), 0);
}

TEST(UpstreamStatus, ACertificateFromAnotherCaIsRetriedAndTheRelaysOwnServerIdStopsThePull) {
  auto dir = TempDir::create("upstream-status-refused");
  ASSERT_TRUE(dir);
  auto certs = testing::generate_test_certificates(dir->path());
  ASSERT_TRUE(certs) << certs.error().message();
  auto source = tls_source(*certs);
  ASSERT_TRUE(source);
  {
    const std::string data_dir = dir->file("wrong-ca");
    auto relay = InProcessRelay::start(
        relay_toml(*source, data_dir,
                   fmt::format("tls = \"verify_ca\"\ntls_ca = \"{}\"\n", certs->other_ca_cert)),
        data_dir);
    ASSERT_TRUE(relay);
    const UpstreamStatus& status = relay->upstream().status();
    ASSERT_TRUE(relay->run_until([&] { return status.reconnects >= 2; }, 30s)) << status.last_error;
    EXPECT_NE(status.state, UpstreamState::kStreaming);
    EXPECT_NE(status.state, UpstreamState::kStopped);
    EXPECT_NE(status.last_error.find("certificate"), std::string::npos) << status.last_error;
    EXPECT_FALSE(status.durable_end);
    EXPECT_GE(metric(relay->metrics(), "binlog_relay_upstream_errors_total{kind=\"connect\"}"), 2);
  }
  {
    const std::string data_dir = dir->file("same-id");
    std::string toml = relay_toml(*source, data_dir, "tls = \"required\"\n");
    toml.replace(toml.find("server_id = 4001"), 16, "server_id = 1");
    auto relay = InProcessRelay::start(toml, data_dir);
    ASSERT_TRUE(relay);
    const UpstreamStatus& status = relay->upstream().status();
    ASSERT_TRUE(relay->run_until([&] { return status.state == UpstreamState::kStopped; }, 30s))
        << status.last_error;
    EXPECT_NE(status.last_error.find("the same as the relay's [source] server_id"), std::string::npos)
        << status.last_error;
    EXPECT_EQ(metric(relay->metrics(), "binlog_relay_upstream_errors_total{kind=\"source_config\"}"), 1);
  }
}

}  // namespace
}  // namespace brelay::relay
