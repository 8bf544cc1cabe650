// The least CPU a server spends here to write bytes to N readers over loopback TCP (issue 20):
// N sender threads write one filled 512 KiB buffer over and over to N loopback connections (no
// file read, no check, no framing: what is left is the copy into the socket and the loopback
// delivery, which the sender's kernel does), N reader threads read 64 KiB at a time and drop it,
// as mariadb-binlog does. Prints the senders' CPU (user + sys, per thread) per GB sent.
// client_table.sh turns it into a bound on the server / source ratio: a server that copies the bytes
// into the sockets (as one must to frame each event as its own packet) does no better on this
// machine, whatever its file reads cost.
//
// Usage: loopback_send_floor READERS MB_PER_READER
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "loopback_send_floor: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {
    if (fd_ < 0) die("socket");
  }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  void close() { ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

double thread_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void add(std::atomic<double>& total, double value) {
  double seen = total.load();
  while (!total.compare_exchange_weak(seen, seen + value)) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: loopback_send_floor READERS MB_PER_READER\n");
    return 2;
  }
  const int readers = std::atoi(argv[1]);
  const std::uint64_t bytes_per_reader = std::strtoull(argv[2], nullptr, 10) * 1000 * 1000;
  if (readers <= 0 || bytes_per_reader == 0) {
    std::fprintf(stderr, "usage: loopback_send_floor READERS MB_PER_READER\n");
    return 2;
  }
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("bind");
  if (::listen(listener.get(), readers) != 0) die("listen");
  if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) die("getsockname");

  std::atomic<double> sender_cpu{0};
  std::atomic<std::uint64_t> received{0};
  std::vector<std::jthread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < readers; ++i) {
    Fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("connect");
    Fd served(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    threads.emplace_back([&received, client = std::move(client)] {
      std::vector<char> buffer(64 * 1024);
      std::uint64_t got = 0;
      ssize_t n = 0;
      while ((n = ::read(client.get(), buffer.data(), buffer.size())) > 0)
        got += static_cast<std::uint64_t>(n);
      received += got;
    });
    threads.emplace_back([&sender_cpu, bytes_per_reader, served = std::move(served)]() mutable {
      const std::vector<char> buffer(512 * 1024, 'x');
      for (std::uint64_t sent = 0; sent < bytes_per_reader;) {
        const std::size_t chunk = std::min<std::uint64_t>(buffer.size(), bytes_per_reader - sent);
        const ssize_t n = ::write(served.get(), buffer.data(), chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("write");
        sent += static_cast<std::uint64_t>(n);
      }
      served.close();
      add(sender_cpu, thread_cpu_seconds());
    });
  }
  threads.clear();  // joins
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double gb = static_cast<double>(received.load()) / 1e9;
  std::printf("readers %d, %.2f GB in %.2f s, senders' CPU %.2f s: %.3f s per GB\n", readers, gb, wall,
              sender_cpu.load(), sender_cpu.load() / gb);
  return received.load() == bytes_per_reader * static_cast<std::uint64_t>(readers) ? 0 : 1;
}
