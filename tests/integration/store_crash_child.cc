// The child of the storage crash test: opens the store in argv[1] with sync = commit, continues the
// CrashStream from the store's durable end, and appends as fast as it can until it is killed. Each
// time the writer reports a new durable end, it writes "<file> <position> <last GTID>\n" to stdout
// with one write(2) before the callback returns, so the test knows what the child was told is
// durable. It exits on its own after a minute, in case nobody kills it.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>

#include "storage/binlog_store.h"
#include "storage/store_writer.h"
#include "tests/integration/store_crash_stream.h"

namespace {

using brelay::storage::BinlogStore;
using brelay::storage::StoreWriter;
using brelay::storage::WriteBatch;
using brelay::testing::CrashStream;

std::uint64_t gtid_number(const brelay::Bytes& key) {
  std::uint64_t n = 0;
  for (std::uint8_t b : key)
    n = n << 8 | b;
  return n;
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "store_crash_child: %s\n", message.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) die("usage: store_crash_child DATA_DIR");
  auto store = BinlogStore::open(argv[1]);
  if (!store) die(store.error().message());

  std::mutex mutex;
  std::condition_variable room;
  std::optional<brelay::storage::ResumePoint> reported;
  auto on_progress = [&](const StoreWriter::Progress& progress) {
    if (progress.error) die("the writer stopped: " + progress.error->message());
    if (progress.durable_end && progress.durable_end != reported) {
      reported = progress.durable_end;
      const std::string line =
          fmt::format("{} {} {}\n", progress.durable_end->file, progress.durable_end->position,
                      gtid_number(progress.durable_end->last_gtid));
      if (write(1, line.data(), line.size()) != static_cast<ssize_t>(line.size())) die("cannot report");
    }
    std::lock_guard lock(mutex);
    room.notify_all();
  };
  StoreWriter::Options options;
  options.queue_limit_bytes = 1 << 20;
  auto writer = StoreWriter::start(**store, options, on_progress);
  if (!writer) die(writer.error().message());

  // Continue from the durable end: regenerate its file and skip what is stored.
  const auto resume = (*store)->durable_end();
  bool file_closed = false;
  std::uint64_t first_file = 1;
  if (resume) {
    first_file = CrashStream::file_number(resume->file);
    if (first_file == 0) die("unexpected file " + resume->file);
    auto info = (*store)->find_file(resume->file);
    if (!info || !*info) die("the durable end's file is not listed");
    file_closed = (*info)->closed;
  }
  CrashStream stream(first_file);
  const CrashStream::Item* item = &stream.next();
  if (resume) {
    while (!(item->kind == CrashStream::Item::Kind::kEvent &&
             item->position + item->bytes.size() == resume->position))
      item = &stream.next();
    item = &stream.next();
    if (item->kind == CrashStream::Item::Kind::kEndFile && file_closed) item = &stream.next();
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  WriteBatch batch;
  while (std::chrono::steady_clock::now() < deadline) {
    switch (item->kind) {
      case CrashStream::Item::Kind::kBeginFile:
        batch.begin_file({item->file, item->position, item->bytes, {}});
        break;
      case CrashStream::Item::Kind::kEvent: {
        const brelay::Bytes gtid = item->gtid != 0 ? CrashStream::gtid_key(item->gtid) : brelay::Bytes();
        batch.append({item->position, item->bytes, item->boundary, gtid, 1'700'000'000, {}});
        break;
      }
      case CrashStream::Item::Kind::kEndFile: batch.end_file(); break;
    }
    if (batch.byte_size() >= 64 * 1024) {
      auto admitted = (*writer)->submit(std::move(batch));
      if (!admitted) die(admitted.error().message());
      batch = (*writer)->take_batch();
      if (admitted->queue_full) {
        std::unique_lock lock(mutex);
        room.wait(lock, [&] { return !(*writer)->progress().queue_full; });
      }
    }
    item = &stream.next();
  }
  return 0;
}
