// relay/binlog_import: the real MySQL 5.7/8.0 and MariaDB fixtures go into a store byte for byte
// under their own names and positions, with transaction boundaries, GTID keys, the previous-GTID
// blob and a derived source identity; damaged, cut or misordered files are refused with errors
// that say where and why.
#include "relay/tools/binlog_import.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "relay/binlog/binlog_file.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/gtid_set.h"
#include "relay/core/stored_gtids.h"
#include "relay/tools/stored_chain.h"
#include "storage/store_reader.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/binlog/test_events.h"

namespace brelay::relay {
namespace {

std::string fixture(const std::string& name) {
  return testing::source_dir() + "/tests/data/binlogs/" + name;
}

Bytes file_bytes(const std::string& path) {
  auto text = testing::read_file(path);
  EXPECT_TRUE(text) << text.error().message();
  return text ? to_bytes(*text) : Bytes();
}

// Everything stored for `file`, from its first position, concatenated.
Bytes stored_bytes(storage::BinlogStore& store, const std::string& file) {
  auto reader = storage::StoreReader::open(store);
  EXPECT_TRUE(reader);
  EXPECT_TRUE(reader->seek_file_start(file));
  Bytes out;
  while (true) {
    auto batch = reader->read(1 << 20);
    EXPECT_TRUE(batch) << batch.error().message();
    if (!batch || batch->runs.empty() || (batch->file_changed && !out.empty())) break;
    for (const auto& run : batch->runs)
      out.insert(out.end(), run.bytes().begin(), run.bytes().end());
    reader->consume(batch->bytes);
    reader->release();
  }
  return out;
}

class BinlogImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::create("import");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<testing::TempDir>(std::move(*dir));
    storage::StoreOptions options;
    options.sync = storage::SyncMode::kNone;
    auto store = storage::BinlogStore::open(dir_->file("store"), options);
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<storage::BinlogStore> store_;
};

TEST_F(BinlogImportTest, EveryFixtureIsStoredByteForByte) {
  for (const std::string name :
       {"apecloud-mysql57-gtid-row.000080", "apecloud-mysql80-gtid-zstd-compressed.000057",
        "rust-mysql-common-mariadb105-gtid-row.000001",
        "rust-mysql-common-mysql80-json-partial-update.000001", "shyiko-mysql57-row-checksum-none.binlog"}) {
    SCOPED_TRACE(name);
    SetUp();
    auto report = import_files(*store_, {fixture(name)});
    ASSERT_TRUE(report) << report.error().message();
    const Bytes original = file_bytes(fixture(name));
    ASSERT_EQ(report->files.size(), 1u);
    EXPECT_EQ(report->files[0].name, name);
    EXPECT_EQ(report->files[0].end_position, original.size());
    EXPECT_EQ(report->bytes, original.size() - 4);
    const Bytes stored = stored_bytes(*store_, name);
    EXPECT_TRUE(std::equal(stored.begin(), stored.end(), original.begin() + 4, original.end()))
        << "stored " << stored.size() << " bytes, the file has " << original.size() - 4;
    const auto end = store_->durable_end();
    ASSERT_TRUE(end);
    EXPECT_EQ(end->file, name);
    EXPECT_EQ(end->position, original.size());
  }
}

TEST_F(BinlogImportTest, TheSourceIdentityAndPreviousGtidsComeFromTheFile) {
  auto report = import_files(*store_, {fixture("apecloud-mysql80-gtid-zstd-compressed.000057")});
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->source.flavor, Flavor::kMysql);
  EXPECT_EQ(report->source.version, "8.0.31");
  EXPECT_EQ(report->source.checksum, binlog::ChecksumAlgorithm::kCrc32);
  EXPECT_EQ(report->source.server_uuid, "76f3e7be-6720-11ed-9cad-0242ac110002");
  EXPECT_EQ(report->source.variables.at("gtid_mode"), "ON");
  auto stored = store_->get_meta(kSourceIdentityMetaKey);
  ASSERT_TRUE(stored && *stored);
  auto identity = decode_source_identity(**stored);
  ASSERT_TRUE(identity);
  EXPECT_EQ(*identity, report->source);

  auto files = store_->list_files();
  ASSERT_TRUE(files && files->size() == 1);
  auto previous = decode_previous_gtids((*files)[0].previous_gtids);
  ASSERT_TRUE(previous) << previous.error().message();
  EXPECT_EQ(previous->kind, PreviousGtids::Kind::kMysql);
  EXPECT_EQ(previous->mysql.to_string(), "76f3e7be-6720-11ed-9cad-0242ac110002:1-10");
  EXPECT_EQ(report->transactions, 3u);
}

