#include "relay/core/commit_notifier.h"

#include <vector>

namespace brelay::relay {

CommitNotifier::CommitNotifier(net::EventLoop& loop)
    : loop_(loop), self_(std::make_shared<std::atomic<CommitNotifier*>>(this)) {}

CommitNotifier::~CommitNotifier() {
  self_->store(nullptr);
}

void CommitNotifier::publish(const Progress& progress) {
  {
    std::lock_guard lock(mutex_);
    pending_ = progress;
    if (delivery_posted_) return;
    delivery_posted_ = true;
  }
  loop_.post([self = self_] {
    if (CommitNotifier* notifier = self->load(); notifier != nullptr) notifier->deliver();
  });
}

void CommitNotifier::deliver() {
  {
    std::lock_guard lock(mutex_);
    latest_ = pending_;
    delivery_posted_ = false;
  }
  std::vector<SubscriptionId> ids;
  ids.reserve(subscribers_.size());
  for (const auto& [id, subscriber] : subscribers_)
    ids.push_back(id);
  for (SubscriptionId id : ids) {
    auto it = subscribers_.find(id);
    if (it == subscribers_.end()) continue;  // unsubscribed by an earlier subscriber
    Subscriber subscriber = it->second;      // it may unsubscribe itself
    subscriber(latest_);
  }
}

CommitNotifier::SubscriptionId CommitNotifier::subscribe(Subscriber subscriber) {
  const SubscriptionId id = next_id_++;
  subscribers_.emplace(id, std::move(subscriber));
  return id;
}

void CommitNotifier::unsubscribe(SubscriptionId id) {
  subscribers_.erase(id);
}

}  // namespace brelay::relay
