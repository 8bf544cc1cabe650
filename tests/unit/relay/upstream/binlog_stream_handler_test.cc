// BinlogStreamHandler against dump streams built the way a master builds them (fake ROTATE, FDE with
// IN_USE cleared, log_pos 0 for a start past position 4, heartbeats, the next file's fake ROTATE) from
// real binlog files (tests/data/binlogs), stored through a real StoreWriter in a temporary directory
// and exported again: what comes out must be the source's files byte for byte. Also: reconnects in
// the middle of a transaction, GTID dumps that re-send what is stored, and every way a stream can be
// wrong (damaged bytes, gaps, overlaps, a wrong start) stores nothing of the bad event.
#include "relay/upstream/binlog_stream_handler.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/byte_writer.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/event_builders.h"
#include "relay/binlog/format_description.h"
#include "relay/core/stored_gtids.h"
#include "relay/tools/binlog_export.h"
#include "storage/binlog_store.h"
#include "storage/store_format.h"
#include "storage/store_reader.h"
#include "storage/store_writer.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

using binlog::ChecksumAlgorithm;
using binlog::EventType;
using testing::TempDir;

std::string fixture(const std::string& name) {
  return testing::source_dir() + "/tests/data/binlogs/" + name;
}

// A binlog file as a list of events, each with its offset.
struct BinlogImage {
  std::string name;
  Bytes bytes;  // the whole file, magic included
  std::vector<std::pair<std::uint64_t, Bytes>> events;

  static BinlogImage load(const std::string& name, const std::string& path) {
    BinlogImage image;
    image.name = name;
    auto text = testing::read_file(path);
    EXPECT_TRUE(text) << path;
    image.bytes = to_bytes(*text);
    std::uint64_t offset = 4;
    while (offset < image.bytes.size()) {
      auto header = binlog::parse_event_header(ByteView(image.bytes).subspan(offset));
      EXPECT_TRUE(header);
      image.events.emplace_back(
          offset, Bytes(image.bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                        image.bytes.begin() + static_cast<std::ptrdiff_t>(offset + header->event_size)));
      offset += header->event_size;
    }
    return image;
  }

  // The file as a source that closed it has it on disk: IN_USE cleared in the FDE.
  Bytes closed_bytes() const {
    Bytes out = bytes;
    const auto fde = binlog::rewrite_format_description(events.front().second, false);
    EXPECT_TRUE(fde);
    std::copy(fde->begin(), fde->end(), out.begin() + 4);
    return out;
  }

  ChecksumAlgorithm checksum() const {
    auto fde = binlog::parse_format_description(events.front().second);
    EXPECT_TRUE(fde);
    return fde->checksum_algorithm;
  }

  // Appends a real ROTATE to `next` at the end of the file.
  void append_rotate(const std::string& next) {
    const bool crc = checksum() == ChecksumAlgorithm::kCrc32;
    ByteWriter body;
    body.u64(4).text(next);
    const std::size_t size = binlog::kEventHeaderSize + body.size() + (crc ? 4 : 0);
    binlog::EventHeader header;
    header.timestamp = 1700000000;
    header.type = EventType::kRotate;
    header.server_id = 1;
    header.event_size = static_cast<std::uint32_t>(size);
    header.log_pos = static_cast<std::uint32_t>(bytes.size() + size);
    Bytes event(binlog::kEventHeaderSize);
    binlog::write_event_header(header, event);
    event.insert(event.end(), body.data().begin(), body.data().end());
    if (crc) {
      event.resize(event.size() + 4);
      binlog::store_event_checksum(event);
    }
    events.emplace_back(bytes.size(), event);
    bytes.insert(bytes.end(), event.begin(), event.end());
  }
};