TEST_F(BinlogImportTest, MariadbFilesKeepTheirGtidListAndGreetWithTheCompatibilityPrefix) {
  auto report = import_files(*store_, {fixture("rust-mysql-common-mariadb105-gtid-row.000001")});
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->source.flavor, Flavor::kMariadb);
  EXPECT_EQ(report->source.version.rfind("5.5.5-10.5.15-MariaDB", 0), 0u) << report->source.version;
  auto files = store_->list_files();
  ASSERT_TRUE(files && files->size() == 1);
  auto previous = decode_previous_gtids((*files)[0].previous_gtids);
  ASSERT_TRUE(previous) << previous.error().message();
  EXPECT_EQ(previous->kind, PreviousGtids::Kind::kMariadb);
  // The GTID index has the two MariaDB transactions.
  auto reader = storage::StoreReader::open(*store_);
  ASSERT_TRUE(reader);
  binlog::TransactionGtid gtid;
  gtid.kind = binlog::TransactionGtid::Kind::kMariadb;
  gtid.mariadb = {0, 1, 2};
  EXPECT_TRUE(reader->seek_gtid(gtid_key(gtid)));
  gtid.mariadb = {0, 1, 3};
  EXPECT_FALSE(reader->seek_gtid(gtid_key(gtid)));
}

// A two-file binlog built from the 5.7 fixture's FDE: file 1 ends with a ROTATE to file 2.
class CraftedBinlog {
 public:
  explicit CraftedBinlog(const std::string& directory) : directory_(directory) {
    auto reader = binlog::BinlogFileReader::open(fixture("apecloud-mysql57-gtid-row.000080"));
    EXPECT_TRUE(reader);
    auto fde = reader->next();
    EXPECT_TRUE(fde && *fde);
    fde_.assign((*fde)->begin(), (*fde)->end());
  }

  // Writes `name` with the FDE, `transactions` BEGIN..XID groups and, when `rotate_to` is set, a ROTATE.
  std::string write(const std::string& name, int transactions, const std::string& rotate_to,
                    bool cut_last = false, bool damage = false) {
    const std::string path = directory_ + "/" + name;
    auto writer = binlog::BinlogFileWriter::create(path);
    EXPECT_TRUE(writer);
    std::uint64_t position = 4;
    auto put = [&](Bytes event) {
      // Set log_pos to the event's end, as a server does, and recompute the CRC.
      const std::uint64_t end = position + event.size();
      for (int i = 0; i < 4; ++i)
        event[13 + i] = static_cast<std::uint8_t>(end >> (8 * i));
      binlog::store_event_checksum(event);
      EXPECT_TRUE(writer->append(event));
      position = end;
    };
    put(fde_);
    for (int i = 0; i < transactions; ++i) {
      put(binlog::testing::make_query("BEGIN"));
      put(binlog::testing::make_query("INSERT INTO t VALUES (1)"));
      if (!(cut_last && i == transactions - 1)) put(binlog::testing::make_xid(static_cast<std::uint64_t>(i)));
    }
    if (!rotate_to.empty()) {
      ByteWriter body;
      body.u64(4).text(rotate_to);
      put(binlog::testing::make_event(binlog::EventType::kRotate, body.data()));
    }
    EXPECT_TRUE(writer->finish());
    if (damage) {
      // A byte of the last event changes after its CRC was computed.
      std::FILE* file = std::fopen(path.c_str(), "r+b");
      std::fseek(file, static_cast<long>(position) - 30, SEEK_SET);
      std::fputc('!', file);
      std::fclose(file);
    }
    return path;
  }

 private:
  std::string directory_;
  Bytes fde_;
};

TEST_F(BinlogImportTest, ConsecutiveFilesFollowTheirRotatesAndTheLastStaysOpen) {
  CraftedBinlog binlog(dir_->path());
  const auto first = binlog.write("src-bin.000001", 3, "src-bin.000002");
  const auto second = binlog.write("src-bin.000002", 2, "");
  auto report = import_files(*store_, {first, second});
  ASSERT_TRUE(report) << report.error().message();
  ASSERT_EQ(report->files.size(), 2u);
  EXPECT_TRUE(report->files[0].closed);
  EXPECT_FALSE(report->files[1].closed);
  EXPECT_EQ(report->transactions, 5u);
  auto files = store_->list_files();
  ASSERT_TRUE(files && files->size() == 2);
  EXPECT_TRUE((*files)[0].closed);
  EXPECT_EQ(stored_bytes(*store_, "src-bin.000002").size() + 4, file_bytes(second).size());
}

TEST_F(BinlogImportTest, FilesOutOfOrderAreRefused) {
  CraftedBinlog binlog(dir_->path());
  const auto first = binlog.write("src-bin.000001", 1, "src-bin.000002");
  const auto third = binlog.write("src-bin.000003", 1, "");
  auto report = import_files(*store_, {first, third});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message().find("out of order"), std::string::npos) << report.error().message();
  EXPECT_NE(report.error().message().find("src-bin.000002"), std::string::npos) << report.error().message();
}

