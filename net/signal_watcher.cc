#include "net/signal_watcher.h"

namespace brelay::net {

struct SignalWatcher::Handle {
  uv_signal_t signal{};
  std::function<void(int)> callback;
};

SignalWatcher::SignalWatcher(uv_loop_t* loop) : handle_(new Handle()) {
  uv_signal_init(loop, &handle_->signal);
  handle_->signal.data = handle_;
}

SignalWatcher::~SignalWatcher() {
  handle_->callback = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->signal),
           [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

Status SignalWatcher::start(int signal_number, std::function<void(int)> callback) {
  handle_->callback = std::move(callback);
  if (int rc = uv_signal_start(&handle_->signal, &SignalWatcher::on_signal, signal_number); rc != 0) {
    return make_error_code(rc, "watching signal {}: {}", signal_number, uv_strerror(rc));
  }
  return {};
}

void SignalWatcher::stop() {
  uv_signal_stop(&handle_->signal);
}

void SignalWatcher::on_signal(uv_signal_t* signal, int signal_number) {
  auto* handle = static_cast<Handle*>(signal->data);
  if (handle->callback) {
    auto callback = handle->callback;  // the callback may destroy the watcher
    callback(signal_number);
  }
}

}  // namespace brelay::net
