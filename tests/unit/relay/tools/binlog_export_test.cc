// export and dump over a store seeded with the real MySQL and MariaDB binlogs of tests/data: every
// exported file is byte-identical to the original, and dump lists every event.
#include "relay/tools/binlog_export.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "relay/app/cli.h"
#include "relay/binlog/binlog_file.h"
#include "relay/tools/binlog_dump.h"
#include "tests/support/paths.h"
#include "tests/support/store_seed.h"
#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

const std::vector<std::string> kFixtures = {
    "apecloud-mysql57-gtid-row.000080",
    "apecloud-mysql80-gtid-zstd-compressed.000057",
    "rust-mysql-common-mariadb105-gtid-row.000001",
    "rust-mysql-common-mysql80-json-partial-update.000001",
    "shyiko-mysql57-row-checksum-none.binlog",
};

std::string fixture(const std::string& name) {
  return testing::source_dir() + "/tests/data/binlogs/" + name;
}

std::size_t count_events(const std::string& path) {
  auto reader = binlog::BinlogFileReader::open(path);
  EXPECT_TRUE(reader) << reader.error().message();
  std::size_t events = 0;
  while (true) {
    auto next = reader->next();
    EXPECT_TRUE(next);
    if (!next || !*next) break;
    ++events;
  }
  return events;
}

int cli(std::vector<std::string> args, std::string& out, std::string& err) {
  args.insert(args.begin(), "binlog-relay");
  std::vector<const char*> argv;
  for (const auto& arg : args)
    argv.push_back(arg.c_str());
  std::ostringstream o, e;
  const int status = run_cli(static_cast<int>(argv.size()), argv.data(), o, e);
  out = o.str();
  err = e.str();
  return status;
}

class BinlogExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::create("export");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<testing::TempDir>(std::move(*dir));
    auto store = storage::BinlogStore::open(dir_->file("data"));
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
    std::vector<std::string> paths;
    for (const auto& name : kFixtures)
      paths.push_back(fixture(name));
    auto seeded = testing::seed_store_from_binlogs(*store_, paths);
    ASSERT_TRUE(seeded) << seeded.error().message();
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<storage::BinlogStore> store_;
};

TEST_F(BinlogExportTest, EveryFixtureComesBackByteForByte) {
  for (const auto& name : kFixtures) {
    const std::string out = dir_->file(name);
    auto exported = export_file(*store_, name, out);
    ASSERT_TRUE(exported) << exported.error().message();
    auto original = testing::read_file(fixture(name));
    auto copy = testing::read_file(out);
    ASSERT_TRUE(original && copy);
    EXPECT_EQ(*copy, *original) << name;
    EXPECT_EQ(exported->size, original->size());
    EXPECT_EQ(exported->events, count_events(fixture(name)));
    EXPECT_TRUE(exported->closed);
    EXPECT_FALSE(std::filesystem::exists(out + ".partial"));
  }
}

TEST_F(BinlogExportTest, AnUnknownFileIsAnErrorAndLeavesNothing) {
  auto exported = export_file(*store_, "mysql-bin.999999", dir_->file("x"));
  ASSERT_FALSE(exported);
  EXPECT_NE(exported.error().message().find("mysql-bin.999999 is not stored"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_->file("x")));
  EXPECT_FALSE(std::filesystem::exists(dir_->file("x.partial")));
}

