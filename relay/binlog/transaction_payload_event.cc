#include "relay/binlog/transaction_payload_event.h"

#include <zstd.h>

#include <memory>

#include "common/byte_reader.h"

namespace brelay::binlog {

namespace {

enum PayloadField : std::uint64_t { kEnd = 0, kPayloadSize = 1, kCompressionType = 2, kUncompressedSize = 3 };

struct ZstdContext {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
};

}  // namespace

Result<TransactionPayload> parse_transaction_payload(const EventView& event) {
  if (event.header.type != EventType::kTransactionPayload) {
    return make_error("expected a Transaction_payload event, got {}", event_type_name(event.header.type));
  }
  ByteReader reader(event.body);
  TransactionPayload payload;
  bool has_size = false;
  bool has_compression = false;
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t field, reader.lenenc("Transaction_payload field type"));
    if (field == kEnd) break;
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t length, reader.lenenc("Transaction_payload field length"));
    BRELAY_ASSIGN_OR_RETURN(
        ByteView value, reader.bytes(static_cast<std::size_t>(length), "Transaction_payload field value"));
    ByteReader value_reader(value);
    switch (field) {
      case kPayloadSize: {
        BRELAY_ASSIGN_OR_RETURN(payload.payload_size,
                                value_reader.lenenc("Transaction_payload payload size"));
        has_size = true;
        break;
      }
      case kCompressionType: {
        BRELAY_ASSIGN_OR_RETURN(std::uint64_t type, value_reader.lenenc("Transaction_payload compression"));
        if (type != 0 && type != 255)
          return make_error("Transaction_payload with unknown compression type {}", type);
        payload.compression = static_cast<PayloadCompression>(type);
        has_compression = true;
        break;
      }
      case kUncompressedSize: {
        BRELAY_ASSIGN_OR_RETURN(payload.uncompressed_size,
                                value_reader.lenenc("Transaction_payload uncompressed size"));
        break;
      }
      default: break;  // unknown fields are skipped by their length
    }
  }
  if (!has_size || !has_compression) {
    return make_error("Transaction_payload header without {}",
                      has_size ? "compression type" : "payload size");
  }
  if (payload.payload_size != reader.remaining()) {
    return make_error("Transaction_payload says {} payload bytes but {} follow the header",
                      payload.payload_size, reader.remaining());
  }
  payload.payload = reader.rest();
  return payload;
}

Result<Bytes> decompress_transaction_payload(const TransactionPayload& payload, std::uint64_t limit) {
  if (payload.compression == PayloadCompression::kNone)
    return Bytes(payload.payload.begin(), payload.payload.end());
  if (payload.uncompressed_size > limit) {
    return make_error("Transaction_payload of {} uncompressed bytes exceeds the limit of {}",
                      payload.uncompressed_size, limit);
  }
  std::unique_ptr<ZSTD_DCtx, ZstdContext> context(ZSTD_createDCtx());
  if (!context) return make_error("out of memory creating a zstd decompression context");
  // One spare byte: a frame that decompresses to more than the header says fills it.
  Bytes out(static_cast<std::size_t>(payload.uncompressed_size) + 1);
  const std::size_t size = ZSTD_decompressDCtx(context.get(), out.data(), out.size(), payload.payload.data(),
                                               payload.payload.size());
  if (ZSTD_isError(size)) {
    return make_error("Transaction_payload does not decompress: zstd: {}", ZSTD_getErrorName(size));
  }
  if (size != payload.uncompressed_size) {
    return make_error("Transaction_payload decompressed to {}{} bytes, its header says {}",
                      size == out.size() ? "more than " : "", size, payload.uncompressed_size);
  }
  out.resize(size);
  return out;
}

Status for_each_payload_event(ByteView decompressed, const std::function<Status(const EventView&)>& visit) {
  std::size_t offset = 0;
  while (offset < decompressed.size()) {
    auto header = parse_event_header(decompressed.subspan(offset));
    if (!header)
      return std::move(header).error().with_context(fmt::format("event at payload offset {}", offset));
    if (header->event_size > decompressed.size() - offset) {
      return make_error("event at payload offset {} claims {} bytes, {} remain", offset, header->event_size,
                        decompressed.size() - offset);
    }
    BRELAY_ASSIGN_OR_RETURN(EventView event, view_event(decompressed.subspan(offset, header->event_size),
                                                        ChecksumAlgorithm::kOff));
    BRELAY_TRY(visit(event));
    offset += header->event_size;
  }
  return {};
}

std::string transaction_payload_info(const TransactionPayload& payload) {
  return fmt::format("compression='{}', decompressed_size={} bytes",
                     payload.compression == PayloadCompression::kZstd ? "ZSTD" : "NONE",
                     payload.uncompressed_size);
}

}  // namespace brelay::binlog
