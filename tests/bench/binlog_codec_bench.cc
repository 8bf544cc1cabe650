// Cost of the codec's per-event ingest path (header parse, view, CRC32 verify, transaction
// tracker) against the codec's crc32 alone over the same bytes, which every relay must pay anyway:
// the ratio ingest/crc32 is what the codec adds. The codec's crc32 (libdeflate) is also measured
// against zlib's, the usual implementation, over the same bytes. Two streams: the real MySQL 5.7 fixture's
// events repeated (small events, 30-180 bytes: the worst case per byte) and transactions of 16 KiB row
// events. Run: build/tests/bench/binlog_codec_bench (BRELAY_SOURCE_DIR=<repo> for the fixture).
#include <benchmark/benchmark.h>

#include <cstdlib>

#include <zlib.h>

#include "relay/binlog/binlog_file.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/transaction_boundary.h"
#include "tests/unit/binlog/test_events.h"

namespace brelay::binlog {
namespace {

constexpr std::size_t kStreamBytes = 32u << 20;

struct Stream {
  Bytes bytes;
  std::vector<std::pair<std::size_t, std::size_t>> events;  // offset, size

  void add(ByteView event) {
    events.emplace_back(bytes.size(), event.size());
    bytes.insert(bytes.end(), event.begin(), event.end());
  }
};

Stream fixture_stream() {
  const char* source_dir = std::getenv("BRELAY_SOURCE_DIR");
  const std::string path = std::string(source_dir != nullptr ? source_dir : ".") +
                           "/tests/data/binlogs/apecloud-mysql57-gtid-row.000080";
  std::vector<Bytes> transaction_events;
  auto reader = BinlogFileReader::open(path);
  if (!reader) {
    std::fprintf(stderr, "%s\n", reader.error().message().c_str());
    std::exit(1);
  }
  while (true) {
    auto next = reader->next();
    if (!next || !*next) break;
    auto header = parse_event_header(**next);
    if (header->type == EventType::kFormatDescription || header->type == EventType::kPreviousGtids) continue;
    transaction_events.emplace_back((*next)->begin(), (*next)->end());
  }
  Stream stream;
  while (stream.bytes.size() < kStreamBytes)
    for (const auto& event : transaction_events)
      stream.add(event);
  return stream;
}

Stream large_rows_stream() {
  Stream stream;
  const Bytes gtid = testing::make_mysql_gtid("0123456789abcdef", 7);
  const Bytes begin = testing::make_query("BEGIN");
  const Bytes table_map = testing::make_event(EventType::kTableMap, Bytes(40, 1));
  const Bytes rows = testing::make_event(EventType::kWriteRows, Bytes(16 << 10, 7));
  const Bytes xid = testing::make_xid(1);
  while (stream.bytes.size() < kStreamBytes) {
    for (const Bytes* event : {&gtid, &begin, &table_map, &rows, &rows, &rows, &xid})
      stream.add(*event);
  }
  return stream;
}

const Stream& stream_for(int kind) {
  static const Stream small = fixture_stream();
  static const Stream large = large_rows_stream();
  return kind == 0 ? small : large;
}

void BM_Crc32Zlib(benchmark::State& state) {
  const Stream& stream = stream_for(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    uLong sum = 0;
    for (auto [offset, size] : stream.events)
      sum ^= ::crc32(0, stream.bytes.data() + offset, static_cast<uInt>(size - 4));
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.bytes.size()));
  state.SetLabel(state.range(0) == 0 ? "fixture events" : "16 KiB rows");
}

void BM_Crc32(benchmark::State& state) {
  const Stream& stream = stream_for(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    std::uint32_t sum = 0;
    for (auto [offset, size] : stream.events)
      sum ^= crc32(ByteView(stream.bytes).subspan(offset, size - 4));
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.bytes.size()));
  state.SetLabel(state.range(0) == 0 ? "fixture events" : "16 KiB rows");
}

void BM_IngestPath(benchmark::State& state) {
  const Stream& stream = stream_for(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    TransactionBoundaryTracker tracker;
    for (auto [offset, size] : stream.events) {
      const ByteView bytes = ByteView(stream.bytes).subspan(offset, size);
      auto event = view_event(bytes, ChecksumAlgorithm::kCrc32);
      if (!event || !verify_event_checksum(bytes) || !tracker.feed(*event)) state.SkipWithError("bad event");
    }
    benchmark::DoNotOptimize(tracker.completed_transactions());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * stream.events.size()));
  state.SetLabel(state.range(0) == 0 ? "fixture events" : "16 KiB rows");
}

void BM_HeaderAndTrackerOnly(benchmark::State& state) {
  const Stream& stream = stream_for(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    TransactionBoundaryTracker tracker;
    for (auto [offset, size] : stream.events) {
      auto event = view_event(ByteView(stream.bytes).subspan(offset, size), ChecksumAlgorithm::kCrc32);
      if (!event || !tracker.feed(*event)) state.SkipWithError("bad event");
    }
    benchmark::DoNotOptimize(tracker.completed_transactions());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * stream.events.size()));
  state.SetLabel(state.range(0) == 0 ? "fixture events" : "16 KiB rows");
}

BENCHMARK(BM_Crc32Zlib)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Crc32)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IngestPath)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HeaderAndTrackerOnly)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace brelay::binlog

BENCHMARK_MAIN();
