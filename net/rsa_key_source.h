// The server's RSA key pair for caching_sha2_password, generated on a worker thread so that the
// loop never waits for it (a 2048-bit key takes a few hundred milliseconds on a small machine), and
// only when a login first needs it: most never do (TLS, mysql_native_password, a cached
// caching_sha2 login), and a key made at start cost a fresh relay 0.1-0.3 s of CPU while it caught
// up with its source on two cores (issue 20). Logins that need the key before it exists wait for
// it without blocking the loop: they register with when_ready(), which starts the generation, and
// carry on when the key has been handed over (the first such login waits for the generation once).
//
// Why generated and not stored: the key only encrypts one password exchange of a connection
// without TLS and proves nothing about the server (clients that pin a key bring their own file),
// so a new key per process costs nothing but the generation, and no secret file has to be kept,
// protected or rotated.
//
// Created and used on the loop thread (the worker only generates and posts the result). The
// destructor waits for a generation still running. Must be destroyed before its EventLoop.
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "common/result.h"
#include "net/auth_caching_sha2.h"
#include "net/event_loop.h"

namespace brelay::net {

class RsaKeySource {
 public:
  // A source that generates a key of `bits` on a worker thread once a caller waits for it;
  // `on_failure` (optional) runs on the loop thread if the generation fails.
  static std::shared_ptr<RsaKeySource> create(EventLoop& loop, int bits = 2048,
                                              std::function<void(const Error&)> on_failure = {});

  ~RsaKeySource();
  RsaKeySource(const RsaKeySource&) = delete;
  RsaKeySource& operator=(const RsaKeySource&) = delete;

  // True until the worker's result has been handed over on the loop thread.
  bool pending() const { return pending_; }
  // The worker was started (by the first when_ready()).
  bool started() const { return started_; }
  // The key; null while pending() or when generation failed (then error() says why).
  const std::shared_ptr<const RsaKeyPair>& key() const { return key_; }
  const Status& error() const { return error_; }
  // Runs `ready` on the loop thread once pending() is false: later from the loop (starting the
  // generation if it has not started), or at once when it already is. A caller that may be
  // destroyed first must guard its own lifetime.
  void when_ready(std::function<void()> ready);

 private:
  RsaKeySource(EventLoop& loop, int bits, std::function<void(const Error&)> on_failure)
      : loop_(loop), bits_(bits), on_failure_(std::move(on_failure)) {}
  void start();
  void hand_over(Result<std::shared_ptr<const RsaKeyPair>> generated);

  EventLoop& loop_;
  int bits_;
  std::function<void(const Error&)> on_failure_;
  std::weak_ptr<RsaKeySource> self_;
  bool started_ = false;
  bool pending_ = true;
  std::shared_ptr<const RsaKeyPair> key_;
  Status error_;
  std::vector<std::function<void()>> waiting_;
  std::thread worker_;
};

}  // namespace brelay::net
