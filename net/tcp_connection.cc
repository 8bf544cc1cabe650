#include "net/tcp_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include "net/socket_address.h"

namespace brelay::net {
namespace {

constexpr std::size_t kReadBufferSize = 64 * 1024;
// A write buffer this large is released once it has been sent, rather than kept for reuse.
constexpr std::size_t kKeptWriteCapacity = 1024 * 1024;

Error uv_error(std::string_view what, int code) {
  return make_error_code(code, "{}: {}", what, uv_strerror(code));
}

}  // namespace

struct TcpConnection::Handle {
  uv_tcp_t tcp{};
  uv_connect_t connect_request{};
  uv_write_t write_request{};
  uv_shutdown_t shutdown_request{};
  uv_timer_t linger_timer{};  // bounds close_after_flush(); initialised by it
  bool linger_timer_open = false;
  int open_handles = 1;  // the block is freed when the tcp handle (and the timer) have closed
  TcpConnection* owner = nullptr;
  std::function<void(Status)> connect_done;
  std::string connect_target;
  bool writing = false;
  Bytes in_flight;  // handed to uv_write; must stay put until its callback
  Bytes queued;     // accepted by write() while in_flight is being sent
  std::unique_ptr<std::uint8_t[]> read_buffer;
};

TcpConnection::TcpConnection(Handle* handle) : handle_(handle) {
  handle_->owner = this;
  handle_->tcp.data = handle_;
  handle_->write_request.data = handle_;
  handle_->connect_request.data = handle_;
  handle_->shutdown_request.data = handle_;
}

TcpConnection::~TcpConnection() {
  if (handle_ == nullptr) return;
  handle_->owner = nullptr;
  handle_->connect_done = nullptr;
  if (!closing_) {
    closing_ = true;
    close_handles();
  }
}

void TcpConnection::close_handles() {
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->tcp), &TcpConnection::on_close_done);
  if (handle_->linger_timer_open) {
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_->linger_timer), [](uv_handle_t* timer) {
      auto* handle = static_cast<Handle*>(timer->data);
      if (--handle->open_handles == 0) delete handle;
    });
  }
}

Result<std::unique_ptr<TcpConnection>> TcpConnection::accept(uv_stream_t* listener) {
  auto* handle = new Handle;
  if (int rc = uv_tcp_init(listener->loop, &handle->tcp); rc != 0) {
    delete handle;
    return uv_error("creating a socket", rc);
  }
  std::unique_ptr<TcpConnection> connection(new TcpConnection(handle));
  if (int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&handle->tcp)); rc != 0)
    return uv_error("accepting a connection", rc);
  uv_tcp_nodelay(&handle->tcp, 1);
  connection->remember_peer();
  return connection;
}

Result<std::unique_ptr<TcpConnection>> TcpConnection::connect(uv_loop_t* loop, const sockaddr* address,
                                                              std::function<void(Status)> done) {
  auto* handle = new Handle;
  if (int rc = uv_tcp_init(loop, &handle->tcp); rc != 0) {
    delete handle;
    return uv_error("creating a socket", rc);
  }
  std::unique_ptr<TcpConnection> connection(new TcpConnection(handle));
  handle->connect_done = std::move(done);
  handle->connect_target = format_address(address);
  if (int rc =
          uv_tcp_connect(&handle->connect_request, &handle->tcp, address, &TcpConnection::on_connect_done);
      rc != 0) {
    return uv_error(fmt::format("connecting to {}", handle->connect_target), rc);
  }
  return connection;
}

void TcpConnection::remember_peer() {
  sockaddr_storage address{};
  int length = sizeof(address);
  if (uv_tcp_getpeername(&handle_->tcp, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    peer_address_ = format_address(reinterpret_cast<sockaddr*>(&address));
    peer_host_ = format_host(reinterpret_cast<sockaddr*>(&address));
  }
}

void TcpConnection::on_connect_done(uv_connect_t* request, int status) {
  auto* handle = static_cast<Handle*>(request->data);
  if (handle->owner == nullptr || !handle->connect_done) return;
  auto done = std::move(handle->connect_done);
  handle->connect_done = nullptr;
  if (status != 0) {
    done(uv_error(fmt::format("connecting to {}", handle->connect_target), status));
    return;
  }
  uv_tcp_nodelay(&handle->tcp, 1);
  handle->owner->remember_peer();
  done(Status());
}

Status TcpConnection::start_reading() {
  if (closing_) return make_error("the connection is closed");
  if (reading_) return {};
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&handle_->tcp), &TcpConnection::on_alloc,
                         &TcpConnection::on_read_callback);
  if (rc != 0) return uv_error("reading from the socket", rc);
  reading_ = true;
  return {};
}

