#include "relay/binlog/binlog_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "relay/binlog/event_header.h"

namespace brelay::binlog {

namespace detail {
void FileCloser::operator()(std::FILE* file) const {
  std::fclose(file);
}
}  // namespace detail

namespace {

Error io_error(std::string_view what, const std::string& path, int error) {
  return make_error_code(error, "{} {}: {}", what, path, std::strerror(error));
}

}  // namespace

Result<BinlogFileReader> BinlogFileReader::open(const std::string& path) {
  detail::FileHandle file(std::fopen(path.c_str(), "rb"));
  if (!file) return io_error("cannot open binlog file", path, errno);
  struct stat info {};
  if (fstat(fileno(file.get()), &info) != 0) return io_error("cannot stat binlog file", path, errno);
  std::array<std::uint8_t, 4> magic{};
  if (std::fread(magic.data(), 1, magic.size(), file.get()) != magic.size() || magic != kBinlogMagic) {
    return make_error("{} is not a binlog file: it does not start with the magic bytes fe 62 69 6e", path);
  }
  return BinlogFileReader(std::move(file), path, static_cast<std::uint64_t>(info.st_size));
}

Result<std::optional<ByteView>> BinlogFileReader::next() {
  std::array<std::uint8_t, kEventHeaderSize> header_bytes{};
  const std::size_t got = std::fread(header_bytes.data(), 1, header_bytes.size(), file_.get());
  if (got == 0 && std::feof(file_.get())) return std::optional<ByteView>();
  if (std::ferror(file_.get())) return io_error("cannot read binlog file", path_, errno);
  if (got < header_bytes.size()) {
    return make_error("{}: truncated event at offset {}: the file ends {} bytes into its 19-byte header",
                      path_, position_, got);
  }
  auto header = parse_event_header(header_bytes);
  if (!header)
    return std::move(header).error().with_context(fmt::format("{} at offset {}", path_, position_));
  const std::uint64_t remaining = file_size_ > position_ ? file_size_ - position_ : 0;
  if (header->event_size > remaining) {
    return make_error("{}: truncated event at offset {}: {} event of {} bytes but the file has {} more",
                      path_, position_, event_type_name(header->type), header->event_size, remaining);
  }
  buffer_.resize(header->event_size);
  std::copy(header_bytes.begin(), header_bytes.end(), buffer_.begin());
  const std::size_t body = header->event_size - kEventHeaderSize;
  if (std::fread(buffer_.data() + kEventHeaderSize, 1, body, file_.get()) != body) {
    if (std::ferror(file_.get())) return io_error("cannot read binlog file", path_, errno);
    return make_error("{}: truncated event at offset {}: the file ended early", path_, position_);
  }
  position_ += header->event_size;
  return std::optional<ByteView>(ByteView(buffer_));
}

Result<BinlogFileWriter> BinlogFileWriter::create(const std::string& path) {
  detail::FileHandle file(std::fopen(path.c_str(), "wb"));
  if (!file) return io_error("cannot create binlog file", path, errno);
  if (std::fwrite(kBinlogMagic.data(), 1, kBinlogMagic.size(), file.get()) != kBinlogMagic.size()) {
    return io_error("cannot write binlog file", path, errno);
  }
  return BinlogFileWriter(std::move(file), path);
}

Status BinlogFileWriter::append(ByteView event) {
  if (!file_) return make_error("binlog file {} was already finished", path_);
  BRELAY_ASSIGN_OR_RETURN(EventHeader header, parse_event_header(event));
  if (header.event_size != event.size()) {
    return make_error("refusing to write a {} event whose header says {} bytes but has {}",
                      event_type_name(header.type), header.event_size, event.size());
  }
  if (std::fwrite(event.data(), 1, event.size(), file_.get()) != event.size()) {
    return io_error("cannot write binlog file", path_, errno);
  }
  position_ += event.size();
  return {};
}

Status BinlogFileWriter::finish() {
  if (!file_) return make_error("binlog file {} was already finished", path_);
  detail::FileHandle file = std::move(file_);
  if (std::fflush(file.get()) != 0) return io_error("cannot write binlog file", path_, errno);
  if (fsync(fileno(file.get())) != 0) return io_error("cannot fsync binlog file", path_, errno);
  std::FILE* raw = file.release();
  if (std::fclose(raw) != 0) return io_error("cannot close binlog file", path_, errno);
  return {};
}

}  // namespace brelay::binlog
