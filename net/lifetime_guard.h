// Lets an object notice that it was destroyed by a callback it made: hold a LifetimeGuard member,
// take a watch() before calling out, and return at once if watch.expired() afterwards.
#pragma once

#include <memory>

namespace brelay::net {

class LifetimeGuard {
 public:
  std::weak_ptr<const char> watch() const { return token_; }

 private:
  std::shared_ptr<const char> token_ = std::make_shared<const char>(0);
};

}  // namespace brelay::net
