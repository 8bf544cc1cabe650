// TcpConnection and TcpListener over loopback on one loop: gather writes larger than the socket
// buffer and than IOV_MAX, back-pressure (pending bytes, the low-water callback), flushing before
// close, the unsent limit (TCP_NOTSENT_LOWAT), connect errors, and destroying a connection with
// writes in flight.
#include "net/tcp_connection.h"

#include <gtest/gtest.h>

#include "net/event_loop.h"
#include "net/tcp_listener.h"

namespace brelay::net {
namespace {

struct Recorder : TcpConnection::Observer {
  Bytes received;
  bool ended = false;
  bool closed = false;
  int drained = 0;
  Status end_status;
  void on_read(ByteView bytes) override { received.insert(received.end(), bytes.begin(), bytes.end()); }
  void on_read_end(const Status& status) override {
    ended = true;
    end_status = status;
  }
  void on_drained() override { ++drained; }
  void on_write_error(const Error&) override {}
  void on_closed() override { closed = true; }
};

class TcpConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto listener = TcpListener::listen(loop_.raw(), "127.0.0.1:0", [this](std::unique_ptr<TcpConnection> c) {
      accepted_ = std::move(c);
      accepted_->set_observer(&server_side_);
    });
    ASSERT_TRUE(listener) << listener.error().message();
    listener_ = std::move(*listener);
    auto address = numeric_address_for(listener_->port());
    bool connected = false;
    auto client =
        TcpConnection::connect(loop_.raw(), reinterpret_cast<const sockaddr*>(&address), [&](Status s) {
          ASSERT_TRUE(s) << s.error().message();
          connected = true;
        });
    ASSERT_TRUE(client) << client.error().message();
    client_ = std::move(*client);
    client_->set_observer(&client_side_);
    run_until([&] { return connected && accepted_ != nullptr; });
    ASSERT_TRUE(accepted_);
  }
  void TearDown() override {
    client_.reset();
    accepted_.reset();
    listener_.reset();
  }

  static sockaddr_storage numeric_address_for(std::uint16_t port) {
    sockaddr_storage storage{};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return storage;
  }

  template <typename Predicate>
  void run_until(Predicate done) {
    for (int i = 0; i < 100000 && !done(); ++i)
      uv_run(loop_.raw(), UV_RUN_ONCE);
  }

  EventLoop loop_;
  std::unique_ptr<TcpListener> listener_;
  std::unique_ptr<TcpConnection> client_;
  std::unique_ptr<TcpConnection> accepted_;
  Recorder client_side_;
  Recorder server_side_;
};

TEST_F(TcpConnectionTest, GatherWritesWithBackPressureArriveInOrder) {
  // 3000 buffers (more than IOV_MAX) of 4 KiB: 12 MB, more than loopback socket buffers hold.
  std::vector<Bytes> pieces;
  for (int i = 0; i < 3000; ++i)
    pieces.emplace_back(4096, static_cast<std::uint8_t>(i));
  std::vector<uv_buf_t> buffers;
  for (Bytes& piece : pieces)
    buffers.push_back(
        uv_buf_init(reinterpret_cast<char*>(piece.data()), static_cast<unsigned>(piece.size())));
  accepted_->set_low_water_mark(64 * 1024);
  ASSERT_TRUE(accepted_->write(buffers));
  EXPECT_GT(accepted_->pending_bytes(), 0u) << "the peer has not read yet: some bytes must wait";
  // The caller's memory is free once write() returns.
  for (Bytes& piece : pieces)
    std::fill(piece.begin(), piece.end(), 0xee);
  ASSERT_TRUE(client_->start_reading());
  run_until([&] { return client_side_.received.size() == 3000u * 4096; });
  ASSERT_EQ(client_side_.received.size(), 3000u * 4096);
  for (int i = 0; i < 3000; ++i)
    ASSERT_EQ(client_side_.received[static_cast<std::size_t>(i) * 4096 + 17], static_cast<std::uint8_t>(i))
        << i;
  run_until([&] { return server_side_.drained > 0; });
  EXPECT_EQ(server_side_.drained, 1);
  EXPECT_EQ(accepted_->pending_bytes(), 0u);
}

TEST_F(TcpConnectionTest, UnsentLimitKeepsTheKernelQueueShortAndDeliversEverything) {
  // Neither side reads at first. The unlimited direction lets the kernel queue what its send
  // buffer holds; the limited one only about the peer's window plus the limit.
  const Bytes data(8 << 20, 0x5a);
  constexpr std::size_t kLimit = 16 * 1024;
  ASSERT_TRUE(accepted_->limit_unsent_bytes(kLimit));
  ASSERT_TRUE(client_->write(data));
  ASSERT_TRUE(accepted_->write(data));
  for (int i = 0; i < 100; ++i)
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
  const std::size_t taken_unlimited = data.size() - client_->pending_bytes();
  const std::size_t taken_limited = data.size() - accepted_->pending_bytes();
  EXPECT_LT(taken_limited + 256 * 1024, taken_unlimited)
      << "limited " << taken_limited << " bytes, unlimited " << taken_unlimited;
  // Everything still arrives, in order, and the drain is reported.
  accepted_->set_low_water_mark(0);
  ASSERT_TRUE(client_->start_reading());
  run_until([&] { return client_side_.received.size() == data.size() && server_side_.drained > 0; });
  EXPECT_EQ(client_side_.received, data);
  EXPECT_EQ(server_side_.drained, 1);
  EXPECT_EQ(accepted_->pending_bytes(), 0u);
}

