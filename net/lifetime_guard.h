// Lets an object notice that it was destroyed by a callback it made: hold a LifetimeGuard member,
// take a watch() before calling out, and return at once if watch.expired() afterwards.
//
// Loop thread only: a guard and its watches live on one thread (a watch may travel in a callback
// the same loop runs later), so the counts are plain integers. The network path takes a watch per
// packet; a shared_ptr token's atomic reference counts cost several percent of an ingest's CPU.
#pragma once

#include <cstddef>

namespace brelay::net {

class LifetimeGuard {
  struct State {
    std::size_t watches = 0;
    bool ended = false;
  };

 public:
  class Watch {
   public:
    Watch(const Watch& other) noexcept : state_(other.state_) { ++state_->watches; }
    Watch& operator=(const Watch&) = delete;
    ~Watch() {
      if (--state_->watches == 0 && state_->ended) delete state_;
    }
    // The guard was destroyed since this watch was taken.
    bool expired() const { return state_->ended; }

   private:
    friend class LifetimeGuard;
    explicit Watch(State* state) noexcept : state_(state) { ++state_->watches; }
    State* state_;
  };

  LifetimeGuard() : state_(new State()) {}
  ~LifetimeGuard() {
    if (state_->watches == 0) {
      delete state_;
    } else {
      state_->ended = true;  // the last watch deletes it
    }
  }
  LifetimeGuard(const LifetimeGuard&) = delete;
  LifetimeGuard& operator=(const LifetimeGuard&) = delete;

  Watch watch() const { return Watch(state_); }

 private:
  State* state_;
};

}  // namespace brelay::net
