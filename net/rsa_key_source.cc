#include "net/rsa_key_source.h"

#include <sys/resource.h>
#include <unistd.h>

namespace brelay::net {
namespace {

// The worker yields to the relay's own threads: it starts with the process, while a fresh relay
// catches up with its source (issue 20: 0.15-0.25 s of CPU in the first second of an ingest on two
// cores). Nice 10 still gives it about a tenth of a busy core, so a login parked for the key waits
// a few seconds at worst.
constexpr int kWorkerNice = 10;

}  // namespace

std::shared_ptr<RsaKeySource> RsaKeySource::generate(EventLoop& loop, int bits) {
  std::shared_ptr<RsaKeySource> source(new RsaKeySource());
  std::weak_ptr<RsaKeySource> target = source;
  source->worker_ = std::thread([&loop, bits, target] {
    // Per thread on Linux; advice only (refused, the key is made at normal priority).
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWorkerNice);
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