TEST_F(TcpConnectionTest, CloseAfterFlushDeliversEverythingThenEnds) {
  Bytes data(8 * 1024 * 1024, 0x5a);
  ASSERT_TRUE(accepted_->write(data));
  accepted_->close_after_flush();
  ASSERT_TRUE(client_->start_reading());
  run_until([&] { return client_side_.ended && server_side_.closed; });
  EXPECT_EQ(client_side_.received.size(), data.size());
  EXPECT_TRUE(client_side_.end_status) << "a clean end of stream";
  EXPECT_TRUE(server_side_.closed);
  EXPECT_FALSE(accepted_->write(data)) << "writing after close is an error";
}

TEST_F(TcpConnectionTest, DestroyingAConnectionWithWritesInFlightIsSafe) {
  Bytes data(16 * 1024 * 1024, 0x11);
  ASSERT_TRUE(accepted_->write(data));
  ASSERT_GT(accepted_->pending_bytes(), 0u);
  accepted_.reset();  // the uv handle lives on until its close callback
  ASSERT_TRUE(client_->start_reading());
  run_until([&] { return client_side_.ended; });
  EXPECT_TRUE(client_side_.ended);
  EXPECT_FALSE(server_side_.closed) << "no callback may reach a destroyed connection's observer";
}

// Regression: libuv writes with write(2), so a peer that reset the connection raised SIGPIPE and
// killed the process (found by client_session_fuzz). EventLoop ignores SIGPIPE.
TEST_F(TcpConnectionTest, WritingToAPeerThatWentAwayIsAnErrorNotSigpipe) {
  Bytes data(1024 * 1024, 0x33);
  ASSERT_TRUE(client_->start_reading());
  client_->close();  // unread data will make the kernel answer with a reset
  run_until([&] { return client_side_.closed; });
  Status written;
  for (int i = 0; i < 50 && written.ok(); ++i) {
    written = accepted_->write(data);
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
  }
  run_until([&] { return !written.ok() || server_side_.ended; });
  EXPECT_TRUE(!written.ok() || server_side_.ended)
      << "the write must fail (EPIPE/ECONNRESET), not kill the test";
}

TEST(TcpConnect, RefusedConnectionsReportAnError) {
  EventLoop loop;
  std::uint16_t port = 0;
  {
    auto listener = TcpListener::listen(loop.raw(), "127.0.0.1:0", [](std::unique_ptr<TcpConnection>) {});
    ASSERT_TRUE(listener);
    port = (*listener)->port();
  }
  uv_run(loop.raw(), UV_RUN_NOWAIT);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Status outcome;
  bool done = false;
  auto connection = TcpConnection::connect(loop.raw(), reinterpret_cast<sockaddr*>(&address), [&](Status s) {
    outcome = s;
    done = true;
  });
  ASSERT_TRUE(connection);
  for (int i = 0; i < 1000 && !done; ++i)
    uv_run(loop.raw(), UV_RUN_ONCE);
  ASSERT_TRUE(done);
  ASSERT_FALSE(outcome);
  EXPECT_NE(outcome.error().message().find("connection refused"), std::string::npos)
      << outcome.error().message();
}

TEST(TcpListen, RefusesNamesAndBusyPorts) {
  EventLoop loop;
  auto by_name = TcpListener::listen(loop.raw(), "localhost:0", [](std::unique_ptr<TcpConnection>) {});
  ASSERT_FALSE(by_name);
  EXPECT_NE(by_name.error().message().find("IP address"), std::string::npos);
  auto first = TcpListener::listen(loop.raw(), "127.0.0.1:0", [](std::unique_ptr<TcpConnection>) {});
  ASSERT_TRUE(first);
  auto second = TcpListener::listen(loop.raw(), fmt::format("127.0.0.1:{}", (*first)->port()),
                                    [](std::unique_ptr<TcpConnection>) {});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("address already in use"), std::string::npos)
      << second.error().message();
  auto v6 = TcpListener::listen(loop.raw(), "[::1]:0", [](std::unique_ptr<TcpConnection>) {});
  EXPECT_TRUE(v6) << (v6 ? "" : v6.error().message());
}

}  // namespace
}  // namespace brelay::net
