#include "relay/app/logging.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <spdlog/spdlog.h>

#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

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

}  // namespace
}  // namespace brelay::relay