// What a master sends for a dump of `image` from `position`: the fake ROTATE, the FDE (log_pos 0
// and created 0 past position 4), then the events from `position` on.
std::vector<Bytes> dump_stream(const BinlogImage& image, std::uint64_t position,
                               ChecksumAlgorithm announced) {
  std::vector<Bytes> stream;
  stream.push_back(
      binlog::build_fake_rotate(1, image.name, position, announced == ChecksumAlgorithm::kCrc32));
  auto fde = binlog::rewrite_format_description(image.events.front().second, position > 4);
  EXPECT_TRUE(fde);
  stream.push_back(*fde);
  for (const auto& [offset, event] : image.events) {
    if (offset >= position && offset != 4) stream.push_back(event);
  }
  return stream;
}

// A master moving on to the next file: its fake ROTATE and its events from 4 (the FDE as sent).
void continue_with(std::vector<Bytes>& stream, const BinlogImage& next) {
  const bool crc = next.checksum() == ChecksumAlgorithm::kCrc32;
  stream.push_back(binlog::build_fake_rotate(1, next.name, 4, crc));
  auto fde = binlog::rewrite_format_description(next.events.front().second, false);
  stream.push_back(*fde);
  for (std::size_t i = 1; i < next.events.size(); ++i)
    stream.push_back(next.events[i].second);
}

class StreamHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_.reset();
    store_.reset();
    dir_.reset();
    auto dir = TempDir::create("stream-handler");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    open_store();
  }

  void open_store() {
    writer_.reset();
    store_.reset();
    storage::StoreOptions options;
    options.sync = storage::SyncMode::kNone;
    auto store = storage::BinlogStore::open(dir_->file("store"), options);
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
    auto writer = storage::StoreWriter::start(*store_, {});
    ASSERT_TRUE(writer) << writer.error().message();
    writer_ = std::move(*writer);
  }

  // The handler continues from the store as a restarted relay would.
  void restore(BinlogStreamHandler& handler) {
    StoredStreamEnd end;
    end.durable_end = store_->durable_end();
    if (end.durable_end) {
      auto file = store_->find_file(end.durable_end->file);
      ASSERT_TRUE(file && *file);
      end.file_closed = (*file)->closed;
      auto next = store_->get_meta(kUpstreamNextFileMetaKey);
      ASSERT_TRUE(next);
      if (*next) {
        auto record = storage::NextFileRecord::decode(**next);
        ASSERT_TRUE(record) << record.error().message();
        end.next_file = record->next_file;
      }
    }
    handler.restore(end);
  }

  // Feeds `events`; stops at the first error and returns it (with what was fed before it stored).
  Status feed(BinlogStreamHandler& handler, const std::vector<Bytes>& events, std::size_t count = SIZE_MAX,
              std::vector<EventOutcome>* outcomes = nullptr) {
    storage::WriteBatch batch = writer_->take_batch();
    Status status;
    for (std::size_t i = 0; i < events.size() && i < count; ++i) {
      auto outcome = handler.handle_event(events[i], batch);
      if (!outcome) {
        status = outcome.error();
        break;
      }
      if (outcomes) outcomes->push_back(*outcome);
    }
    if (!batch.empty()) {
      auto admitted = writer_->submit(std::move(batch));
      EXPECT_TRUE(admitted) << admitted.error().message();
    }
    return status;
  }

  void end_connection(BinlogStreamHandler& handler) {
    storage::WriteBatch batch = writer_->take_batch();
    handler.end_connection(batch);
    if (!batch.empty()) {
      ASSERT_TRUE(writer_->submit(std::move(batch)));
    }
  }

  // Waits until the writer committed everything submitted.
  void settle() {
    ASSERT_TRUE(writer_->stop());
    writer_.reset();
    auto writer = storage::StoreWriter::start(*store_, {});
    ASSERT_TRUE(writer) << writer.error().message();
    writer_ = std::move(*writer);
  }

  Bytes exported(const std::string& file) {
    settle();
    const std::string path = dir_->file(file + ".out");
    auto done = export_file(*store_, file, path);
    EXPECT_TRUE(done) << done.error().message();
    return to_bytes(testing::read_file(path).value_or(""));
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<storage::BinlogStore> store_;
  std::unique_ptr<storage::StoreWriter> writer_;
};

