#include "relay/app/sd_notify.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

TEST(SdNotify, SendsTheStateToNotifySocket) {
  auto dir = testing::TempDir::create("notify");
  ASSERT_TRUE(dir);
  const std::string path = dir->file("notify.sock");
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ASSERT_TRUE(sd_notify("READY=1\nSTATUS=pulling from 127.0.0.1:3306"));
  char buffer[256] = {};
  const ssize_t got = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
  ::unsetenv("NOTIFY_SOCKET");
  ::close(fd);
  ASSERT_GT(got, 0);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(got)),
            "READY=1\nSTATUS=pulling from 127.0.0.1:3306");
}

TEST(SdNotify, WithoutNotifySocketDoesNothing) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(sd_notify("READY=1"));
}

TEST(SdNotify, UnreachableSocketIsAnError) {
  ::setenv("NOTIFY_SOCKET", "/nonexistent-dir/notify.sock", 1);
  auto status = sd_notify("READY=1");
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message().find("/nonexistent-dir/notify.sock"), std::string::npos);
}

}  // namespace
}  // namespace brelay::relay
