#include "tests/support/store_seed.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "relay/binlog/binlog_file.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/transaction_boundary.h"
#include "storage/store_writer.h"

namespace brelay::testing {

Status seed_store_from_binlogs(storage::BinlogStore& store, const std::vector<std::string>& paths,
                               storage::StoreWriter::CommitObserver on_commit) {
  std::mutex mutex;
  std::condition_variable changed;
  storage::StoreWriter::Progress latest;
  BRELAY_ASSIGN_OR_RETURN(auto writer, storage::StoreWriter::start(
                                           store, {},
                                           [&](const auto& progress) {
                                             std::lock_guard lock(mutex);
                                             latest = progress;
                                             changed.notify_all();
                                           },
                                           std::move(on_commit)));
  std::optional<storage::ResumePoint> expected_end;
  for (const std::string& path : paths) {
    BRELAY_ASSIGN_OR_RETURN(auto reader, binlog::BinlogFileReader::open(path));
    const std::string name = std::filesystem::path(path).filename().string();
    storage::WriteBatch batch;
    binlog::TransactionBoundaryTracker tracker;
    binlog::ChecksumAlgorithm algorithm = binlog::ChecksumAlgorithm::kUndefined;
    bool begun = false;
    std::uint64_t boundary_position = 4;
    while (true) {
      const std::uint64_t position = reader.position();
      BRELAY_ASSIGN_OR_RETURN(auto next, reader.next());
      if (!next) break;
      const Bytes bytes(next->begin(), next->end());
      BRELAY_ASSIGN_OR_RETURN(binlog::EventHeader header, binlog::parse_event_header(bytes));
      if (header.type == binlog::EventType::kFormatDescription) {
        BRELAY_ASSIGN_OR_RETURN(auto fde, binlog::parse_format_description(bytes));
        algorithm = fde.checksum_algorithm;
        if (!begun) {
          batch.begin_file(storage::FileStart{name, 4, bytes, {}});
          begun = true;
        }
      }
      if (!begun) return make_error("{} does not start with a format description event", path);
      BRELAY_ASSIGN_OR_RETURN(auto event, binlog::view_event(bytes, algorithm));
      BRELAY_ASSIGN_OR_RETURN(auto boundary, tracker.feed(event));
      const bool ends = !boundary.in_transaction || boundary.ends_transaction;
      const std::string gtid =
          boundary.starts_transaction ? tracker.current_gtid().to_string() : std::string();
      batch.append(storage::EventAppend{position, bytes, ends, as_bytes(gtid), header.timestamp, {}});
      if (ends) boundary_position = position + bytes.size();
    }
    if (!tracker.at_boundary()) batch.abandon_transaction();
    batch.end_file();
    BRELAY_TRY(writer->submit(std::move(batch)));
    expected_end = storage::ResumePoint{name, 0, boundary_position, 0, {}, {}};
  }
  if (expected_end) {
    std::unique_lock lock(mutex);
    const bool done = changed.wait_for(lock, std::chrono::seconds(60), [&] {
      return !latest.accepting || (latest.durable_end && latest.durable_end->file == expected_end->file &&
                                   latest.durable_end->position == expected_end->position);
    });
    if (!done) return make_error("the seeded binlogs did not become durable within 60 s");
    if (!latest.accepting) return latest.error.value_or(make_error("the writer stopped"));
  }
  return writer->stop();
}

}  // namespace brelay::testing