const char* const kMariadb = "rust-mysql-common-mariadb105-gtid-row.000001";
const char* const kMysql57 = "apecloud-mysql57-gtid-row.000080";
const char* const kMysql80 = "apecloud-mysql80-gtid-zstd-compressed.000057";
const char* const kNoChecksum = "shyiko-mysql57-row-checksum-none.binlog";

TEST_F(StreamHandlerTest, StoresEveryFlavourByteForByte) {
  for (const char* name :
       {kMariadb, kMysql57, kMysql80, kNoChecksum, "rust-mysql-common-mysql80-json-partial-update.000001"}) {
    SCOPED_TRACE(name);
    SetUp();
    const BinlogImage image = BinlogImage::load("bin.000001", fixture(name));
    const Flavor flavor =
        std::string(name).find("mariadb") != std::string::npos ? Flavor::kMariadb : Flavor::kMysql;
    BinlogStreamHandler handler;
    restore(handler);
    const DumpRequest request = handler.plan_dump(false, flavor, "", 4);
    EXPECT_EQ(request.kind, DumpRequest::Kind::kFilePosition);
    EXPECT_EQ(request.file, "");
    handler.begin_connection(request, image.checksum(), flavor);
    std::vector<Bytes> stream = dump_stream(image, 4, image.checksum());
    stream.insert(stream.begin() + 2, binlog::build_heartbeat_v1(
                                          1, image.name, 4, image.checksum() == ChecksumAlgorithm::kCrc32));
    std::vector<EventOutcome> outcomes;
    ASSERT_TRUE(feed(handler, stream, SIZE_MAX, &outcomes));
    EXPECT_EQ(outcomes[0].kind, EventOutcome::Kind::kArtificial);  // the fake ROTATE
    EXPECT_EQ(outcomes[2].kind, EventOutcome::Kind::kHeartbeat);
    EXPECT_TRUE(outcomes[3].began_file);
    EXPECT_EQ(handler.file(), "bin.000001");
    EXPECT_EQ(handler.next_position(), image.bytes.size());
    EXPECT_EQ(exported("bin.000001"), image.closed_bytes());
  }
}

TEST_F(StreamHandlerTest, KeepsTheGtidStateAndKeysOfBothFlavours) {
  {
    const BinlogImage image = BinlogImage::load("m.000001", fixture(kMariadb));
    BinlogStreamHandler handler;
    restore(handler);
    handler.begin_connection(handler.plan_dump(true, Flavor::kMariadb, "", 4), ChecksumAlgorithm::kCrc32,
                             Flavor::kMariadb);
    ASSERT_TRUE(feed(handler, dump_stream(image, 4, ChecksumAlgorithm::kCrc32)));
    EXPECT_EQ(handler.mariadb_state().to_string(), "0-1-2");
    settle();
    EXPECT_EQ(std::string(as_text(store_->durable_end()->executed_gtid_set)), "0-1-2");
    auto file = store_->find_file("m.000001");
    ASSERT_TRUE(file && *file);
    EXPECT_EQ(as_text((*file)->previous_gtids), "");  // the fixture's GTID_LIST is empty
    binlog::TransactionGtid gtid;
    gtid.kind = binlog::TransactionGtid::Kind::kMariadb;
    gtid.mariadb = {0, 1, 2};
    auto reader = storage::StoreReader::open(*store_);
    ASSERT_TRUE(reader);
    EXPECT_TRUE(reader->seek_gtid(gtid_key(gtid)));
  }
  SetUp();
  {
    const BinlogImage image = BinlogImage::load("s.000080", fixture(kMysql57));
    BinlogStreamHandler handler;
    restore(handler);
    handler.begin_connection(handler.plan_dump(true, Flavor::kMysql, "", 4), ChecksumAlgorithm::kCrc32,
                             Flavor::kMysql);
    ASSERT_TRUE(feed(handler, dump_stream(image, 4, ChecksumAlgorithm::kCrc32)));
    EXPECT_EQ(handler.mysql_executed().to_single_line(), "58cf6502-63db-11ed-8079-0242ac110002:1-62");
    settle();
    auto set = decode_mysql_gtid_set(store_->durable_end()->executed_gtid_set);
    ASSERT_TRUE(set);
    EXPECT_EQ(set->to_single_line(), "58cf6502-63db-11ed-8079-0242ac110002:1-62");
    auto file = store_->find_file("s.000080");
    ASSERT_TRUE(file && *file);
    auto previous = decode_mysql_gtid_set((*file)->previous_gtids);
    ASSERT_TRUE(previous);
    EXPECT_EQ(previous->to_single_line(), "58cf6502-63db-11ed-8079-0242ac110002:1-52");
  }
}