void TcpConnection::stop_reading() {
  if (!reading_ || closing_) return;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&handle_->tcp));
  reading_ = false;
}

void TcpConnection::on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buffer) {
  auto* handle = static_cast<Handle*>(h->data);
  if (handle->owner != nullptr && handle->owner->observer_ != nullptr && !handle->owner->lingering_) {
    const std::span<std::uint8_t> space = handle->owner->observer_->read_buffer();
    if (!space.empty()) {
      *buffer = uv_buf_init(reinterpret_cast<char*>(space.data()), static_cast<unsigned>(space.size()));
      return;
    }
  }
  if (!handle->read_buffer)
    handle->read_buffer = std::make_unique_for_overwrite<std::uint8_t[]>(kReadBufferSize);
  *buffer = uv_buf_init(reinterpret_cast<char*>(handle->read_buffer.get()), kReadBufferSize);
}

void TcpConnection::on_read_callback(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer) {
  auto* handle = static_cast<Handle*>(stream->data);
  TcpConnection* self = handle->owner;
  if (self == nullptr || self->closing_) return;
  if (self->lingering_) {
    // Closing: what the peer still sends is dropped; its end (or an error) completes the close.
    if (nread < 0) self->close();
    return;
  }
  if (self->observer_ == nullptr) return;
  if (nread > 0) {
    self->observer_->on_read(
        ByteView(reinterpret_cast<const std::uint8_t*>(buffer->base), static_cast<std::size_t>(nread)));
    return;
  }
  if (nread == 0) return;  // EAGAIN
  self->stop_reading();
  if (nread == UV_EOF) {
    self->observer_->on_read_end(Status());
  } else {
    self->observer_->on_read_end(uv_error("reading from the socket", static_cast<int>(nread)));
  }
}

Status TcpConnection::write(ByteView bytes) {
  uv_buf_t buffer = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())),
                                static_cast<unsigned>(bytes.size()));
  return write(std::span<const uv_buf_t>(&buffer, 1));
}

Status TcpConnection::write(std::span<const uv_buf_t> buffers) {
  if (closing_ || lingering_) return make_error("writing to a closed connection");
  for (const uv_buf_t& buffer : buffers)
    offered_bytes_ += buffer.len;
  std::size_t first = 0;   // first buffer not completely written
  std::size_t offset = 0;  // bytes of buffers[first] already written
  if (!handle_->writing && handle_->queued.empty()) {
    std::vector<uv_buf_t> rest;
    while (first < buffers.size()) {
      // uv_try_write takes the array as is; build the remainder only after a partial write.
      const uv_buf_t* base = buffers.data() + first;
      std::size_t count = buffers.size() - first;
      if (offset != 0) {
        rest.assign(base, base + count);
        rest[0].base += offset;
        rest[0].len -= offset;
        base = rest.data();
      }
      int written =
          uv_try_write(reinterpret_cast<uv_stream_t*>(&handle_->tcp), base, static_cast<unsigned>(count));
      if (written == UV_EAGAIN) break;
      if (written < 0) return uv_error("writing to the socket", written);
      std::size_t remaining = static_cast<std::size_t>(written);
      while (first < buffers.size() && remaining >= buffers[first].len - offset) {
        remaining -= buffers[first].len - offset;
        offset = 0;
        ++first;
      }
      offset += remaining;
      if (written == 0) break;
    }
  }
  std::size_t rest = 0;
  for (std::size_t i = first; i < buffers.size(); ++i)
    rest += buffers[i].len - (i == first ? offset : 0);
  if (rest > 0) {
    // Appended with memmove from byte pointers: no zero-fill first (resize) and no per-byte copy
    // (inserting char into a vector of uint8_t converts byte by byte).
    Bytes& queued = handle_->queued;
    for (std::size_t i = first; i < buffers.size(); ++i) {
      const std::size_t skip = i == first ? offset : 0;
      const auto* begin = reinterpret_cast<const std::uint8_t*>(buffers[i].base) + skip;
      queued.insert(queued.end(), begin, begin + (buffers[i].len - skip));
    }
  }
  if (!handle_->writing && !handle_->queued.empty()) BRELAY_TRY(start_queued_write());
  if (pending_bytes() > low_water_mark_) above_low_water_ = true;
  return {};
}

