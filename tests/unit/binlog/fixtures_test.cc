// The real MySQL 5.7 / 8.0 and MariaDB 10.5 binlog files in tests/data/binlogs (see SOURCES.md):
// every file parses event by event to its end with every CRC verified, and the GTIDs, previous
// GTID sets, transaction counts and compressed payloads come out as the servers wrote them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "relay/binlog/binlog_file.h"
#include "relay/binlog/event_info.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/gtid_event.h"
#include "relay/binlog/gtid_list_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/previous_gtids_event.h"
#include "relay/binlog/query_event.h"
#include "relay/binlog/table_map_event.h"
#include "relay/binlog/transaction_payload_event.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/binlog/fixture_walk.h"

namespace brelay::binlog::testing {
namespace {

using brelay::testing::read_file;
using brelay::testing::TempDir;
using brelay::testing::write_file;

const char* const kFixtures[] = {
    "apecloud-mysql57-gtid-row.000080",
    "apecloud-mysql80-gtid-zstd-compressed.000057",
    "rust-mysql-common-mariadb105-gtid-row.000001",
    "rust-mysql-common-mysql80-json-partial-update.000001",
    "shyiko-mysql57-row-checksum-none.binlog",
};

WalkedFile walk(const std::string& name) {
  auto walked = walk_binlog_file(fixture_path(name));
  EXPECT_TRUE(walked) << name << ": " << walked.error().message();
  return walked ? *walked : WalkedFile{};
}

EventView view_of(const WalkedEvent& event) {
  return *view_event(event.bytes, event.has_checksum ? ChecksumAlgorithm::kCrc32 : ChecksumAlgorithm::kOff);
}

std::vector<std::string> transaction_gtids(const WalkedFile& file) {
  std::vector<std::string> gtids;
  for (const auto& event : file.events)
    if (event.boundary.ends_transaction) gtids.push_back(event.gtid.to_string());
  return gtids;
}

TEST(BinlogFixtures, EveryFileParsesToItsEndWithEveryChecksumVerified) {
  for (const char* name : kFixtures) {
    SCOPED_TRACE(name);
    WalkedFile file = walk(name);
    ASSERT_FALSE(file.events.empty());
    EXPECT_EQ(file.events.front().header.type, EventType::kFormatDescription);
    EXPECT_EQ(file.events.back().offset + file.events.back().header.event_size,
              std::filesystem::file_size(fixture_path(name)));
    EXPECT_TRUE(file.ends_at_boundary);
    for (const auto& event : file.events) {
      auto info = event_info(view_of(event));
      EXPECT_TRUE(info) << "offset " << event.offset << ": " << info.error().message();
    }
  }
}

TEST(BinlogFixtures, Mysql80CompressedFileHasPreviousSetAndGtids11To13) {
  WalkedFile file = walk("apecloud-mysql80-gtid-zstd-compressed.000057");
  ASSERT_EQ(file.events.size(), 8u);
  EXPECT_EQ(file.checksum, ChecksumAlgorithm::kCrc32);
  auto fde = parse_format_description(file.events[0].bytes);
  ASSERT_TRUE(fde) << fde.error().message();
  EXPECT_EQ(fde->server_version, "8.0.31");
  EXPECT_EQ(fde->binlog_version, 4);
  EXPECT_EQ(format_description_info(*fde), "Server ver: 8.0.31, Binlog ver: 4");

  auto previous = parse_previous_gtids(view_of(file.events[1]));
  ASSERT_TRUE(previous) << previous.error().message();
  EXPECT_EQ(previous->to_string(), "76f3e7be-6720-11ed-9cad-0242ac110002:1-10");

  EXPECT_EQ(file.transactions, 3u);
  EXPECT_EQ(transaction_gtids(file), (std::vector<std::string>{"76f3e7be-6720-11ed-9cad-0242ac110002:11",
                                                               "76f3e7be-6720-11ed-9cad-0242ac110002:12",
                                                               "76f3e7be-6720-11ed-9cad-0242ac110002:13"}));
  auto gtid = parse_gtid_event(view_of(file.events[2]));
  ASSERT_TRUE(gtid);
  EXPECT_EQ(gtid_event_info(*gtid), "SET @@SESSION.GTID_NEXT= '76f3e7be-6720-11ed-9cad-0242ac110002:11'");
  EXPECT_EQ(gtid->immediate_server_version, 80031u);
  EXPECT_GT(gtid->transaction_length, 0u);
  EXPECT_EQ(gtid->sequence_number, gtid->last_committed + 1);

  // The file's GTIDs extend its previous set to 1-13.
  GtidSet executed = *previous;
  for (const auto& text : transaction_gtids(file))
    executed.add(*Gtid::parse(text));
  EXPECT_EQ(executed.to_string(), "76f3e7be-6720-11ed-9cad-0242ac110002:1-13");
}

TEST(BinlogFixtures, Mysql80CompressedTransactionsDecompressToTheirEvents) {
  WalkedFile file = walk("apecloud-mysql80-gtid-zstd-compressed.000057");
  std::vector<std::vector<EventType>> inner_types;
  for (const auto& event : file.events) {
    if (event.header.type != EventType::kTransactionPayload) continue;
    auto payload = parse_transaction_payload(view_of(event));
    ASSERT_TRUE(payload) << payload.error().message();
    EXPECT_EQ(payload->compression, PayloadCompression::kZstd);
    auto decompressed = decompress_transaction_payload(*payload);
    ASSERT_TRUE(decompressed) << decompressed.error().message();
    EXPECT_EQ(decompressed->size(), payload->uncompressed_size);
    std::vector<EventType> types;
    TransactionBoundaryTracker inner;
    ASSERT_TRUE(for_each_payload_event(*decompressed, [&](const EventView& inner_event) -> Status {
      types.push_back(inner_event.header.type);
      // Inner events carry no CRC of their own: an Xid is header + u64.
      if (inner_event.header.type == EventType::kXid) {
        EXPECT_EQ(inner_event.bytes.size(), 19u + 8u);
      }
      BRELAY_TRY(event_info(inner_event));
      BRELAY_TRY(inner.feed(inner_event));
      return {};
    }));
    // The payload holds exactly one whole transaction (BEGIN ... XID).
    EXPECT_TRUE(inner.at_boundary());
    EXPECT_EQ(inner.completed_transactions(), 1u);
    inner_types.push_back(types);
  }
  ASSERT_EQ(inner_types.size(), 2u);
  for (const auto& types : inner_types) {
    ASSERT_GE(types.size(), 4u);
    EXPECT_EQ(types.front(), EventType::kQuery);  // BEGIN
    EXPECT_EQ(types.back(), EventType::kXid);
    EXPECT_NE(std::find(types.begin(), types.end(), EventType::kTableMap), types.end());
    EXPECT_NE(std::find(types.begin(), types.end(), EventType::kRowsQuery), types.end());
  }
  const bool has_write =
      std::find(inner_types[0].begin(), inner_types[0].end(), EventType::kWriteRows) != inner_types[0].end();
  const bool has_update =
      std::find(inner_types[1].begin(), inner_types[1].end(), EventType::kUpdateRows) != inner_types[1].end();
  EXPECT_TRUE(has_write);
  EXPECT_TRUE(has_update);
}

TEST(BinlogFixtures, Mysql57GtidFileHasPreviousSetAndGtids53To62) {
  WalkedFile file = walk("apecloud-mysql57-gtid-row.000080");
  auto previous = parse_previous_gtids(view_of(file.events[1]));
  ASSERT_TRUE(previous) << previous.error().message();
  EXPECT_EQ(previous->to_string(), "58cf6502-63db-11ed-8079-0242ac110002:1-52");
  std::vector<std::string> expected;
  for (int gno = 53; gno <= 62; ++gno)
    expected.push_back("58cf6502-63db-11ed-8079-0242ac110002:" + std::to_string(gno));
  EXPECT_EQ(transaction_gtids(file), expected);
  // 5 DML transactions end with XID, the other 5 are DDL statements.
  int xid_ends = 0, query_ends = 0;
  for (const auto& event : file.events) {
    if (!event.boundary.ends_transaction) continue;
    (event.header.type == EventType::kXid ? xid_ends : query_ends)++;
  }
  EXPECT_EQ(xid_ends, 5);
  EXPECT_EQ(query_ends, 5);
}

TEST(BinlogFixtures, MariadbFileHasTwoGtidsAndItsFdeChecksumVerifiesOnlyWithInUseCleared) {
  WalkedFile file = walk("rust-mysql-common-mariadb105-gtid-row.000001");
  ASSERT_EQ(file.events.size(), 13u);
  const WalkedEvent& fde_event = file.events[0];
  EXPECT_NE(fde_event.header.flags & event_flags::kBinlogInUse, 0);
  EXPECT_TRUE(verify_event_checksum(fde_event.bytes));
  // The stored CRC is not the CRC of the bytes as they are: the IN_USE rule matters.
  const std::uint32_t plain = crc32(ByteView(fde_event.bytes).first(fde_event.bytes.size() - 4));
  EXPECT_NE(plain, compute_event_checksum(fde_event.bytes));
  auto fde = parse_format_description(fde_event.bytes);
  ASSERT_TRUE(fde);
  EXPECT_TRUE(fde->is_mariadb());
  EXPECT_EQ(fde->server_version, "10.5.15-MariaDB-1:10.5.15+maria~focal-log");

  EXPECT_EQ(transaction_gtids(file), (std::vector<std::string>{"0-1-1", "0-1-2"}));
  auto list = parse_gtid_list(view_of(file.events[1]));
  ASSERT_TRUE(list) << list.error().message();
  EXPECT_TRUE(list->gtids.empty());
  EXPECT_EQ(gtid_list_info(*list), "[]");
  auto checkpoint = parse_binlog_checkpoint(view_of(file.events[2]));
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(*checkpoint, "mariadb-bin.000001");
  auto gtid = parse_mariadb_gtid(view_of(file.events[3]));
  ASSERT_TRUE(gtid);
  EXPECT_EQ(mariadb_gtid_info(*gtid), "BEGIN GTID 0-1-1");
  auto annotate = event_info(view_of(file.events[4]));
  ASSERT_TRUE(annotate);
  EXPECT_TRUE(annotate->starts_with("insert into outbox")) << *annotate;
  auto table_map = event_info(view_of(file.events[5]));
  ASSERT_TRUE(table_map);
  EXPECT_TRUE(table_map->starts_with("table_id: ")) << *table_map;
  auto rows = event_info(view_of(file.events[6]));
  ASSERT_TRUE(rows);
  EXPECT_TRUE(rows->ends_with("flags: STMT_END_F")) << *rows;
}

TEST(BinlogFixtures, NoChecksumMysql57FileHas36CommittedTransactionsAnd4Ddl) {
  WalkedFile file = walk("shyiko-mysql57-row-checksum-none.binlog");
  EXPECT_EQ(file.checksum, ChecksumAlgorithm::kOff);
  ASSERT_EQ(file.events.size(), 191u);
  // Only the FDE carries a CRC (always, even with binlog_checksum=NONE).
  EXPECT_TRUE(file.events[0].has_checksum);
  for (std::size_t i = 1; i < file.events.size(); ++i)
    EXPECT_FALSE(file.events[i].has_checksum);
  int xid_ends = 0, ddl_ends = 0;
  for (const auto& event : file.events) {
    if (!event.boundary.ends_transaction) continue;
    EXPECT_EQ(event.gtid.kind, TransactionGtid::Kind::kAnonymous);
    if (event.header.type == EventType::kXid) {
      ++xid_ends;
    } else {
      ++ddl_ends;
      auto query = parse_query(view_of(event));
      ASSERT_TRUE(query);
      EXPECT_EQ(classify_query(query->query), QueryKind::kOther);
    }
  }
  EXPECT_EQ(xid_ends, 36);
  EXPECT_EQ(ddl_ends, 4);
  EXPECT_EQ(file.transactions, 40u);
  EXPECT_EQ(file.events.back().header.type, EventType::kStop);
}

TEST(BinlogFixtures, Mysql80JsonFileWithPartialUpdateWalksAnonymousTransactions) {
  WalkedFile file = walk("rust-mysql-common-mysql80-json-partial-update.000001");
  std::map<EventType, int> counts;
  for (const auto& event : file.events)
    counts[event.header.type]++;
  EXPECT_EQ(counts[EventType::kPartialUpdateRows], 1);
  EXPECT_EQ(counts[EventType::kAnonymousGtid], 8);
  EXPECT_EQ(file.transactions, 8u);
  auto previous = parse_previous_gtids(view_of(file.events[1]));
  ASSERT_TRUE(previous);
  EXPECT_TRUE(previous->empty());
}

TEST(BinlogFixtures, WritingTheEventsBackOutGivesAByteIdenticalFile) {
  auto dir = TempDir::create("binlog-export");
  ASSERT_TRUE(dir);
  for (const char* name : kFixtures) {
    SCOPED_TRACE(name);
    WalkedFile file = walk(name);
    const std::string out_path = dir->file(name);
    auto writer = BinlogFileWriter::create(out_path);
    ASSERT_TRUE(writer) << writer.error().message();
    for (const auto& event : file.events)
      ASSERT_TRUE(writer->append(event.bytes));
    EXPECT_EQ(writer->position(), std::filesystem::file_size(fixture_path(name)));
    ASSERT_TRUE(writer->finish());
    auto original = read_file(fixture_path(name));
    auto copy = read_file(out_path);
    ASSERT_TRUE(original && copy);
    EXPECT_TRUE(*original == *copy);
  }
}

TEST(BinlogFixtures, ReaderRejectsTruncatedFilesAndWrongMagic) {
  auto dir = TempDir::create("binlog-truncated");
  ASSERT_TRUE(dir);
  auto original = read_file(fixture_path("apecloud-mysql57-gtid-row.000080"));
  ASSERT_TRUE(original);
  // Cut inside the header of the second event and inside the body of the last one.
  for (std::size_t cut : {std::size_t{130}, original->size() - 3}) {
    const std::string path = dir->file("cut");
    ASSERT_TRUE(write_file(path, std::string_view(*original).substr(0, cut)));
    auto reader = BinlogFileReader::open(path);
    ASSERT_TRUE(reader);
    Status status;
    while (true) {
      auto next = reader->next();
      if (!next) {
        status = next.error();
        break;
      }
      if (!*next) break;
    }
    ASSERT_FALSE(status.ok()) << "cut at " << cut;
    EXPECT_NE(status.error().message().find("truncated event at offset"), std::string::npos)
        << status.error().message();
  }
  const std::string path = dir->file("not-a-binlog");
  ASSERT_TRUE(write_file(path, "hello world"));
  auto reader = BinlogFileReader::open(path);
  ASSERT_FALSE(reader);
  EXPECT_NE(reader.error().message().find("magic"), std::string::npos);
}

}  // namespace
}  // namespace brelay::binlog::testing
