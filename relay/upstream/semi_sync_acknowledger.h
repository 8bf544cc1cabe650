// SemiSyncAcknowledger: the relay's side of semi-synchronous replication. The source flags the
// events it wants acknowledged (the ends of transactions); the relay may acknowledge one only once
// the store's durable end has reached it, so that the source never commits a transaction the relay
// could still lose. request() records each flagged event in stream order; due() is called with
// every new durable end (CommitNotifier) and returns the acknowledgement to send, if any: the
// newest flagged event the durable end covers (a source takes an acknowledgement as covering
// everything before it, so one packet per commit suffices).
//
// Files are ordered by the stream handler's file ordinals (files begun later have larger ones), so
// that a durable end in a later file covers every flagged event of an earlier one. Loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "net/replication_commands.h"
#include "storage/store_types.h"

namespace brelay::relay {

class SemiSyncAcknowledger {
 public:
  // The file the stream handler numbers `ordinal` is named `name` (the restored file and each file
  // begun after it; in order).
  void note_file(std::uint64_t ordinal, std::string_view name);
  // The source asked for an acknowledgement of the event that ends at `position` of the file
  // numbered `ordinal`.
  void request(std::uint64_t ordinal, std::uint64_t position);
  // The acknowledgement that `durable_end` makes due (the newest one it covers), if any.
  std::optional<net::SemiSyncAck> due(const storage::ResumePoint& durable_end);
  // Forgets what is pending (the connection that asked for it is gone).
  void clear();
  // Forgets the files too (the stream handler was restored and numbers files from 0 again).
  void reset();

  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    std::uint64_t ordinal;
    std::uint64_t position;
  };
  std::deque<Pending> pending_;
  std::deque<std::pair<std::uint64_t, std::string>> files_;  // (ordinal, name), ascending
};

}  // namespace brelay::relay
