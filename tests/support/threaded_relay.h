// ThreadedRelay: the relay's serving half inside the test process: a store, its StoreWriter (the
// test is the producer, standing in for the upstream), the CommitNotifier, and a DownstreamServer on
// its own EventLoop thread listening on a free loopback port. Tests append to the store while real
// clients read, which exercises the live tail, file changes, heartbeats and back-pressure without a
// source. The destructor closes every session, stops the loop, joins it and stops the writer.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "net/event_loop.h"
#include "relay/core/commit_notifier.h"
#include "relay/core/config.h"
#include "relay/core/metrics.h"
#include "relay/core/relay_context.h"
#include "relay/downstream/downstream_server.h"
#include "storage/binlog_store.h"
#include "storage/store_writer.h"

namespace brelay::testing {

struct ThreadedRelayOptions {
  std::string data_dir;                  // required
  std::vector<relay::UserConfig> users;  // empty: repl/replpw (replica) and admin/adminpw (admin)
  std::string tls_cert;
  std::string tls_key;
  bool require_tls = false;
  std::uint32_t server_id = 4002;
  storage::SyncMode sync = storage::SyncMode::kNone;
  bool semi_sync = false;  // [source] semi_sync: the relay then offers semi-sync to its replicas
};

class ThreadedRelay {
 public:
  static Result<std::unique_ptr<ThreadedRelay>> start(ThreadedRelayOptions options);
  ~ThreadedRelay();
  ThreadedRelay(const ThreadedRelay&) = delete;
  ThreadedRelay& operator=(const ThreadedRelay&) = delete;

  std::uint16_t port() const { return port_; }
  storage::BinlogStore& store() { return *store_; }
  // The producer side: only the test thread may call the writer's producer methods.
  storage::StoreWriter& writer() { return *writer_; }
  relay::MetricsRegistry& metrics() { return metrics_; }

  // Runs `task` on the loop thread with the downstream server and waits for its result.
  template <typename Task>
  auto call(Task task) -> decltype(task(std::declval<relay::downstream::DownstreamServer&>())) {
    using R = decltype(task(std::declval<relay::downstream::DownstreamServer&>()));
    std::packaged_task<R()> packaged([this, &task] { return task(*downstream_); });
    auto future = packaged.get_future();
    loop_.post([&packaged] { packaged(); });
    return future.get();
  }

  // Submits `batch` and waits until `file`:`position` is durable and the loop thread has taken that
  // progress in (as the downstream server's greeting and waiting dumps do).
  Status submit_and_wait(storage::WriteBatch batch, const std::string& file, std::uint64_t position,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  ThreadedRelay() = default;

  relay::Config config_;
  net::EventLoop loop_;
  relay::MetricsRegistry metrics_;
  std::unique_ptr<storage::BinlogStore> store_;
  std::unique_ptr<relay::CommitNotifier> commits_;
  std::unique_ptr<storage::StoreWriter> writer_;
  std::optional<relay::RelayContext> context_;
  std::unique_ptr<relay::downstream::DownstreamServer> downstream_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace brelay::testing
