#include "relay/tools/stored_chain.h"

#include <algorithm>

#include "relay/binlog/event_header.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/rotate_event.h"
#include "storage/store_reader.h"

namespace brelay::relay {
namespace {

// How far before a closed file's end its last event (a ROTATE or STOP) may start: a ROTATE names
// at most FN_REFLEN (512) bytes, so 4 KiB leaves room to spare.
constexpr std::uint64_t kLastEventSearch = 4096;

// The last stored event of a closed file: the store seeks only to event starts, so the nearest
// position before the end that it accepts is where that event starts.
Result<Bytes> last_event(storage::BinlogStore& store, const storage::FileInfo& file) {
  BRELAY_ASSIGN_OR_RETURN(storage::StoreReader reader, storage::StoreReader::open(store));
  const std::uint64_t lowest =
      std::max(file.first_position, file.end_position - std::min(file.end_position, kLastEventSearch));
  for (std::uint64_t start = file.end_position; start-- > lowest;) {
    if (!reader.seek(file.name, start)) continue;
    BRELAY_ASSIGN_OR_RETURN(storage::ReadBatch batch, reader.read(kLastEventSearch));
    Bytes event;
    if (!batch.runs.empty() && batch.runs[0].event_count() > 0) {
      ByteView bytes = batch.runs[0].event(0);
      event.assign(bytes.begin(), bytes.end());
    }
    reader.release();
    if (event.empty()) break;
    return event;
  }
  return make_error("the last event of {} (ending at {}) could not be read from the store", file.name,
                    file.end_position);
}

}  // namespace

std::string next_binlog_name(const std::string& name) {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot + 1 == name.size()) return {};
  const std::string digits = name.substr(dot + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      digits.size() > 18)
    return {};
  const std::string next = std::to_string(std::stoull(digits) + 1);
  const std::size_t width = std::max(digits.size(), next.size());
  return name.substr(0, dot + 1) + std::string(width - next.size(), '0') + next;
}

Result<std::optional<StoredChainEnd>> stored_chain_end(storage::BinlogStore& store) {
  BRELAY_ASSIGN_OR_RETURN(std::vector<storage::FileInfo> files, store.list_files());
  if (files.empty()) return std::optional<StoredChainEnd>();
  const storage::FileInfo& last = files.back();
  StoredChainEnd end;
  end.last_file = last.name;
  if (!last.closed) {
    end.open = true;
    return std::optional(std::move(end));
  }
  BRELAY_ASSIGN_OR_RETURN(Bytes event, last_event(store, last));
  BRELAY_ASSIGN_OR_RETURN(binlog::FormatDescription fde,
                          binlog::parse_format_description(last.format_description));
  BRELAY_ASSIGN_OR_RETURN(binlog::EventView view, binlog::view_event(event, fde.checksum_algorithm));
  if (view.header.type == binlog::EventType::kRotate) {
    BRELAY_ASSIGN_OR_RETURN(binlog::RotateEvent rotate, binlog::parse_rotate(view));
    end.expected_next = std::string(rotate.next_file);
  } else {
    end.expected_next = next_binlog_name(last.name);
  }
  return std::optional(std::move(end));
}

}  // namespace brelay::relay
