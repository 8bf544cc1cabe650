// read_guarded: a read of a file map past the file's end (SIGBUS) is a false return, not a crash.
#include "common/fault_guard.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace brelay {
namespace {

struct Sum {
  const std::uint8_t* bytes = nullptr;
  std::size_t size = 0;
  std::uint64_t total = 0;
};

void add_up(void* context) {
  auto* sum = static_cast<Sum*>(context);
  for (std::size_t i = 0; i < sum->size; ++i)
    sum->total += sum->bytes[i];
}

TEST(FaultGuard, AReadPastTheEndOfACutFileIsFalseAndTheProcessGoesOn) {
  char path[] = "/tmp/brelay-fault-guard-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::size_t size = 2 * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_NE(map, MAP_FAILED);

  Sum sum{static_cast<const std::uint8_t*>(map), size};
  EXPECT_TRUE(read_guarded(&add_up, &sum));
  EXPECT_EQ(sum.total, 0u);

  ASSERT_EQ(::ftruncate(fd, 0), 0);
  for (int i = 0; i < 3; ++i)  // again and again: the guard is re-armed each time
    EXPECT_FALSE(read_guarded(&add_up, &sum));

  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  EXPECT_TRUE(read_guarded(&add_up, &sum));
  ::munmap(map, size);
  ::close(fd);
  ::unlink(path);
}

void send_sigbus(void* /*context*/) {
  ::kill(::getpid(), SIGBUS);
}

void queue_sigbus(void* /*context*/) {
  ::sigqueue(::getpid(), SIGBUS, sigval{});
}

// How the previous disposition ends a process on SIGBUS: killed by the signal, or, under
// AddressSanitizer (whose SIGBUS handler the guard finds installed before it), ASan's report and exit 1.
#if defined(__SANITIZE_ADDRESS__)
#define BRELAY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BRELAY_ASAN 1
#endif
#endif
#ifdef BRELAY_ASAN
bool ended_by_sigbus(int status) {
  return WIFEXITED(status) && WEXITSTATUS(status) != 0;
}
constexpr const char* kSigbusReport = "AddressSanitizer: BUS";
#else
bool ended_by_sigbus(int status) {
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
}
constexpr const char* kSigbusReport = "";
#endif

// A SIGBUS sent by kill() or sigqueue() (si_code <= 0) during a guarded read is not a fault of the
// read: it is not swallowed, and has the previous disposition's effect.
TEST(FaultGuard, ASigbusSentByAnotherProcessIsNotTakenForAFault) {
  EXPECT_EXIT(
      {
        (void)read_guarded(&send_sigbus, nullptr);
        std::_Exit(0);
      },
      ended_by_sigbus, kSigbusReport);
  EXPECT_EXIT(
      {
        (void)read_guarded(&queue_sigbus, nullptr);
        std::_Exit(0);
      },
      ended_by_sigbus, kSigbusReport);
}

}  // namespace
}  // namespace brelay
