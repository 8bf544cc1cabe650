#include "relay/app/logging.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <spdlog/spdlog.h>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

using namespace std::string_literals;

TEST(Logging, ReconfiguringReopensTheFileAfterRotation) {
  auto dir = testing::TempDir::create("log");
  ASSERT_TRUE(dir);
  const std::string log = dir->file("relay.log");
  ASSERT_TRUE(configure_logging({.level = "info", .file = log}));
  spdlog::info("before rotation");
  spdlog::debug("below the level");
  std::filesystem::rename(log, log + ".1");  // what logrotate does before sending SIGHUP
  ASSERT_TRUE(configure_logging({.level = "debug", .file = log}));
  spdlog::debug("after rotation");
  spdlog::default_logger()->flush();
  const std::string rotated = *testing::read_file(log + ".1");
  const std::string current = *testing::read_file(log);
  EXPECT_NE(rotated.find(" info before rotation"), std::string::npos) << rotated;
  EXPECT_EQ(rotated.find("below the level"), std::string::npos);
  EXPECT_NE(current.find(" debug after rotation"), std::string::npos) << current;
  ASSERT_TRUE(configure_logging({}));
}

TEST(Logging, BadLevelAndUnwritableFileAreErrors) {
  auto bad_level = configure_logging({.level = "loud", .file = ""});
  ASSERT_FALSE(bad_level);
  EXPECT_NE(bad_level.error().message().find("'loud' is not a log level"), std::string::npos);
  auto dir = testing::TempDir::create("log");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(testing::write_file(dir->file("not-a-directory"), ""));
  const std::string impossible = dir->file("not-a-directory/relay.log");
  auto bad_file = configure_logging({.level = "info", .file = impossible});
  ASSERT_FALSE(bad_file);
  EXPECT_NE(bad_file.error().message().find(impossible), std::string::npos);
}

TEST(Logging, JsonLineHasTimeLevelComponentAndMessage) {
  const auto time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'858'324'123));
  EXPECT_EQ(format_json_log_line(time, "info", "upstream: connected to db1:3306"),
            R"({"time":"2025-12-04T14:25:24.123Z","level":"info","component":"upstream",)"
            R"("message":"connected to db1:3306"})");
  // No leading "word: ": the component is the relay's.
  EXPECT_EQ(format_json_log_line(time, "warn", "store /x opened: empty"),
            R"({"time":"2025-12-04T14:25:24.123Z","level":"warn","component":"relay",)"
            R"("message":"store /x opened: empty"})");
  EXPECT_NE(
      format_json_log_line(time, "error", "SIGHUP: x").find(R"("component":"relay","message":"SIGHUP: x")"),
      std::string::npos);
}

TEST(Logging, JsonEscapesQuotesControlBytesAndInvalidUtf8) {
  EXPECT_EQ(json_escape("a\"b\\c"), R"(a\"b\\c)");
  EXPECT_EQ(json_escape("line\nnext\r\t"), R"(line\nnext\r\t)");
  EXPECT_EQ(json_escape("nul\0bell\a\x1b\x7f"s), R"(nul\u0000bell\u0007\u001b\u007f)");
  // Valid UTF-8 stays as it is; a stray continuation byte, a truncated sequence, an overlong form
  // and a surrogate become U+FFFD one byte at a time.
  EXPECT_EQ(json_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(json_escape("\x80"), R"(\ufffd)");
  EXPECT_EQ(json_escape("\xe2\x82"), R"(\ufffd\ufffd)");
  EXPECT_EQ(json_escape("\xc0\xaf"), R"(\ufffd\ufffd)");
  EXPECT_EQ(json_escape("\xed\xa0\x80"), R"(\ufffd\ufffd\ufffd)");
  EXPECT_EQ(json_escape("\xff\xfe"), R"(\ufffd\ufffd)");
}

// Through spdlog to a file: each hostile message is one line that python3's json module reads
// back to the same text (invalid bytes as U+FFFD).
TEST(Logging, JsonFormatKeepsHostileMessagesOneValidLineEach) {
  auto dir = testing::TempDir::create("log");
  ASSERT_TRUE(dir);
  const std::string log = dir->file("relay.log");
  ASSERT_TRUE(configure_logging({.level = "info", .file = log, .format = "json"}));
  spdlog::info("upstream: quote \" backslash \\ newline\nand\r\ttab");
  spdlog::warn("retention: nul \0 bell \a esc \x1b del \x7f"s);
  spdlog::error("login failed for 'x\xff\xc3' from 10.0.0.1: {}", "\"}{\"level\":\"fake\"");
  spdlog::default_logger()->flush();
  ASSERT_TRUE(configure_logging({}));
  const std::string script =
      "import json,sys\n"
      "for line in open(sys.argv[1], encoding='utf-8'):\n"
      "    o = json.loads(line)\n"
      "    assert sorted(o) == ['component','level','message','time'], o\n"
      "    print(o['level'], o['component'], repr(o['message']))\n";
  auto parsed = testing::run_command({"python3", "-c", script, log});
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->exit_status, 0) << parsed->err << *testing::read_file(log);
  EXPECT_EQ(parsed->out,
            "info upstream 'quote \" backslash \\\\ newline\\nand\\r\\ttab'\n"
            "warning retention 'nul \\x00 bell \\x07 esc \\x1b del \\x7f'\n"
            "error relay 'login failed for \\'x\xef\xbf\xbd\xef\xbf\xbd\\' from 10.0.0.1: "
            "\"}{\"level\":\"fake\"'\n");
}

TEST(Logging, BadFormatIsAnError) {
  auto bad = configure_logging({.level = "info", .file = "", .format = "xml"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("'xml' is not a log format"), std::string::npos);
}

}  // namespace
}  // namespace brelay::relay
