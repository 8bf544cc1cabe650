// CommitNotifier carries the StoreWriter's progress (new durable end, errors, queue room) from the
// writer thread to the loop thread and fans it out to subscribers there: the upstream (semi-sync
// acknowledgements, flow control, writer errors) and every downstream session waiting at the end
// of the stream (live tail: no polling). Bursts coalesce: subscribers see the newest progress.
//
// publish() may be called from any thread (it is the writer's progress callback); everything else
// is loop-thread only. Subscribers may subscribe or unsubscribe (themselves or others) from inside
// a notification.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "net/event_loop.h"
#include "storage/store_writer.h"

namespace brelay::relay {

class CommitNotifier {
 public:
  using Progress = storage::StoreWriter::Progress;
  using Subscriber = std::function<void(const Progress&)>;
  using SubscriptionId = std::uint64_t;

  explicit CommitNotifier(net::EventLoop& loop);
  ~CommitNotifier();
  CommitNotifier(const CommitNotifier&) = delete;
  CommitNotifier& operator=(const CommitNotifier&) = delete;

  // Any thread: records `progress` and wakes the loop (once per burst).
  void publish(const Progress& progress);

  SubscriptionId subscribe(Subscriber subscriber);
  void unsubscribe(SubscriptionId id);
  // The newest progress delivered on the loop thread.
  const Progress& latest() const { return latest_; }

 private:
  void deliver();

  net::EventLoop& loop_;
  // Shared with posted tasks so that a task running after destruction does nothing.
  std::shared_ptr<std::atomic<CommitNotifier*>> self_;
  std::mutex mutex_;
  Progress pending_;              // guarded by mutex_
  bool delivery_posted_ = false;  // guarded by mutex_
  Progress latest_;
  std::map<SubscriptionId, Subscriber> subscribers_;
  SubscriptionId next_id_ = 1;
};

}  // namespace brelay::relay
