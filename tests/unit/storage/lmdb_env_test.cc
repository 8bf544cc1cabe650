#include "storage/lmdb_env.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/temp_dir.h"

namespace brelay::storage {
namespace {

TEST(LmdbEnv, OpensInADirectoryAndMoves) {
  auto dir = testing::TempDir::create("lmdb");
  ASSERT_TRUE(dir);
  auto env = LmdbEnv::open(dir->path(), {});
  ASSERT_TRUE(env) << env.error().message();
  EXPECT_TRUE(std::filesystem::exists(dir->file("data.mdb")));
  LmdbEnv moved = std::move(env).value();
  EXPECT_NE(moved.raw(), nullptr);
}

TEST(LmdbEnv, MissingDirectoryIsAnErrorNamingIt) {
  auto env = LmdbEnv::open("/nonexistent/brelay-store", {});
  ASSERT_FALSE(env);
  EXPECT_NE(env.error().message().find("/nonexistent/brelay-store"), std::string::npos);
  EXPECT_EQ(env.error().code(), ENOENT);
}

}  // namespace
}  // namespace brelay::storage
