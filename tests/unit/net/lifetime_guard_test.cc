// LifetimeGuard (net/lifetime_guard.h): watches see the guard's end, copies share it, and the state
// lives exactly as long as the guard or its last watch (ASan in CI checks the memory).
#include "net/lifetime_guard.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>

namespace brelay::net {
namespace {

TEST(LifetimeGuard, WatchesSeeTheGuardEndAndOutliveIt) {
  auto guard = std::make_unique<LifetimeGuard>();
  const LifetimeGuard::Watch first = guard->watch();
  std::optional<LifetimeGuard::Watch> copy(first);
  EXPECT_FALSE(first.expired());
  EXPECT_FALSE(copy->expired());
  guard.reset();
  EXPECT_TRUE(first.expired());
  EXPECT_TRUE(copy->expired());
  copy.reset();                  // one watch left: the state stays
  EXPECT_TRUE(first.expired());  // (ASan: no use after free)
}

TEST(LifetimeGuard, AGuardWithoutWatchesAndWatchesGoneBeforeTheGuardFreeEverything) {
  { LifetimeGuard alone; }
  LifetimeGuard guard;
  for (int i = 0; i < 3; ++i) {
    const LifetimeGuard::Watch watch = guard.watch();
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_FALSE(guard.watch().expired());
}

// The pattern the network code uses: an object takes a watch, calls out, and the callback destroys
// the object; a watch carried in a callback run later sees the end too.
TEST(LifetimeGuard, AnObjectDestroyedByItsOwnCallbackIsNoticed) {
  struct Caller {
    LifetimeGuard lifetime;
    std::function<void()> callback;
    bool call() {
      auto watch = lifetime.watch();
      callback();
      return !watch.expired();
    }
  };
  auto caller = std::make_unique<Caller>();
  caller->callback = [&caller] { caller.reset(); };
  EXPECT_FALSE(caller->call());
  EXPECT_EQ(caller, nullptr);

  std::function<bool()> later;
  {
    Caller kept;
    later = [watch = kept.lifetime.watch()] { return !watch.expired(); };
    std::function<bool()> copied = later;
    EXPECT_TRUE(copied());
  }
  EXPECT_FALSE(later());
}

}  // namespace
}  // namespace brelay::net
