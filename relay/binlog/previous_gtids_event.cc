#include "relay/binlog/previous_gtids_event.h"

namespace brelay::binlog {

Result<GtidSet> parse_previous_gtids(const EventView& event) {
  if (event.header.type != EventType::kPreviousGtids) {
    return make_error("expected a Previous_gtids event, got {}", event_type_name(event.header.type));
  }
  auto set = GtidSet::decode(event.body);
  if (!set) return std::move(set).error().with_context("Previous_gtids event");
  return set;
}

}  // namespace brelay::binlog
