// Walking the stored events of one binlog file on the loop thread, for the answers that read
// events rather than stream them: the GTID state of the newest file (@@gtid_executed,
// @@gtid_binlog_pos), BINLOG_GTID_POS(), SHOW BINLOG EVENTS, and a file's previous-GTID set when
// its record carries none. Each call opens a short-lived StoreReader; the callback sees each
// whole event (a view valid during the call) with its position and may stop the walk.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "relay/binlog/checksum.h"
#include "relay/core/stored_gtids.h"
#include "storage/binlog_store.h"
#include "storage/store_types.h"

namespace brelay::relay {

enum class WalkStep { kContinue, kStop };

// Calls `visit(event, position)` for each stored event of `file` from `from` (an event start) up
// to `until` (exclusive; the durable end of the file at most). Errors: the store's (unknown file,
// a position inside an event) and the callback's.
Status walk_stored_file(storage::BinlogStore& store, const std::string& file, std::uint64_t from,
                        std::uint64_t until,
                        const std::function<Result<WalkStep>(ByteView event, std::uint64_t position)>& visit);

// The checksum algorithm of a stored file, from its FDE (kOff when the FDE is missing or has none).
binlog::ChecksumAlgorithm file_checksum_algorithm(const storage::FileInfo& file);

// A stored file's previous-GTID set: its record's blob, or when that is empty and the file is stored
// from position 4, the PREVIOUS_GTIDS / GTID_LIST event after its FDE. Kind::kNone when neither.
Result<PreviousGtids> file_previous_gtids(storage::BinlogStore& store, const storage::FileInfo& file);

}  // namespace brelay::relay
