// SyncThread: a thread that runs one job at a time for the StoreWriter. The writer hands one the
// event files' fdatasync of one round while it commits the previous round's index itself (an LMDB
// write transaction stays on its thread), so the two syncs of a busy writer overlap; an encrypted
// store's writer hands a second one its cipher work (store_writer.h).
//
// Threads: start() and wait() are called by the one thread that owns it (the writer thread), in
// turns: start() only when no job is running or its result was taken by wait(). The destructor
// waits for a running job and joins the thread. Storage-internal.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "common/result.h"

namespace brelay::storage {

class SyncThread {
 public:
  SyncThread();
  SyncThread(const SyncThread&) = delete;
  SyncThread& operator=(const SyncThread&) = delete;
  ~SyncThread();

  // Runs `job` on the thread and returns at once.
  void start(std::function<Status()> job);
  // Waits for the job start() began and returns its result (ok when none ran).
  Status wait();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::function<Status()> job_;  // guarded by mutex_
  Status result_;                // guarded by mutex_
  bool done_ = true;             // guarded by mutex_
  bool stopping_ = false;        // guarded by mutex_
  std::thread thread_;
};

}  // namespace brelay::storage