TEST_F(StreamHandlerTest, ResumesAtTheLastBoundaryAfterAConnectionEndsInsideATransaction) {
  const BinlogImage image = BinlogImage::load("bin.000080", fixture(kMysql57));
  // Cut every possible way: after each event of the stream.
  for (std::size_t cut = 3; cut < image.events.size() + 1; ++cut) {
    SCOPED_TRACE(cut);
    SetUp();
    BinlogStreamHandler handler;
    restore(handler);
    handler.begin_connection(handler.plan_dump(false, Flavor::kMysql, "", 4), ChecksumAlgorithm::kCrc32,
                             Flavor::kMysql);
    ASSERT_TRUE(feed(handler, dump_stream(image, 4, ChecksumAlgorithm::kCrc32), cut));
    end_connection(handler);
    EXPECT_EQ(handler.next_position(), handler.boundary_position());
    // A reconnecting relay continues from the boundary it handed the writer; a restarted one from
    // the store's durable end: the same place.
    if (cut % 2 == 1) {
      settle();
      restore(handler);
    }
    const DumpRequest request = handler.plan_dump(false, Flavor::kMysql, "", 4);
    handler.begin_connection(request, ChecksumAlgorithm::kCrc32, Flavor::kMysql);
    const std::uint64_t from = request.file.empty() ? 4 : request.position;
    ASSERT_TRUE(feed(handler, dump_stream(image, from, ChecksumAlgorithm::kCrc32)));
    EXPECT_EQ(exported("bin.000080"), image.closed_bytes());
  }
}

TEST_F(StreamHandlerTest, FollowsRotationsAndAFileThatEndsWithoutARotate) {
  BinlogImage first = BinlogImage::load("bin.000001", fixture(kMariadb));
  first.append_rotate("bin.000002");
  BinlogImage second = BinlogImage::load("bin.000002", fixture(kMariadb));  // ends without a ROTATE
  BinlogImage third = BinlogImage::load("bin.000003", fixture(kMariadb));
  BinlogStreamHandler handler;
  restore(handler);
  handler.begin_connection(handler.plan_dump(false, Flavor::kMariadb, "", 4), ChecksumAlgorithm::kCrc32,
                           Flavor::kMariadb);
  std::vector<Bytes> stream = dump_stream(first, 4, ChecksumAlgorithm::kCrc32);
  continue_with(stream, second);
  ASSERT_TRUE(feed(handler, stream));
  EXPECT_EQ(handler.file(), "bin.000002");
  // The relay restarts at the end of bin.000002; the source then moves on to bin.000003.
  end_connection(handler);
  settle();
  restore(handler);
  DumpRequest request = handler.plan_dump(false, Flavor::kMariadb, "", 4);
  EXPECT_EQ(request.describe(), fmt::format("bin.000002:{}", second.bytes.size()));
  handler.begin_connection(request, ChecksumAlgorithm::kCrc32, Flavor::kMariadb);
  stream = dump_stream(second, second.bytes.size(), ChecksumAlgorithm::kCrc32);
  continue_with(stream, third);
  std::vector<EventOutcome> outcomes;
  ASSERT_TRUE(feed(handler, stream, SIZE_MAX, &outcomes));
  EXPECT_TRUE(outcomes[2].ended_file);  // the fake ROTATE to bin.000003 ended bin.000002
  EXPECT_EQ(exported("bin.000001"), first.closed_bytes());
  EXPECT_EQ(exported("bin.000002"), second.closed_bytes());
  auto files = store_->list_files();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 3u);
  EXPECT_TRUE((*files)[0].closed);
  EXPECT_TRUE((*files)[1].closed);
  EXPECT_FALSE((*files)[2].closed);
  // A relay that restarts right after a ROTATE asks for the next file directly.
  SetUp();
  BinlogStreamHandler fresh;
  restore(fresh);
  fresh.begin_connection(fresh.plan_dump(false, Flavor::kMariadb, "", 4), ChecksumAlgorithm::kCrc32,
                         Flavor::kMariadb);
  ASSERT_TRUE(feed(fresh, dump_stream(first, 4, ChecksumAlgorithm::kCrc32)));
  settle();
  restore(fresh);
  EXPECT_EQ(fresh.plan_dump(false, Flavor::kMariadb, "", 4).describe(), "bin.000002:4");
}

