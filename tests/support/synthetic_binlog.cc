#include "tests/support/synthetic_binlog.h"

#include "common/byte_writer.h"
#include "relay/binlog/binlog_file.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/event_header.h"
#include "relay/core/stored_gtids.h"
#include "tests/support/paths.h"

namespace brelay::testing {
namespace {

Bytes make_event(binlog::EventType type, ByteView body) {
  binlog::EventHeader header;
  header.timestamp = 1'700'000'000;
  header.type = type;
  header.server_id = 1;
  header.event_size =
      static_cast<std::uint32_t>(binlog::kEventHeaderSize + body.size() + binlog::kChecksumSize);
  Bytes event(header.event_size);
  binlog::write_event_header(header, event);
  std::copy(body.begin(), body.end(), event.begin() + binlog::kEventHeaderSize);
  return event;
}

Bytes query_body(std::string_view sql) {
  ByteWriter body;
  body.u32(7).u32(0).u8(4).u16(0).u16(0).text("test").u8(0).text(sql);
  return std::move(body).take();
}

}  // namespace

Result<SyntheticBinlog> SyntheticBinlog::create(std::string prefix, std::string uuid) {
  SyntheticBinlog binlog;
  binlog.prefix_ = std::move(prefix);
  BRELAY_ASSIGN_OR_RETURN(binlog.uuid_, binlog::Uuid::parse(uuid));
  BRELAY_ASSIGN_OR_RETURN(
      auto reader,
      binlog::BinlogFileReader::open(source_dir() + "/tests/data/binlogs/apecloud-mysql57-gtid-row.000080"));
  BRELAY_ASSIGN_OR_RETURN(auto fde, reader.next());
  if (!fde) return make_error("the 5.7 fixture has no FDE");
  binlog.fde_.assign(fde->begin(), fde->end());
  return binlog;
}

std::string SyntheticBinlog::file_name(int number) const {
  return fmt::format("{}.{:06}", prefix_, number);
}

void SyntheticBinlog::append(storage::WriteBatch& batch, Bytes event, bool boundary, const Bytes& gtid_key) {
  const std::uint64_t end = position_ + event.size();
  for (std::size_t i = 0; i < 4; ++i)
    event[binlog::kLogPosOffset + i] = static_cast<std::uint8_t>(end >> (8 * i));
  binlog::store_event_checksum(event);
  Bytes& file = files_[file_];
  file.insert(file.end(), event.begin(), event.end());
  storage::EventAppend append;
  append.position = position_;
  append.bytes = event;
  append.ends_transaction = boundary;
  append.gtid = gtid_key;
  append.timestamp = 1'700'000'000;
  batch.append(append);
  position_ = end;
}

void SyntheticBinlog::begin_file(storage::WriteBatch& batch) {
  file_ = file_name(++file_number_);
  position_ = 4;
  files_[file_] = Bytes{0xfe, 'b', 'i', 'n'};
  Bytes previous = make_event(binlog::EventType::kPreviousGtids, executed_.encode());
  Bytes fde = fde_;
  for (std::size_t i = 0; i < 4; ++i)
    fde[binlog::kLogPosOffset + i] = static_cast<std::uint8_t>((4 + fde.size()) >> (8 * i));
  fde[binlog::kFlagsOffset] &= 0xfe;
  binlog::store_event_checksum(fde);
  // The stored blob is the PREVIOUS_GTIDS event as it will be in the file (log_pos and CRC set).
  Bytes previous_final = previous;
  const std::uint64_t previous_end = 4 + fde.size() + previous.size();
  for (std::size_t i = 0; i < 4; ++i)
    previous_final[binlog::kLogPosOffset + i] = static_cast<std::uint8_t>(previous_end >> (8 * i));
  binlog::store_event_checksum(previous_final);
  storage::FileStart start;
  start.name = file_;
  start.first_position = 4;
  start.format_description = fde;
  start.previous_gtids = previous_final;
  batch.begin_file(start);
  append(batch, fde, true);
  append(batch, previous, true);
}

std::int64_t SyntheticBinlog::transaction(storage::WriteBatch& batch, std::size_t statement_bytes) {
  const std::int64_t gno = next_gno_++;
  ByteWriter gtid;
  gtid.u8(1).bytes(uuid_.bytes).i64(gno).u8(2).i64(gno - 1).i64(gno);
  binlog::TransactionGtid key;
  key.kind = binlog::TransactionGtid::Kind::kMysql;
  key.mysql.source.uuid = uuid_;
  key.mysql.gno = gno;
  append(batch, make_event(binlog::EventType::kGtid, gtid.data()), false, relay::gtid_key(key));
  append(batch, make_event(binlog::EventType::kQuery, query_body("BEGIN")), false);
  std::string statement = fmt::format("INSERT INTO t VALUES ({}, '", gno);
  if (statement.size() + 2 < statement_bytes) statement.append(statement_bytes - statement.size() - 2, 'x');
  statement += "')";
  append(batch, make_event(binlog::EventType::kQuery, query_body(statement)), false);
  ByteWriter xid;
  xid.u64(next_xid_++);
  append(batch, make_event(binlog::EventType::kXid, xid.data()), true);
  executed_.add(binlog::Gtid{binlog::Tsid{uuid_, {}}, gno});
  return gno;
}

void SyntheticBinlog::rotate(storage::WriteBatch& batch, bool begin_next) {
  ByteWriter body;
  body.u64(4).text(file_name(file_number_ + 1));
  append(batch, make_event(binlog::EventType::kRotate, body.data()), true);
  batch.end_file();
  if (begin_next) begin_file(batch);
}

}  // namespace brelay::testing
