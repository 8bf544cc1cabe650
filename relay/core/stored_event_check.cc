#include "relay/core/stored_event_check.h"

#include "common/fault_guard.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/format_description.h"

namespace brelay::relay {
namespace {

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
  if (algorithm != binlog::ChecksumAlgorithm::kCrc32) return {};
  std::string what;
  if (event.size() < binlog::kEventHeaderSize + binlog::kChecksumSize) {
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
