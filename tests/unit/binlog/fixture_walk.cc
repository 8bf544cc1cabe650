#include "tests/unit/binlog/fixture_walk.h"

#include <cstdlib>

#include "relay/binlog/binlog_file.h"
#include "relay/binlog/format_description.h"
#include "tests/support/paths.h"

namespace brelay::binlog::testing {

std::string fixture_path(const std::string& name) {
  return brelay::testing::source_dir() + "/tests/data/binlogs/" + name;
}

Result<WalkedFile> walk_binlog_file(const std::string& path) {
  BRELAY_ASSIGN_OR_RETURN(BinlogFileReader reader, BinlogFileReader::open(path));
  WalkedFile walked;
  TransactionBoundaryTracker tracker;
  while (true) {
    const std::uint64_t offset = reader.position();
    BRELAY_ASSIGN_OR_RETURN(std::optional<ByteView> bytes, reader.next());
    if (!bytes) break;
    auto event = view_event(*bytes, walked.checksum);
    if (!event) return std::move(event).error().with_context(fmt::format("offset {}", offset));
    if (event->header.type == EventType::kFormatDescription) {
      BRELAY_ASSIGN_OR_RETURN(FormatDescription fde, parse_format_description(*bytes));
      walked.checksum = fde.checksum_algorithm;
    }
    if (event->has_checksum) {
      auto verified = verify_event_checksum(*bytes);
      if (!verified) return std::move(verified).error().with_context(fmt::format("offset {}", offset));
    }
    if (event->header.log_pos != 0 && event->header.log_pos != offset + event->header.event_size) {
      return make_error("offset {}: log_pos {} is not offset + size {}", offset, event->header.log_pos,
                        offset + event->header.event_size);
    }
    auto boundary = tracker.feed(*event);
    if (!boundary) return std::move(boundary).error().with_context(fmt::format("offset {}", offset));
    WalkedEvent walked_event;
    walked_event.offset = offset;
    walked_event.header = event->header;
    walked_event.bytes.assign(bytes->begin(), bytes->end());
    walked_event.has_checksum = event->has_checksum;
    walked_event.boundary = *boundary;
    walked_event.gtid = tracker.current_gtid();
    walked.events.push_back(std::move(walked_event));
  }
  walked.transactions = tracker.completed_transactions();
  walked.ends_at_boundary = tracker.at_boundary();
  return walked;
}

}  // namespace brelay::binlog::testing