TEST_F(BinlogImportTest, AFileCutInsideATransactionIsRefused) {
  CraftedBinlog binlog(dir_->path());
  const auto cut = binlog.write("src-bin.000001", 2, "", /*cut_last=*/true);
  auto report = import_files(*store_, {cut});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message().find("ends inside a transaction"), std::string::npos)
      << report.error().message();
}

TEST_F(BinlogImportTest, ADamagedEventIsRefusedWithItsOffset) {
  CraftedBinlog binlog(dir_->path());
  const auto damaged = binlog.write("src-bin.000001", 2, "", false, /*damage=*/true);
  auto report = import_files(*store_, {damaged});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message().find("checksum mismatch"), std::string::npos)
      << report.error().message();
  EXPECT_NE(report.error().message().find("at offset"), std::string::npos) << report.error().message();
}

// Every file of the data directory but LMDB's lock file, by relative path: the event files and
// data.mdb (identical bytes mean identical LMDB content).
std::map<std::string, std::string> data_dir_bytes(const std::string& directory) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
    if (!entry.is_regular_file() || entry.path().filename().string().find("lock") != std::string::npos)
      continue;
    auto text = testing::read_file(entry.path().string());
    EXPECT_TRUE(text) << text.error().message();
    files[std::filesystem::relative(entry.path(), directory).string()] = text ? *text : std::string();
  }
  return files;
}

// Issue 14 item 3: an import of two files whose second did not follow the first's ROTATE exited 1
// but kept the first file; a second import then appended another first file after it.
TEST_F(BinlogImportTest, FailedImportLeavesTheStoreByteForByteAsItWas) {
  CraftedBinlog binlog(dir_->path());
  const auto first = binlog.write("src-bin.000001", 2, "src-bin.000002");
  const auto second = binlog.write("src-bin.000002", 1, "src-bin.000003");
  const auto third = binlog.write("src-bin.000003", 1, "");
  const auto fourth = binlog.write("src-bin.000004", 1, "");
  const auto other_first = binlog.write("other-bin.000001", 1, "other-bin.000002");
  std::filesystem::create_directory(dir_->file("damaged"));
  CraftedBinlog damaged_binlog(dir_->file("damaged"));
  const auto damaged = damaged_binlog.write("src-bin.000003", 1, "", false, /*damage=*/true);
  const std::string directory = dir_->file("store");

  // Into an empty store: the misordered pair leaves it empty.
  const auto empty = data_dir_bytes(directory);
  auto refused = import_files(*store_, {first, third});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("nothing was imported"), std::string::npos)
      << refused.error().message();
  EXPECT_EQ(data_dir_bytes(directory), empty);
  ASSERT_TRUE(store_->list_files());
  EXPECT_TRUE(store_->list_files()->empty());

  ASSERT_TRUE(import_files(*store_, {first}));
  const auto after_first = data_dir_bytes(directory);
  // A file that does not continue the stored chain is refused with the file that would.
  for (const std::vector<std::string>& paths : std::vector<std::vector<std::string>>{
           {other_first}, {third}, {fourth}, {second, fourth}, {second, damaged}}) {
    auto report = import_files(*store_, paths);
    ASSERT_FALSE(report) << paths.back();
    if (paths.size() == 1) {
      EXPECT_NE(report.error().message().find("the next file to import is src-bin.000002"), std::string::npos)
          << report.error().message();
    }
    EXPECT_EQ(data_dir_bytes(directory), after_first) << report.error().message();
  }
  auto files = store_->list_files();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 1u);

  // The chain goes on with the file the store hands over to; then the newest file is open.
  auto report = import_files(*store_, {second, third});
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(store_->list_files()->size(), 3u);
  auto after_open = import_files(*store_, {fourth});
  ASSERT_FALSE(after_open);
  EXPECT_NE(after_open.error().message().find("src-bin.000003 has no ROTATE or STOP yet"), std::string::npos)
      << after_open.error().message();
}

TEST(StoredChain, NextBinlogNameKeepsTheWidth) {
  EXPECT_EQ(next_binlog_name("mysql-bin.000041"), "mysql-bin.000042");
  EXPECT_EQ(next_binlog_name("mysql-bin.999999"), "mysql-bin.1000000");
  EXPECT_EQ(next_binlog_name("a.b.009"), "a.b.010");
  EXPECT_EQ(next_binlog_name("binlog"), "");
  EXPECT_EQ(next_binlog_name("binlog.x1"), "");
  EXPECT_EQ(next_binlog_name("binlog."), "");
}

TEST_F(BinlogImportTest, AFileAlreadyStoredIsRefused) {
  auto first = import_files(*store_, {fixture("apecloud-mysql57-gtid-row.000080")});
  ASSERT_TRUE(first) << first.error().message();
  auto again = import_files(*store_, {fixture("apecloud-mysql57-gtid-row.000080")});
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("already holds"), std::string::npos) << again.error().message();
}

}  // namespace
}  // namespace brelay::relay
