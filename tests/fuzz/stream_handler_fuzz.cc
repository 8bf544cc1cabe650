// Drives the upstream's BinlogStreamHandler with arbitrary dump streams. An input that starts with
// the binlog magic is a file whose events follow a fake ROTATE, as a master sends them (the fixture
// files seed the corpus); any other input is a flags byte (bit 0 MariaDB, bit 1 GTID dump, bit 2
// CRC32 announced, bit 3 recompute every event's CRC so that mutations get past the checksum) and
// events as u16 length + bytes. Every event must be handled or refused, never crash; after a refusal
// the handler drops the unfinished transaction and is back at its last boundary, and the stream goes
// on from there as after a reconnect.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "relay/binlog/checksum.h"
#include "relay/binlog/event_builders.h"
#include "relay/binlog/event_header.h"
#include "relay/upstream/binlog_stream_handler.h"

namespace brelay::relay {
namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

std::vector<Bytes> split_events(const std::uint8_t* data, std::size_t size, bool file) {
  std::vector<Bytes> events;
  std::size_t at = file ? 4 : 0;
  while (at < size && events.size() < 4096) {
    std::size_t length = 0;
    if (file) {
      auto header = binlog::parse_event_header(ByteView(data + at, size - at));
      if (!header) break;
      length = std::min<std::size_t>(header->event_size, size - at);
    } else {
      if (size - at < 2) break;
      length = std::min<std::size_t>(data[at] | (data[at + 1] << 8), size - at - 2);
      at += 2;
    }
    events.emplace_back(data + at, data + at + length);
    at += length;
  }
  return events;
}

}  // namespace
}  // namespace brelay::relay

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace brelay;
  using namespace brelay::relay;
  if (size < 1) return 0;
  const bool file = size >= 4 && std::memcmp(data, binlog::kBinlogMagic.data(), 4) == 0;
  const std::uint8_t flags = file ? 0x0c : data[0];
  std::vector<Bytes> events = file ? split_events(data, size, true) : split_events(data + 1, size - 1, false);
  const Flavor flavor = (flags & 1) ? Flavor::kMariadb : Flavor::kMysql;
  const bool prefer_gtid = (flags & 2) != 0;
  const auto announced = (flags & 4) ? binlog::ChecksumAlgorithm::kCrc32 : binlog::ChecksumAlgorithm::kOff;
  if (flags & 8) {
    for (Bytes& event : events) {
      if (event.size() >= binlog::kEventHeaderSize + binlog::kChecksumSize)
        binlog::store_event_checksum(event);
    }
  }
  events.insert(events.begin(),
                binlog::build_fake_rotate(1, "f.000001", 4, announced == binlog::ChecksumAlgorithm::kCrc32));

  BinlogStreamHandler handler;
  handler.restore({});
  handler.begin_connection(handler.plan_dump(prefer_gtid, flavor, "", 4), announced, flavor);
  storage::WriteBatch batch;
  int reconnects = 0;
  for (const Bytes& event : events) {
    auto outcome = handler.handle_event(event, batch);
    if (!outcome) {
      check(handler.last_fault() != StreamFault::kNone);
      handler.end_connection(batch);
      check(handler.next_position() == handler.boundary_position());
      check(!handler.in_transaction());
      if (++reconnects > 16) break;
      const DumpRequest request = handler.plan_dump(prefer_gtid, flavor, "", 4);
      handler.begin_connection(request, announced, flavor);
      // What a master sends first on the new connection.
      auto rotate = binlog::build_fake_rotate(1, request.file.empty() ? "f.000001" : request.file,
                                              request.kind == DumpRequest::Kind::kGtid ? 4 : request.position,
                                              announced == binlog::ChecksumAlgorithm::kCrc32);
      (void)handler.handle_event(rotate, batch);
      continue;
    }
    check(outcome->kind != EventOutcome::Kind::kStored ||
          handler.next_position() >= handler.boundary_position());
    if (batch.byte_size() > (std::size_t{8} << 20)) batch.clear();
  }
  handler.end_connection(batch);
  check(handler.next_position() == handler.boundary_position());
  return 0;
}
