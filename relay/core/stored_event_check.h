// Checking stored events before they leave the relay (served to a replica, listed by SHOW BINLOG
// EVENTS or `binlog-relay dump`, written by `binlog-relay export`): the store keeps each event
// byte for byte with the CRC32 the source computed, so a byte damaged on disk since shows as a
// mismatch. Files whose FDE says the source wrote no checksums (binlog_checksum = NONE) have
// nothing to check. Any thread; the store is thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/checksum.h"
#include "storage/binlog_store.h"
#include "storage/store_types.h"

namespace brelay::relay {

// The checksum algorithm of a stored file's events, from the FDE the store keeps for it (kOff
// when it has none or names none).
binlog::ChecksumAlgorithm stored_file_checksum(const storage::FileInfo& file);

// Verifies the CRC32 of `event`, stored at `position` of `file`, when `algorithm` is kCrc32 (else
// reads one byte of each memory page it spans); this is the first read of the event's mapped bytes
// and runs inside read_guarded (common/fault_guard.h). A mismatch, bytes that can no longer be read
// (an event file cut short under its map), or an event too short to carry a CRC32, is reported to the store
// (BinlogStore::report_damage) and returned as an Error naming the file (the source's name, never
// a path) and the position; the caller logs it (stored_damage_advice() says what to do).
Status verify_stored_event(storage::BinlogStore& store, const std::string& file, std::uint64_t position,
                           ByteView event, binlog::ChecksumAlgorithm algorithm);

// "2 damaged stored events found, the last at position 1234 of 'mysql-bin.000001': <what>" for
// /health and status; empty when none was found.
std::string describe_damage(const storage::StoreDamage& damage);

// What an operator should do about damaged stored data in `store`, for log lines.
std::string stored_damage_advice(const storage::BinlogStore& store);

}  // namespace brelay::relay
