#include "tests/support/threaded_relay.h"

#include <filesystem>

#include "tests/support/temp_dir.h"

namespace brelay::testing {

Result<std::unique_ptr<ThreadedRelay>> ThreadedRelay::start(ThreadedRelayOptions options) {
  std::unique_ptr<ThreadedRelay> relay(new ThreadedRelay);
  relay::Config& config = relay->config_;
  config.path = options.data_dir + "/relay.toml";
  config.storage.data_dir = options.data_dir;
  config.storage.sync =
      options.sync == storage::SyncMode::kNone ? relay::SyncMode::kNone : relay::SyncMode::kCommit;
  config.server.server_id = options.server_id;
  config.source.semi_sync = options.semi_sync;
  config.server.tls_cert = options.tls_cert;
  config.server.tls_key = options.tls_key;
  config.server.require_tls = options.require_tls;
  BRELAY_ASSIGN_OR_RETURN(std::uint16_t port, free_loopback_port());
  config.server.listen = net::HostPort{"127.0.0.1", port};
  config.users = std::move(options.users);
  if (config.users.empty()) {
    relay::UserConfig replica;
    replica.name = "repl";
    replica.password = "replpw";
    replica.role = relay::Role::kReplica;
    relay::UserConfig admin;
    admin.name = "admin";
    admin.password = "adminpw";
    admin.role = relay::Role::kAdmin;
    config.users = {replica, admin};
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  storage::StoreOptions store_options;
  store_options.sync = options.sync;
  BRELAY_ASSIGN_OR_RETURN(relay->store_, storage::BinlogStore::open(options.data_dir, store_options));
  relay->commits_ = std::make_unique<relay::CommitNotifier>(relay->loop_);
  BRELAY_ASSIGN_OR_RETURN(
      relay->writer_, storage::StoreWriter::start(*relay->store_, {},
                                                  [commits = relay->commits_.get()](const auto& progress) {
                                                    commits->publish(progress);
                                                  }));
  relay->context_.emplace(relay::RelayContext{relay->loop_,
                                              relay->config_,
                                              *relay->store_,
                                              *relay->writer_,
                                              *relay->commits_,
                                              relay->metrics_,
                                              "00000000-0000-4000-8000-00000000beef",
                                              std::nullopt,
                                              {}});
  relay->downstream_ = std::make_unique<relay::downstream::DownstreamServer>(*relay->context_);
  BRELAY_TRY(relay->downstream_->start());
  relay->port_ = relay->downstream_->port();
  relay->thread_ = std::thread([loop = &relay->loop_] { (void)loop->run(); });
  return relay;
}

ThreadedRelay::~ThreadedRelay() {
  if (thread_.joinable()) {
    loop_.post([this] {
      downstream_->shutdown();
      loop_.stop();
    });
    thread_.join();
  }
  downstream_.reset();
  if (writer_) (void)writer_->stop();
}

Status ThreadedRelay::submit_and_wait(storage::WriteBatch batch, const std::string& file,
                                      std::uint64_t position, std::chrono::milliseconds timeout) {
  BRELAY_TRY(writer_->submit(std::move(batch)));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto reached = [&](const std::optional<storage::ResumePoint>& end) {
    return end && end->file == file && end->position >= position;
  };
  while (std::chrono::steady_clock::now() < deadline) {
    // Durable, and delivered on the loop thread, where the downstream server takes it in (its
    // greeting follows the stored source; dumps waiting at the end move on): a client connecting
    // next meets a relay that knows it.
    if (reached(store_->durable_end()) &&
        call([&](relay::downstream::DownstreamServer&) { return reached(commits_->latest().durable_end); }))
      return {};
    if (auto error = writer_->progress().error) return *error;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return make_error("{}:{} did not become durable within {} ms", file, position, timeout.count());
}

}  // namespace brelay::testing