TEST_F(StreamHandlerTest, AGtidDumpThatResendsTheFileDropsWhatIsStored) {
  const BinlogImage image = BinlogImage::load("bin.000001", fixture(kMariadb));
  for (std::size_t cut = 4; cut <= image.events.size() + 1; ++cut) {
    SCOPED_TRACE(cut);
    SetUp();
    BinlogStreamHandler handler;
    restore(handler);
    handler.begin_connection(handler.plan_dump(true, Flavor::kMariadb, "", 4), ChecksumAlgorithm::kCrc32,
                             Flavor::kMariadb);
    ASSERT_TRUE(feed(handler, dump_stream(image, 4, ChecksumAlgorithm::kCrc32), cut));
    end_connection(handler);
    settle();
    restore(handler);
    const DumpRequest request = handler.plan_dump(true, Flavor::kMariadb, "", 4);
    if (handler.mariadb_state().empty()) {
      EXPECT_EQ(request.kind, DumpRequest::Kind::kFilePosition);  // nothing to ask by GTID yet
      continue;
    }
    ASSERT_EQ(request.kind, DumpRequest::Kind::kGtid);
    handler.begin_connection(request, ChecksumAlgorithm::kCrc32, Flavor::kMariadb);
    // The source starts the GTID dump at position 4 of the file and re-sends what the relay has.
    std::vector<EventOutcome> outcomes;
    ASSERT_TRUE(feed(handler, dump_stream(image, 4, ChecksumAlgorithm::kCrc32), SIZE_MAX, &outcomes));
    EXPECT_EQ(outcomes[1].kind, EventOutcome::Kind::kAlreadyStored);
    EXPECT_EQ(exported("bin.000001"), image.closed_bytes());
  }
}

TEST_F(StreamHandlerTest, AGtidDumpThatStartsInAnotherFileAsksForAFilePositionDump) {
  const BinlogImage image = BinlogImage::load("bin.000001", fixture(kMariadb));
  BinlogStreamHandler handler;
  restore(handler);
  handler.begin_connection(handler.plan_dump(true, Flavor::kMariadb, "", 4), ChecksumAlgorithm::kCrc32,
                           Flavor::kMariadb);
  ASSERT_TRUE(feed(handler, dump_stream(image, 4, ChecksumAlgorithm::kCrc32)));
  end_connection(handler);
  const DumpRequest gtid = handler.plan_dump(true, Flavor::kMariadb, "", 4);
  ASSERT_EQ(gtid.kind, DumpRequest::Kind::kGtid);
  handler.begin_connection(gtid, ChecksumAlgorithm::kCrc32, Flavor::kMariadb);
  BinlogImage next = BinlogImage::load("bin.000002", fixture(kMariadb));
  EXPECT_FALSE(feed(handler, dump_stream(next, 4, ChecksumAlgorithm::kCrc32)));
  EXPECT_EQ(handler.last_fault(), StreamFault::kGtidStartFile);
  end_connection(handler);
  // The upstream then asks by file and position for the rest of bin.000001.
  const DumpRequest fallback = handler.plan_dump(false, Flavor::kMariadb, "", 4);
  EXPECT_EQ(fallback.describe(), fmt::format("bin.000001:{}", image.bytes.size()));
}