Status TcpConnection::start_queued_write() {
  std::swap(handle_->in_flight, handle_->queued);
  handle_->queued.clear();
  uv_buf_t buffer = uv_buf_init(reinterpret_cast<char*>(handle_->in_flight.data()),
                                static_cast<unsigned>(handle_->in_flight.size()));
  handle_->writing = true;
  int rc = uv_write(&handle_->write_request, reinterpret_cast<uv_stream_t*>(&handle_->tcp), &buffer, 1,
                    &TcpConnection::on_write_done);
  if (rc != 0) {
    handle_->writing = false;
    return uv_error("writing to the socket", rc);
  }
  return {};
}

void TcpConnection::on_write_done(uv_write_t* request, int status) {
  auto* handle = static_cast<Handle*>(request->data);
  handle->writing = false;
  handle->in_flight.clear();
  if (handle->in_flight.capacity() > kKeptWriteCapacity) Bytes().swap(handle->in_flight);
  TcpConnection* self = handle->owner;
  if (self == nullptr || self->closing_) return;
  if (status != 0) {
    if (self->observer_ != nullptr)
      self->observer_->on_write_error(uv_error("writing to the socket", status));
    return;
  }
  if (!handle->queued.empty()) {
    if (Status started = self->start_queued_write(); !started) {
      if (self->observer_ != nullptr) self->observer_->on_write_error(started.error());
      return;
    }
  }
  self->check_drained();
}

void TcpConnection::check_drained() {
  const std::size_t pending = pending_bytes();
  if (pending == 0 && lingering_ && !handle_->writing) {
    shutdown_writing();
    return;
  }
  if (above_low_water_ && pending <= low_water_mark_) {
    above_low_water_ = false;
    if (observer_ != nullptr) observer_->on_drained();
  }
}

void TcpConnection::shutdown_writing() {
  if (shutdown_started_) return;
  shutdown_started_ = true;
  const int rc = uv_shutdown(&handle_->shutdown_request, reinterpret_cast<uv_stream_t*>(&handle_->tcp),
                             [](uv_shutdown_t* request, int status) {
                               auto* handle = static_cast<Handle*>(request->data);
                               if (handle->owner != nullptr && status != 0) handle->owner->close();
                             });
  if (rc != 0) close();
}

std::size_t TcpConnection::pending_bytes() const {
  if (handle_ == nullptr) return 0;
  return uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&handle_->tcp)) +
         handle_->queued.size();
}

Status TcpConnection::limit_unsent_bytes(std::size_t bytes) {
  if (closing_) return make_error("the connection is closed");
  uv_os_fd_t fd = -1;
  if (int rc = uv_fileno(reinterpret_cast<const uv_handle_t*>(&handle_->tcp), &fd); rc != 0)
    return uv_error("limiting the socket's unsent bytes", rc);
  const int limit = static_cast<int>(std::min<std::size_t>(bytes, std::numeric_limits<int>::max()));
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &limit, sizeof(limit)) != 0)
    return make_error_code(errno, "limiting the socket's unsent bytes (TCP_NOTSENT_LOWAT): {}",
                           std::strerror(errno));
  return {};
}

void TcpConnection::close() {
  if (closing_) return;
  closing_ = true;
  reading_ = false;
  close_handles();
}

void TcpConnection::close_after_flush(std::chrono::milliseconds linger) {
  if (closing_ || lingering_) return;
  lingering_ = true;
  uv_timer_init(handle_->tcp.loop, &handle_->linger_timer);  // cannot fail for a valid loop
  handle_->linger_timer.data = handle_;
  handle_->linger_timer_open = true;
  ++handle_->open_handles;
  uv_timer_start(
      &handle_->linger_timer,
      [](uv_timer_t* timer) {
        auto* handle = static_cast<Handle*>(timer->data);
        if (handle->owner != nullptr) handle->owner->close();
      },
      static_cast<std::uint64_t>(linger.count()), 0);
  // Keep reading (and dropping) until the peer closes: closing while it still sends would make the
  // kernel answer with a reset, which can destroy our last packet (an ERR) before the peer reads it.
  if (!reading_) (void)start_reading();
  if (pending_bytes() == 0 && !handle_->writing) shutdown_writing();
}

void TcpConnection::on_close_done(uv_handle_t* h) {
  auto* handle = static_cast<Handle*>(h->data);
  TcpConnection* self = handle->owner;
  handle->owner = nullptr;
  if (--handle->open_handles == 0) delete handle;
  if (self == nullptr) return;
  self->handle_ = nullptr;
  if (self->observer_ != nullptr) self->observer_->on_closed();
}

}  // namespace brelay::net
