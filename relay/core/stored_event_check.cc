#include "relay/core/stored_event_check.h"

#include "common/fault_guard.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/format_description.h"

namespace brelay::relay {
namespace {

constexpr std::size_t kTouchStride = 4096;  // no larger than a memory page

struct EventCrc {
  ByteView event;
  std::uint32_t computed = 0;
  std::uint32_t stored = 0;
};

// Plain reads only (read_guarded's rule).
void read_crc(void* context) {
  auto* crc = static_cast<EventCrc*>(context);
  const ByteView event = crc->event;
  crc->computed = binlog::compute_event_checksum(event);
  const std::size_t at = event.size() - binlog::kChecksumSize;
  crc->stored = std::uint32_t{event[at]} | std::uint32_t{event[at + 1]} << 8 |
                std::uint32_t{event[at + 2]} << 16 | std::uint32_t{event[at + 3]} << 24;
}

// For files without checksums: one byte of each memory page the event spans, so that an event
// file cut short under its map is found here, in a guarded read, as it is for checksummed files.
struct EventTouch {
  ByteView event;
  std::uint8_t sum = 0;
};

void touch_pages(void* context) {
  auto* touch = static_cast<EventTouch*>(context);
  const ByteView event = touch->event;
  const volatile std::uint8_t* bytes = event.data();
  std::uint8_t sum = 0;
  for (std::size_t at = 0; at < event.size(); at += kTouchStride)
    sum = static_cast<std::uint8_t>(sum + bytes[at]);
  touch->sum = static_cast<std::uint8_t>(sum + bytes[event.size() - 1]);
}

}  // namespace

binlog::ChecksumAlgorithm stored_file_checksum(const storage::FileInfo& file) {
  if (file.format_description.empty()) return binlog::ChecksumAlgorithm::kOff;
  auto fde = binlog::parse_format_description(file.format_description);
  if (!fde || fde->checksum_algorithm == binlog::ChecksumAlgorithm::kUndefined)
    return binlog::ChecksumAlgorithm::kOff;
  return fde->checksum_algorithm;
}

Status verify_stored_event(storage::BinlogStore& store, const std::string& file, std::uint64_t position,
                           ByteView event, binlog::ChecksumAlgorithm algorithm) {
  std::string what;
  if (algorithm != binlog::ChecksumAlgorithm::kCrc32) {
    // Nothing to check, but the first read is guarded all the same (fault_guard.h).
    EventTouch touch{event};
    if (event.empty() || read_guarded(&touch_pages, &touch)) return {};
    what = "its bytes can no longer be read (its event file was cut short while the relay read it)";
  } else if (event.size() < binlog::kEventHeaderSize + binlog::kChecksumSize) {
    what = fmt::format("an event of {} bytes is too short to carry its CRC32", event.size());
  } else {
    // The first read of the event's bytes: guarded, since an event file cut short under its map
    // faults here (fault_guard.h).
    EventCrc crc{event};
    if (!read_guarded(&read_crc, &crc)) {
      what = "its bytes can no longer be read (its event file was cut short while the relay read it)";
    } else if (crc.computed == crc.stored) {
      return {};
    } else {
      what = fmt::format("its CRC32 does not match its bytes (stored {:08x}, computed {:08x})", crc.stored,
                         crc.computed);
    }
  }
  store.report_damage(file, position, what);
  return make_error("the relay's stored copy of the event at position {} of '{}' is damaged: {}", position,
                    file, what);
}

std::string describe_damage(const storage::StoreDamage& damage) {
  if (damage.events == 0) return {};
  return fmt::format("{} damaged stored event{} found (not served), the last at position {} of '{}': {}",
                     damage.events, damage.events == 1 ? "" : "s", damage.last_position, damage.last_file,
                     damage.last_what);
}

std::string stored_damage_advice(const storage::BinlogStore& store) {
  return fmt::format(
      "restore the data directory {} from a backup, or move it away and let the relay pull again from the "
      "source (or `binlog-relay import` the source's binlog files)",
      store.directory());
}

}  // namespace brelay::relay
