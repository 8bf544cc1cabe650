#include "relay/core/stored_file_walk.h"

#include <spdlog/spdlog.h>
#include "relay/binlog/event_header.h"

#include "relay/binlog/format_description.h"
#include "relay/core/stored_event_check.h"
#include "storage/store_reader.h"

namespace brelay::relay {
namespace {

constexpr std::size_t kWalkReadBytes = 256 * 1024;

// A read error as a client may see it: damage is reported to the store and logged with its
// details (paths on the relay's host), the error names the file and position only.
Error damage_free_error(storage::BinlogStore& store, const std::string& file, std::uint64_t position,
                        const Error& why) {
  if (why.code() != storage::kStoreDamagedCode) return why;
  store.report_damage(file, position, why.message());
  spdlog::error("{}; {}", why.message(), stored_damage_advice(store));
  return Error(fmt::format("the relay's stored copy of '{}' cannot be read from position {}: it is damaged",
                           file, position),
               storage::kStoreDamagedCode);
}

}  // namespace

Status walk_stored_file(
    storage::BinlogStore& store, const std::string& file, std::uint64_t from, std::uint64_t until,
    const std::function<Result<WalkStep>(ByteView event, std::uint64_t position)>& visit) {
  if (from >= until) return {};
  BRELAY_ASSIGN_OR_RETURN(storage::StoreReader reader, storage::StoreReader::open(store));
  BRELAY_TRY(reader.seek(file, from));
  const binlog::ChecksumAlgorithm checksum = stored_file_checksum(reader.file());
  while (reader.position() < until) {
    auto read = reader.read(kWalkReadBytes);
    if (!read) return damage_free_error(store, file, reader.position(), read.error());
    const storage::ReadBatch& batch = *read;
    if (batch.file_changed || batch.runs.empty()) break;  // the file ended
    std::size_t consumed = 0;
    bool stop = false;
    for (const storage::EventRun& run : batch.runs) {
      for (std::size_t i = 0; i < run.event_count() && !stop; ++i) {
        const std::uint64_t position = run.event_position(i);
        if (position >= until) {
          stop = true;
          break;
        }
        const ByteView event = run.event(i);
        if (Status intact = verify_stored_event(store, file, position, event, checksum); !intact) {
          spdlog::error("{}; {}", intact.error().message(), stored_damage_advice(store));
          return Error(intact.error().message(), storage::kStoreDamagedCode);
        }
        BRELAY_ASSIGN_OR_RETURN(WalkStep step, visit(event, position));
        consumed += event.size();
        if (step == WalkStep::kStop) stop = true;
      }
      if (stop) break;
    }
    reader.consume(consumed);
    reader.release();
    if (stop || batch.at_durable_end) break;
  }
  return {};
}

binlog::ChecksumAlgorithm file_checksum_algorithm(const storage::FileInfo& file) {
  if (file.format_description.empty()) return binlog::ChecksumAlgorithm::kOff;
  auto fde = binlog::parse_format_description(file.format_description);
  if (!fde || fde->checksum_algorithm == binlog::ChecksumAlgorithm::kUndefined)
    return binlog::ChecksumAlgorithm::kOff;
  return fde->checksum_algorithm;
}

Result<PreviousGtids> file_previous_gtids(storage::BinlogStore& store, const storage::FileInfo& file) {
  if (!file.previous_gtids.empty()) return decode_previous_gtids(file.previous_gtids);
  if (file.first_position != 4) return PreviousGtids{};
  std::optional<Bytes> found;
  int seen = 0;
  BRELAY_TRY(walk_stored_file(store, file.name, 4, file.end_position,
                              [&](ByteView event, std::uint64_t) -> Result<WalkStep> {
                                if (++seen >= 2 && is_previous_gtids_event(event))
                                  found.emplace(event.begin(), event.end());
                                // MariaDB may put START_ENCRYPTION between the FDE and the GTID_LIST.
                                return seen >= 3 || found ? WalkStep::kStop : WalkStep::kContinue;
                              }));
  if (!found) return PreviousGtids{};
  return decode_previous_gtids(*found);
}

}  // namespace brelay::relay
