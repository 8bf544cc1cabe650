// TRANSACTION_PAYLOAD_EVENT (type 40, MySQL 8.0.20+ binlog_transaction_compression): a whole
// transaction's events, compressed. Body: fields of (packed type, packed length, value) with
// 1 = payload size, 2 = compression (0 ZSTD, 255 NONE), 3 = uncompressed size, 0 = end of
// header; then the payload. The inner events carry no checksum of their own.
#pragma once

#include <cstdint>
#include <functional>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/event_header.h"

namespace brelay::binlog {

enum class PayloadCompression : std::uint8_t { kZstd = 0, kNone = 255 };

struct TransactionPayload {
  std::uint64_t payload_size = 0;
  PayloadCompression compression = PayloadCompression::kNone;
  std::uint64_t uncompressed_size = 0;
  ByteView payload;  // a view into the event's bytes
};

Result<TransactionPayload> parse_transaction_payload(const EventView& event);

// Decompresses the payload (zstd or stored). Refuses an uncompressed size above `limit` bytes, and
// a result whose size differs from the header's.
Result<Bytes> decompress_transaction_payload(const TransactionPayload& payload,
                                             std::uint64_t limit = std::uint64_t{1} << 32);

// Calls `visit` with each inner event (views into `decompressed`, no checksum), in order.
// Errors: a truncated or malformed inner event, or whatever `visit` returns.
Status for_each_payload_event(ByteView decompressed, const std::function<Status(const EventView&)>& visit);

// SHOW BINLOG EVENTS Info: "compression='ZSTD', decompressed_size=N bytes".
std::string transaction_payload_info(const TransactionPayload& payload);

}  // namespace brelay::binlog
