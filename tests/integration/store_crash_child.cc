// The child of the storage crash test: opens the store in argv[1] with sync = commit, continues the
// CrashStream from the store's durable end, and appends as fast as it can until it is killed. Each
// time the writer reports a new synced end (Progress::synced_end: what a semi-sync source would be
// acknowledged), it writes "<file> <position> <last GTID>\n" to stdout with one write(2) before the
// callback returns, so the test knows what the child was told is durable. With argv[2] = "lone" it
// submits one transaction at a time and waits for it to be reported (the writer's lone commits:
// one sync, the index commit after the report; "encrypted-lone" the same on a store encrypted under
// crash_store_options' key). With argv[2] = "compress" (or "encrypted-compress", encrypted) a second
// thread compresses
// every sealed file as soon as it is sealed (storage/compression.h, frames of 16 KiB), so kills land
// inside compressions and swaps too. It exits on its own after a minute, in case nobody kills it.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <mutex>
#include <string>
#include <thread>

#include "storage/binlog_store.h"
#include "storage/compression.h"
#include "storage/store_writer.h"
#include "tests/integration/store_crash_options.h"
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
  const std::string mode = argc == 3 ? argv[2] : "";
  if (argc != 2 && !(argc == 3 && (mode == "lone" || mode == "encrypted-lone" || mode == "compress" ||
                                   mode == "encrypted-compress")))
    die("usage: store_crash_child DATA_DIR [lone|encrypted-lone|compress|encrypted-compress]");
  const bool lone = mode.ends_with("lone");
  auto store =
      BinlogStore::open(argv[1], brelay::testing::crash_store_options(mode.starts_with("encrypted")));
  if (!store) die(store.error().message());
  std::atomic<bool> stop_compressing{false};
  std::thread compressor;
  if (mode == "compress" || mode == "encrypted-compress") {
    compressor = std::thread([&] {
      brelay::storage::CompressionOptions options;
      options.level = 1;
      options.frame_bytes = 16 << 10;
      options.stop = &stop_compressing;
      while (!stop_compressing.load()) {
        auto done = brelay::storage::Compressor::compress_due(
            **store, std::numeric_limits<std::int64_t>::max(), options);
        if (!done) die("compression failed: " + done.error().message());
        if (done->empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }

  std::mutex mutex;
  std::condition_variable room;
  std::optional<brelay::storage::ResumePoint> reported;
  auto on_progress = [&](const StoreWriter::Progress& progress) {
    if (progress.error) die("the writer stopped: " + progress.error->message());
    std::lock_guard lock(mutex);  // guards `reported`
    if (progress.synced_end && progress.synced_end != reported) {
      reported = progress.synced_end;
      const std::string line =
          fmt::format("{} {} {}\n", progress.synced_end->file, progress.synced_end->position,
                      gtid_number(progress.synced_end->last_gtid));
      if (write(1, line.data(), line.size()) != static_cast<ssize_t>(line.size())) die("cannot report");
    }
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
    const bool transaction_ended = item->kind == CrashStream::Item::Kind::kEvent && item->boundary;
    if (batch.byte_size() >= 64 * 1024 || (lone && transaction_ended)) {
      auto admitted = (*writer)->submit(std::move(batch));
      if (!admitted) die(admitted.error().message());
      batch = (*writer)->take_batch();
      if (admitted->queue_full) {
        std::unique_lock lock(mutex);
        room.wait(lock, [&] { return !(*writer)->progress().queue_full; });
      }
      if (lone && transaction_ended) {
        // One transaction at a time, as a semi-sync source sends them: wait for its report.
        const std::uint64_t end = item->position + item->bytes.size();
        std::unique_lock lock(mutex);
        room.wait(lock,
                  [&] { return reported && reported->file == item->file && reported->position >= end; });
      }
    }
    item = &stream.next();
  }
  stop_compressing = true;
  if (compressor.joinable()) compressor.join();
  return 0;
}