// After a failover the new source's GTID dump begins in a file of another name: the relay stores it
// from the first transaction it lacks (the file's earlier events are dropped), with the stored state
// as its previous GTIDs; a transaction the relay holds already ends the stream.
TEST_F(StreamHandlerTest, AfterAFailoverStoresTheNewSourcesFileFromItsFirstNewTransaction) {
  const BinlogImage image = BinlogImage::load("old.000001", fixture(kMariadb));
  std::vector<std::size_t> gtid_events;
  for (std::size_t i = 0; i < image.events.size(); ++i) {
    auto header = binlog::parse_event_header(image.events[i].second);
    ASSERT_TRUE(header);
    if (header->type == EventType::kMariadbGtid) gtid_events.push_back(i);
  }
  ASSERT_EQ(gtid_events.size(), 2U);
  const std::uint64_t second_gtid = image.events[gtid_events[1]].first;
  BinlogStreamHandler handler;
  restore(handler);
  handler.begin_connection(handler.plan_dump(true, Flavor::kMariadb, "", 4), ChecksumAlgorithm::kCrc32,
                           Flavor::kMariadb);
  const std::vector<Bytes> old_stream = dump_stream(image, 4, ChecksumAlgorithm::kCrc32);
  // The fake ROTATE and the FDE, then the events up to the second transaction: 0-1-1 is stored.
  ASSERT_TRUE(feed(handler, old_stream, gtid_events[1] + 1));
  end_connection(handler);
  ASSERT_EQ(handler.mariadb_state().to_string(), "0-1-1");

  BinlogImage renamed = image;
  renamed.name = "new.000001";
  const std::vector<Bytes> full = dump_stream(renamed, 4, ChecksumAlgorithm::kCrc32);
  // A new source that resends 0-1-1 (what a real one skips) is refused.
  handler.expect_new_source();
  DumpRequest request = handler.plan_dump(true, Flavor::kMariadb, "", 4);
  ASSERT_EQ(request.kind, DumpRequest::Kind::kGtid);
  handler.begin_connection(request, ChecksumAlgorithm::kCrc32, Flavor::kMariadb);
  const Status resent = feed(handler, full);
  ASSERT_FALSE(resent);
  EXPECT_NE(resent.error().message().find("0-1-1"), std::string::npos) << resent.error().message();
  end_connection(handler);

  // The new source's dump: its file's header events, then (0-1-1 skipped) the second transaction.
  std::vector<Bytes> stream(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(gtid_events[0] + 1));
  stream.insert(stream.end(), full.begin() + static_cast<std::ptrdiff_t>(gtid_events[1] + 1), full.end());
  ASSERT_TRUE(handler.joining_new_source());
  handler.begin_connection(handler.plan_dump(true, Flavor::kMariadb, "", 4), ChecksumAlgorithm::kCrc32,
                           Flavor::kMariadb);
  const Status fed = feed(handler, stream);
  ASSERT_TRUE(fed) << fed.error().message();
  EXPECT_FALSE(handler.joining_new_source());
  EXPECT_EQ(handler.file(), "new.000001");
  EXPECT_EQ(handler.file_first_position(), second_gtid);
  EXPECT_EQ(handler.mariadb_state().to_string(), "0-1-2");
  settle();
  auto file = store_->find_file("new.000001");
  ASSERT_TRUE(file && *file);
  EXPECT_EQ((*file)->first_position, second_gtid);
  EXPECT_EQ(as_text((*file)->previous_gtids), "0-1-1");
  auto old_file = store_->find_file("old.000001");
  ASSERT_TRUE(old_file && *old_file) << "the old source's file stays";
  EXPECT_EQ(std::string(as_text(store_->durable_end()->executed_gtid_set)), "0-1-2");
}

