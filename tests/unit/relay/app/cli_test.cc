#include "relay/app/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "relay/app/version.h"

namespace brelay::relay {
namespace {

int run(std::vector<const char*> args, std::string& out, std::string& err) {
  args.insert(args.begin(), "binlog-relay");
  std::ostringstream o, e;
  int rc = run_cli(static_cast<int>(args.size()), args.data(), o, e);
  out = o.str();
  err = e.str();
  return rc;
}

TEST(Cli, VersionPrintsTheProjectVersion) {
  std::string out, err;
  EXPECT_EQ(run({"--version"}, out, err), 0);
  EXPECT_EQ(out, std::string("binlog-relay ") + kVersion + "\n");
}

TEST(Cli, HelpDescribesTheProgram) {
  std::string out, err;
  EXPECT_EQ(run({"--help"}, out, err), 0);
  EXPECT_NE(out.find("stores it durably in LMDB"), std::string::npos) << out;
}

TEST(Cli, UnknownOptionFails) {
  std::string out, err;
  EXPECT_NE(run({"--no-such-option"}, out, err), 0);
  EXPECT_NE(err.find("--no-such-option"), std::string::npos) << err;
}

}  // namespace
}  // namespace brelay::relay
