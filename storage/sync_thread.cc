#include "storage/sync_thread.h"

#include <utility>

namespace brelay::storage {

SyncThread::SyncThread() : thread_([this] { loop(); }) {}

SyncThread::~SyncThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void SyncThread::start(std::function<Status()> job) {
  {
    std::lock_guard lock(mutex_);
    job_ = std::move(job);
    done_ = false;
  }
  wake_.notify_all();
}

Status SyncThread::wait() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [&] { return done_; });
  return std::exchange(result_, ok_status());
}

void SyncThread::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || job_; });
    if (!job_) return;
    auto job = std::move(job_);
    job_ = nullptr;
    lock.unlock();
    Status result = job();
    lock.lock();
    result_ = std::move(result);
    done_ = true;
    wake_.notify_all();
  }
}

}  // namespace brelay::storage