TEST_F(StreamHandlerTest, StartsAtAStartPositionOnAnEmptyStore) {
  const BinlogImage image = BinlogImage::load("bin.000080", fixture(kMysql57));
  // The first transaction after the FDE and PREVIOUS_GTIDS.
  const std::uint64_t start = image.events[2].first;
  BinlogStreamHandler handler;
  restore(handler);
  const DumpRequest request = handler.plan_dump(false, Flavor::kMysql, "bin.000080", start);
  EXPECT_EQ(request.describe(), fmt::format("bin.000080:{}", start));
  handler.begin_connection(request, ChecksumAlgorithm::kCrc32, Flavor::kMysql);
  ASSERT_TRUE(feed(handler, dump_stream(image, start, ChecksumAlgorithm::kCrc32)));
  settle();
  auto file = store_->find_file("bin.000080");
  ASSERT_TRUE(file && *file);
  EXPECT_EQ((*file)->first_position, start);
  // The export: magic, the FDE as the dump sent it, then the source's bytes from `start`.
  const Bytes out = exported("bin.000080");
  const Bytes fde = *binlog::rewrite_format_description(image.events[0].second, true);
  ASSERT_EQ(out.size(), 4 + fde.size() + image.bytes.size() - start);
  EXPECT_TRUE(std::equal(fde.begin(), fde.end(), out.begin() + 4));
  EXPECT_TRUE(std::equal(out.begin() + 4 + static_cast<std::ptrdiff_t>(fde.size()), out.end(),
                         image.bytes.begin() + static_cast<std::ptrdiff_t>(start)));
}

