#include "net/timer.h"

namespace brelay::net {

struct Timer::Handle {
  uv_timer_t timer{};
  Timer* owner = nullptr;
  std::function<void()> callback;
};

Timer::Timer(uv_loop_t* loop) : handle_(new Handle) {
  handle_->owner = this;
  uv_timer_init(loop, &handle_->timer);  // cannot fail for a valid loop
  handle_->timer.data = handle_;
}

Timer::~Timer() {
  handle_->owner = nullptr;
  handle_->callback = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->timer),
           [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

void Timer::start(std::chrono::milliseconds delay, std::function<void()> callback) {
  handle_->callback = std::move(callback);
  uv_timer_start(&handle_->timer, &Timer::on_timeout, static_cast<std::uint64_t>(delay.count()), 0);
}

void Timer::stop() {
  uv_timer_stop(&handle_->timer);
  handle_->callback = nullptr;
}

bool Timer::active() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(&handle_->timer)) != 0;
}

void Timer::on_timeout(uv_timer_t* timer) {
  auto* handle = static_cast<Handle*>(timer->data);
  if (handle->owner == nullptr) return;
  // Moved out first: the callback may restart or destroy this timer.
  std::function<void()> callback = std::move(handle->callback);
  handle->callback = nullptr;
  if (callback) callback();
}

}  // namespace brelay::net
