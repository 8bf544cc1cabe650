// Test helper: walks a binlog file with the codec (reader, header, checksum, tracker) and
// collects what the tests compare. Shared by the fixture and round-trip tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/transaction_boundary.h"

namespace brelay::binlog::testing {

struct WalkedEvent {
  std::uint64_t offset = 0;
  EventHeader header;
  Bytes bytes;
  bool has_checksum = false;
  EventBoundary boundary;
  TransactionGtid gtid;  // the tracker's GTID after this event
};

struct WalkedFile {
  std::vector<WalkedEvent> events;
  ChecksumAlgorithm checksum = ChecksumAlgorithm::kUndefined;
  std::uint64_t transactions = 0;
  bool ends_at_boundary = false;
};

// Reads every event, checks the CRC of each that has one, log_pos = offset + size for events that
// carry a position, and feeds the tracker. Any failure is an error naming the offset.
Result<WalkedFile> walk_binlog_file(const std::string& path);

// <source tree>/tests/data/binlogs/<name> (tests/support/paths.h)
std::string fixture_path(const std::string& name);

}  // namespace brelay::binlog::testing