// Every kind of bad stream: the event is refused, nothing of it is stored, and the stream resumes
// from the last boundary to the same bytes as without the fault.
TEST_F(StreamHandlerTest, RefusesDamagedGappedAndOverlappingEvents) {
  const BinlogImage image = BinlogImage::load("bin.000080", fixture(kMysql57));
  const std::vector<Bytes> clean = dump_stream(image, 4, ChecksumAlgorithm::kCrc32);
  struct Case {
    std::string name;
    StreamFault fault;
    std::function<void(std::vector<Bytes>&)> damage;
  };
  const std::size_t victim = 6;  // inside the stream's first transactions
  const std::vector<Case> cases = {
      {"a flipped body byte", StreamFault::kChecksum, [](auto& s) { s[victim][25] ^= 0xff; }},
      {"a flipped CRC byte", StreamFault::kChecksum, [](auto& s) { s[victim].back() ^= 0x01; }},
      {"a flipped FDE byte", StreamFault::kChecksum, [](auto& s) { s[1][30] ^= 0x10; }},
      {"a flipped fake ROTATE byte", StreamFault::kChecksum, [](auto& s) { s[0][25] ^= 0x10; }},
      {"a truncated event", StreamFault::kMalformed, [](auto& s) { s[victim].resize(s[victim].size() - 3); }},
      {"a gap", StreamFault::kPosition, [](auto& s) { s.erase(s.begin() + victim); }},
      {"an overlap", StreamFault::kPosition, [](auto& s) { s.insert(s.begin() + victim, s[victim - 1]); }},
      {"no fake ROTATE first", StreamFault::kPosition, [](auto& s) { s.erase(s.begin()); }},
      {"a wrong start", StreamFault::kPosition,
       [](auto& s) { s[0] = binlog::build_fake_rotate(1, "bin.000080", 120, true); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SetUp();
    std::vector<Bytes> damaged = clean;
    c.damage(damaged);
    BinlogStreamHandler handler;
    restore(handler);
    handler.begin_connection(handler.plan_dump(false, Flavor::kMysql, "bin.000080", 4),
                             ChecksumAlgorithm::kCrc32, Flavor::kMysql);
    const Status fed = feed(handler, damaged);
    ASSERT_FALSE(fed);
    EXPECT_EQ(handler.last_fault(), c.fault) << fed.error().message();
    end_connection(handler);
    settle();
    restore(handler);
    const DumpRequest request = handler.plan_dump(false, Flavor::kMysql, "bin.000080", 4);
    handler.begin_connection(request, ChecksumAlgorithm::kCrc32, Flavor::kMysql);
    ASSERT_TRUE(feed(handler, dump_stream(image, request.position, ChecksumAlgorithm::kCrc32)));
    EXPECT_EQ(exported("bin.000080"), image.closed_bytes());
  }
}

// Regression: a PREVIOUS_GTIDS or GTID_LIST whose body does not parse was stored and its GTID
// state silently left out; it ends the stream as a malformed event now, wherever it appears.
TEST_F(StreamHandlerTest, AMalformedPreviousGtidsOrGtidListEndsTheStream) {
  struct Case {
    const char* fixture_name;
    Flavor flavor;
    EventType type;
    std::size_t count_width;  // the leading count field: u64 n_sids, u32 GTID count
  };
  for (const Case& c : {Case{kMysql57, Flavor::kMysql, EventType::kPreviousGtids, 8},
                        Case{kMariadb, Flavor::kMariadb, EventType::kGtidList, 4}}) {
    SCOPED_TRACE(c.fixture_name);
    SetUp();
    const BinlogImage image = BinlogImage::load("bin.000001", fixture(c.fixture_name));
    std::size_t index = 0;
    while (index < image.events.size() &&
           binlog::event_type(image.events[index].second[binlog::kTypeOffset]) != c.type)
      ++index;
    ASSERT_LT(index + 1, image.events.size());
    // A copy of the event placed right after it, then its count field made to claim far more than the body
    // holds.
    Bytes copy = image.events[index].second;
    const std::uint64_t offset = image.events[index + 1].first;
    const auto log_pos = static_cast<std::uint32_t>(offset + copy.size());
    for (std::size_t i = 0; i < 4; ++i)
      copy[13 + i] = static_cast<std::uint8_t>(log_pos >> (8 * i));
    Bytes damaged = copy;
    for (std::size_t i = 0; i < c.count_width - 1; ++i)
      damaged[binlog::kEventHeaderSize + i] = 0x0f;
    binlog::store_event_checksum(copy);
    binlog::store_event_checksum(damaged);

    const std::vector<Bytes> clean = dump_stream(image, 4, ChecksumAlgorithm::kCrc32);
    std::vector<Bytes> stream(clean.begin(), clean.begin() + static_cast<std::ptrdiff_t>(index + 2));
    {
      // Well formed at that place, the copy is stored.
      BinlogStreamHandler handler;
      restore(handler);
      handler.begin_connection(handler.plan_dump(false, c.flavor, "bin.000001", 4), ChecksumAlgorithm::kCrc32,
                               c.flavor);
      std::vector<Bytes> good = stream;
      good.push_back(copy);
      const Status fed = feed(handler, good);
      ASSERT_TRUE(fed) << fed.error().message();
      EXPECT_EQ(handler.next_position(), offset + copy.size());
    }
    SetUp();
    BinlogStreamHandler handler;
    restore(handler);
    handler.begin_connection(handler.plan_dump(false, c.flavor, "bin.000001", 4), ChecksumAlgorithm::kCrc32,
                             c.flavor);
    stream.push_back(damaged);
    const Status fed = feed(handler, stream);
    ASSERT_FALSE(fed);
    EXPECT_EQ(handler.last_fault(), StreamFault::kMalformed) << fed.error().message();
    EXPECT_NE(
        fed.error().message().find(c.type == EventType::kPreviousGtids ? "PREVIOUS_GTIDS" : "GTID_LIST"),
        std::string::npos)
        << fed.error().message();
    EXPECT_EQ(handler.next_position(), offset) << "nothing of the malformed event is stored";
  }
}

}  // namespace
}  // namespace brelay::relay
