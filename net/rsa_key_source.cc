#include "net/rsa_key_source.h"

namespace brelay::net {

std::shared_ptr<RsaKeySource> RsaKeySource::create(EventLoop& loop, int bits,
                                                   std::function<void(const Error&)> on_failure) {
  std::shared_ptr<RsaKeySource> source(new RsaKeySource(loop, bits, std::move(on_failure)));
  source->self_ = source;
  return source;
}

void RsaKeySource::start() {
  started_ = true;
  worker_ = std::thread([&loop = loop_, bits = bits_, target = self_] {
    auto generated = RsaKeyPair::generate(bits);
    // The source joins this thread in its destructor, so the loop is still there to post to.
    loop.post([target, generated = std::move(generated)]() mutable {
      if (auto alive = target.lock()) alive->hand_over(std::move(generated));
    });
  });
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
    if (on_failure_) on_failure_(generated.error());
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
  if (!started_) start();
}

}  // namespace brelay::net
