#include "relay/tools/binlog_dump.h"

#include <charconv>

#include <fmt/format.h>

#include "relay/binlog/event_header.h"
#include "relay/binlog/event_info.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/transaction_boundary.h"
#include "relay/core/stored_event_check.h"
#include "storage/store_reader.h"

namespace brelay::relay {
namespace {

constexpr std::size_t kReadBytes = std::size_t{1} << 20;

// Info texts hold statements; keep each event on one line.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else
      out.push_back(c);
  }
  return out;
}

// The checksum algorithm of the file's events, from the FDE the store keeps for it.
Result<binlog::ChecksumAlgorithm> file_checksum(const storage::FileInfo& file) {
  if (file.format_description.empty()) return binlog::ChecksumAlgorithm::kUndefined;
  auto fde = binlog::parse_format_description(file.format_description);
  if (!fde) {
    return make_error("the stored format description of {} cannot be parsed: {}", file.name,
                      fde.error().message());
  }
  return fde->checksum_algorithm;
}

}  // namespace

Result<std::pair<std::string, std::uint64_t>> parse_file_position(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    if (text.empty()) return make_error("--from needs FILE or FILE:POS, e.g. mysql-bin.000042:4");
    return std::pair<std::string, std::uint64_t>(std::string(text), 0);
  }
  const std::string_view number = text.substr(colon + 1);
  std::uint64_t position = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), position);
  if (colon == 0 || number.empty() || ec != std::errc() || end != number.data() + number.size()) {
    return make_error("'{}' is not FILE:POS (e.g. mysql-bin.000042:4)", text);
  }
  return std::pair<std::string, std::uint64_t>(std::string(text.substr(0, colon)), position);
}

Result<std::uint64_t> dump_events(storage::BinlogStore& store, const DumpOptions& options,
                                  std::ostream& out) {
  BRELAY_ASSIGN_OR_RETURN(storage::StoreReader reader, storage::StoreReader::open(store));
  if (options.from_file.empty()) {
    BRELAY_TRY(reader.seek_oldest());
  } else if (options.from_position == 0) {
    BRELAY_TRY(reader.seek_file_start(options.from_file));
  } else {
    BRELAY_TRY(reader.seek(options.from_file, options.from_position));
  }
  out << (options.gtid_column ? "Log_name\tPos\tEvent_type\tServer_id\tEnd_log_pos\tGtid\tInfo\n"
                              : "Log_name\tPos\tEvent_type\tServer_id\tEnd_log_pos\tInfo\n");
  std::uint64_t listed = 0;
  std::string current_file;
  binlog::ChecksumAlgorithm algorithm = binlog::ChecksumAlgorithm::kUndefined;
  binlog::ChecksumAlgorithm stored_checksum = binlog::ChecksumAlgorithm::kOff;
  binlog::TransactionBoundaryTracker tracker;
  while (options.limit == 0 || listed < options.limit) {
    BRELAY_ASSIGN_OR_RETURN(storage::ReadBatch batch, reader.read(kReadBytes));
    if (batch.runs.empty()) break;
    if (reader.file().name != current_file) {
      current_file = reader.file().name;
      BRELAY_ASSIGN_OR_RETURN(algorithm, file_checksum(reader.file()));
      stored_checksum = stored_file_checksum(reader.file());
      tracker.reset();
    }
    std::size_t consumed = 0;
    for (const storage::EventRun& run : batch.runs) {
      for (std::size_t i = 0; i < run.event_count(); ++i) {
        if (options.limit != 0 && listed == options.limit) break;
        const ByteView bytes = run.event(i);
        const std::uint64_t position = run.event_position(i);
        BRELAY_TRY(verify_stored_event(store, current_file, position, bytes, stored_checksum));
        auto event = binlog::view_event(bytes, algorithm);
        if (!event) {
          return make_error("{}:{}: the stored event cannot be read: {}", current_file, position,
                            event.error().message());
        }
        if (event->header.type == binlog::EventType::kFormatDescription) {
          BRELAY_ASSIGN_OR_RETURN(auto fde, binlog::parse_format_description(bytes));
          algorithm = fde.checksum_algorithm;
          event = binlog::view_event(bytes, algorithm);
          if (!event) return make_error("{}:{}: {}", current_file, position, event.error().message());
        }
        auto info = binlog::event_info(*event);
        std::string gtid;
        if (options.gtid_column) {
          auto boundary = tracker.feed(*event);
          if (!boundary) {
            tracker.reset();  // e.g. a listing that began inside a transaction
          } else if (boundary->in_transaction) {
            gtid = tracker.current_gtid().to_string();
          }
        }
        out << fmt::format("{}\t{}\t{}\t{}\t{}\t", current_file, position,
                           binlog::event_type_name(event->header.type), event->header.server_id,
                           event->header.log_pos);
        if (options.gtid_column) out << gtid << '\t';
        out << (info ? one_line(*info) : fmt::format("(unreadable: {})", one_line(info.error().message())))
            << '\n';
        listed += 1;
        consumed = static_cast<std::size_t>(position + bytes.size() - batch.runs.front().position());
      }
    }
    reader.consume(consumed);
    reader.release();
    if (batch.at_durable_end && consumed == batch.bytes) break;
  }
  reader.release();
  return listed;
}

}  // namespace brelay::relay
