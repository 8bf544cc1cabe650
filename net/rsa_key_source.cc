#include "net/rsa_key_source.h"

namespace brelay::net {

std::shared_ptr<RsaKeySource> RsaKeySource::generate(EventLoop& loop, int bits) {
  std::shared_ptr<RsaKeySource> source(new RsaKeySource());
  std::weak_ptr<RsaKeySource> target = source;
  source->worker_ = std::thread([&loop, bits, target] {
    auto generated = RsaKeyPair::generate(bits);
    // The source joins this thread in its destructor, so the loop is still there to post to.
    loop.post([target, generated = std::move(generated)]() mutable {
      if (auto alive = target.lock()) alive->hand_over(std::move(generated));
    });
  });
  return source;
}

RsaKeySource::~RsaKeySource() {
  if (worker_.joinable()) worker_.join();
}

void RsaKeySource::hand_over(Result<std::shared_ptr<const RsaKeyPair>> generated) {
  if (worker_.joinable()) worker_.join();  // done: it only had the post left
  if (generated) {
    key_ = std::move(*generated);
  } else {
    error_ = Status(generated.error());
  }
  pending_ = false;
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& ready : waiting)
    ready();
}

void RsaKeySource::when_ready(std::function<void()> ready) {
  if (!pending_) {
    ready();
    return;
  }
  waiting_.push_back(std::move(ready));
}

}  // namespace brelay::net
