// Drives every binlog event parser, the builders that rewrite events, the transaction tracker and
// the GTID text/binary decoders with arbitrary bytes. An input that starts with the binlog magic
// is walked as a file of events (the fixture files seed the corpus); any other input is taken as
// one event and as GTID text. Every call must return a value or an error, never crash or read out
// of bounds; decoded GTID sets must survive an encode/decode and a print/parse round trip.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "relay/binlog/event_builders.h"
#include "relay/binlog/event_info.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/gtid_event.h"
#include "relay/binlog/gtid_list_event.h"
#include "relay/binlog/gtid_set.h"
#include "relay/binlog/heartbeat_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/mariadb_gtid_position.h"
#include "relay/binlog/query_event.h"
#include "relay/binlog/transaction_boundary.h"
#include "relay/binlog/transaction_payload_event.h"

namespace brelay::binlog {
namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

void exercise_gtid_set_bytes(ByteView bytes) {
  auto set = GtidSet::decode(bytes);
  if (!set) return;
  auto again = GtidSet::decode(set->encode());
  check(again && *again == *set);
  auto reparsed = GtidSet::parse(set->to_string());
  check(reparsed && *reparsed == *set);
}

void exercise_event(ByteView bytes, ChecksumAlgorithm algorithm, TransactionBoundaryTracker& tracker) {
  auto event = view_event(bytes, algorithm);
  if (!event) return;
  check(event->body.size() <= bytes.size());
  if (event->has_checksum) (void)verify_event_checksum(bytes);
  (void)event_info(*event);
  (void)tracker.feed(*event);
  exercise_gtid_set_bytes(event->body);
  switch (event->header.type) {
    case EventType::kFormatDescription:
      (void)parse_format_description(bytes);
      (void)rewrite_format_description(bytes, true);
      break;
    case EventType::kMariadbGtid: (void)mariadb_gtid_for_old_replica(bytes, event->has_checksum); break;
    case EventType::kTransactionPayload: {
      auto payload = parse_transaction_payload(*event);
      if (!payload) break;
      auto decompressed = decompress_transaction_payload(*payload, 1 << 20);
      if (!decompressed) break;
      TransactionBoundaryTracker inner;
      (void)for_each_payload_event(*decompressed, [&inner](const EventView& inner_event) -> Status {
        (void)event_info(inner_event);
        (void)inner.feed(inner_event);
        return {};
      });
      break;
    }
    default: break;
  }
  (void)mariadb_dummy_event(bytes, event->has_checksum);
}

}  // namespace
}  // namespace brelay::binlog

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace brelay::binlog;
  const brelay::ByteView input(data, size);
  TransactionBoundaryTracker tracker;
  if (size >= 4 && std::memcmp(data, kBinlogMagic.data(), 4) == 0) {
    ChecksumAlgorithm algorithm = ChecksumAlgorithm::kUndefined;
    std::size_t offset = 4;
    while (offset < size) {
      auto header = parse_event_header(input.subspan(offset));
      if (!header || header->event_size > size - offset) break;
      const brelay::ByteView bytes = input.subspan(offset, header->event_size);
      if (header->type == EventType::kFormatDescription) {
        auto fde = parse_format_description(bytes);
        if (fde) algorithm = fde->checksum_algorithm;
      }
      exercise_event(bytes, algorithm, tracker);
      offset += header->event_size;
    }
    return 0;
  }
  exercise_event(input, ChecksumAlgorithm::kCrc32, tracker);
  exercise_event(input, ChecksumAlgorithm::kOff, tracker);
  exercise_gtid_set_bytes(input);
  const std::string_view text = brelay::as_text(input);
  auto set = GtidSet::parse(text);
  if (set) {
    auto reparsed = GtidSet::parse(set->to_single_line());
    check(reparsed && *reparsed == *set);
    auto decoded = GtidSet::decode(set->encode());
    check(decoded && *decoded == *set);
  }
  auto position = MariadbGtidPosition::parse(text);
  if (position) {
    auto reparsed = MariadbGtidPosition::parse(position->to_string());
    check(reparsed && *reparsed == *position);
  }
  (void)classify_query(text);
  return 0;
}
