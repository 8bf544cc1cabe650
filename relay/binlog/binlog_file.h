// Binlog files on disk: the 4-byte magic, then events back to back. BinlogFileReader walks a file
// event by event (for `binlog-relay import` and tests); BinlogFileWriter writes one byte for byte
// (for export), so that what a server wrote comes back out identical. These are the codec's only
// I/O. Each object owns its file handle (closed on destruction); move-only; one thread at a time.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::binlog {

namespace detail {
struct FileCloser {
  void operator()(std::FILE* file) const;
};
using FileHandle = std::unique_ptr<std::FILE, FileCloser>;
}  // namespace detail

class BinlogFileReader {
 public:
  // Opens `path` and checks the magic. Errors name the path and the errno text.
  static Result<BinlogFileReader> open(const std::string& path);

  // The next event, a view valid until the next call; std::nullopt at the end of the file.
  // Errors: an event header with a size below 19, or an event cut short by the end of the file
  // (a file still being written, or truncated): the error names the offset.
  Result<std::optional<ByteView>> next();

  // Offset of the next event (4 right after open).
  std::uint64_t position() const { return position_; }
  std::uint64_t file_size() const { return file_size_; }
  const std::string& path() const { return path_; }

 private:
  BinlogFileReader(detail::FileHandle file, std::string path, std::uint64_t size)
      : file_(std::move(file)), path_(std::move(path)), file_size_(size) {}

  detail::FileHandle file_;
  std::string path_;
  std::uint64_t file_size_ = 0;
  std::uint64_t position_ = 4;
  Bytes buffer_;
};

class BinlogFileWriter {
 public:
  // Creates (or truncates) `path` and writes the magic.
  static Result<BinlogFileWriter> create(const std::string& path);

  // Appends one whole event; its header's event_size must equal event.size().
  Status append(ByteView event);
  // Flushes, fsyncs and closes; the writer is unusable afterwards. A writer destroyed without
  // finish() closes the file without fsync.
  Status finish();

  // Offset where the next event goes.
  std::uint64_t position() const { return position_; }

 private:
  BinlogFileWriter(detail::FileHandle file, std::string path)
      : file_(std::move(file)), path_(std::move(path)) {}

  detail::FileHandle file_;
  std::string path_;
  std::uint64_t position_ = 4;
};

}  // namespace brelay::binlog
