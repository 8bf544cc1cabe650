#include "relay/core/commit_notifier.h"

#include <gtest/gtest.h>

#include <thread>

namespace brelay::relay {
namespace {

// The loop's own wakeup handle does not keep it alive; a running daemon always has other handles.
struct KeepAlive {
  explicit KeepAlive(net::EventLoop& loop) {
    uv_timer_init(loop.raw(), &timer);
    uv_timer_start(
        &timer, [](uv_timer_t*) {}, 1000000, 1000000);
  }
  ~KeepAlive() { uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr); }
  uv_timer_t timer{};
};

CommitNotifier::Progress progress_with_commits(std::uint64_t commits) {
  CommitNotifier::Progress p;
  p.commits = commits;
  return p;
}

TEST(CommitNotifier, DeliversTheNewestProgressOnTheLoopThread) {
  net::EventLoop loop;
  KeepAlive keep_alive(loop);
  CommitNotifier notifier(loop);
  std::vector<std::uint64_t> seen;
  std::thread::id delivered_on;
  notifier.subscribe([&](const CommitNotifier::Progress& p) {
    seen.push_back(p.commits);
    delivered_on = std::this_thread::get_id();
    if (p.commits == 100) loop.stop();
  });
  std::thread writer([&] {
    for (std::uint64_t i = 1; i <= 100; ++i)
      notifier.publish(progress_with_commits(i));
  });
  ASSERT_TRUE(loop.run());
  writer.join();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 100u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_LE(seen.size(), 100u) << "bursts may coalesce, never duplicate";
  EXPECT_EQ(delivered_on, std::this_thread::get_id());
  EXPECT_EQ(notifier.latest().commits, 100u);
}

TEST(CommitNotifier, SubscribersMayUnsubscribeDuringDelivery) {
  net::EventLoop loop;
  KeepAlive keep_alive(loop);
  CommitNotifier notifier(loop);
  int first = 0, second = 0;
  CommitNotifier::SubscriptionId second_id = 0;
  CommitNotifier::SubscriptionId first_id = notifier.subscribe([&](const CommitNotifier::Progress&) {
    ++first;
    notifier.unsubscribe(first_id);
    notifier.unsubscribe(second_id);
  });
  second_id = notifier.subscribe([&](const CommitNotifier::Progress&) { ++second; });
  notifier.publish(progress_with_commits(1));
  uv_run(loop.raw(), UV_RUN_NOWAIT);
  notifier.publish(progress_with_commits(2));
  uv_run(loop.raw(), UV_RUN_NOWAIT);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);
}

TEST(CommitNotifier, APublishPendingAtDestructionIsHarmless) {
  auto loop = std::make_unique<net::EventLoop>();
  {
    CommitNotifier notifier(*loop);
    notifier.subscribe([](const CommitNotifier::Progress&) { FAIL() << "delivered after destruction"; });
    notifier.publish(progress_with_commits(1));
  }
  uv_run(loop->raw(), UV_RUN_NOWAIT);
}

}  // namespace
}  // namespace brelay::relay