TEST_F(BinlogExportTest, DumpListsEveryEventWithGtids) {
  std::ostringstream out;
  DumpOptions options;
  options.gtid_column = true;
  auto listed = dump_events(*store_, options, out);
  ASSERT_TRUE(listed) << listed.error().message();
  std::size_t expected = 0;
  for (const auto& name : kFixtures)
    expected += count_events(fixture(name));
  EXPECT_EQ(*listed, expected);
  const std::string text = out.str();
  EXPECT_EQ(text.rfind("Log_name\tPos\tEvent_type\tServer_id\tEnd_log_pos\tGtid\tInfo\n", 0), 0u);
  EXPECT_EQ(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), expected + 1);
  // The first event of every file is its format description, at 4.
  EXPECT_NE(text.find("apecloud-mysql57-gtid-row.000080\t4\tFormat_desc\t"), std::string::npos) << text;
  // MySQL GTIDs of the 5.7 file (58cf6502-...:53-62) and MariaDB's 0-1-1 label their events.
  EXPECT_NE(text.find("\tGtid\t"), std::string::npos);
  EXPECT_NE(text.find("58cf6502-63db-11ed-8079-0242ac110002:53\tSET @@SESSION.GTID_NEXT= "
                      "'58cf6502-63db-11ed-8079-0242ac110002:53'"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\t0-1-1\t"), std::string::npos) << text;
}

TEST_F(BinlogExportTest, DumpStartsAtAPositionAndStopsAtTheLimit) {
  std::ostringstream all;
  DumpOptions from_file;
  from_file.from_file = "rust-mysql-common-mariadb105-gtid-row.000001";
  ASSERT_TRUE(dump_events(*store_, from_file, all));
  // The second event's line; start there.
  std::istringstream lines(all.str());
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  const std::string second_position =
      second.substr(second.find('\t') + 1, second.find('\t', second.find('\t') + 1) - second.find('\t') - 1);
  std::ostringstream out;
  DumpOptions options;
  options.from_file = from_file.from_file;
  options.from_position = std::stoull(second_position);
  options.limit = 2;
  auto listed = dump_events(*store_, options, out);
  ASSERT_TRUE(listed) << listed.error().message();
  EXPECT_EQ(*listed, 2u);
  EXPECT_EQ(out.str().substr(out.str().find('\n') + 1, second.size()), second);

  DumpOptions inside;
  inside.from_file = from_file.from_file;
  inside.from_position = options.from_position + 1;
  std::ostringstream ignored;
  EXPECT_FALSE(dump_events(*store_, inside, ignored));
}

TEST(FilePosition, ParsesFileAndOptionalPosition) {
  auto both = parse_file_position("mysql-bin.000042:1234");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->first, "mysql-bin.000042");
  EXPECT_EQ(both->second, 1234u);
  auto file = parse_file_position("mysql-bin.000042");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->second, 0u);
  EXPECT_FALSE(parse_file_position("mysql-bin.000042:x"));
  EXPECT_FALSE(parse_file_position(":4"));
  EXPECT_FALSE(parse_file_position(""));
}

TEST_F(BinlogExportTest, CommandsReadTheStoreWhileItIsOpenForWriting) {
  // store_ stays open for writing, as in a running relay.
  std::string out, err;
  ASSERT_EQ(cli({"export", "--data-dir", dir_->file("data"), "--out", dir_->file("exported")}, out, err), 0)
      << err;
  for (const auto& name : kFixtures) {
    EXPECT_EQ(testing::read_file(dir_->file("exported/" + name)).value_or(""),
              testing::read_file(fixture(name)).value_or("?"));
  }
  EXPECT_NE(out.find("complete"), std::string::npos) << out;
  // Files that exist are not replaced without --overwrite.
  EXPECT_EQ(cli({"export", "--data-dir", dir_->file("data"), "--out", dir_->file("exported"), "--file",
                 kFixtures[0]},
                out, err),
            1);
  EXPECT_NE(err.find("exists; not replaced"), std::string::npos) << err;
  EXPECT_EQ(cli({"export", "--data-dir", dir_->file("data"), "--out", dir_->file("exported"), "--file",
                 kFixtures[0], "--overwrite"},
                out, err),
            0)
      << err;

  ASSERT_EQ(cli({"dump", "--data-dir", dir_->file("data"), "--from", kFixtures[2] + ":4", "--limit", "3"},
                out, err),
            0)
      << err;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4) << out;
  EXPECT_NE(out.find(kFixtures[2] + "\t4\tFormat_desc\t"), std::string::npos) << out;

  EXPECT_EQ(cli({"dump", "--data-dir", dir_->file("nothing-here")}, out, err), 1);
  EXPECT_NE(err.find("holds no binlog-relay store"), std::string::npos) << err;
}

}  // namespace
}  // namespace brelay::relay
