// Feeds arbitrary bytes to every decoder of the store's on-disk layout (store_format.h), as a
// damaged or foreign data file would: each must return a value or an error, never read out of
// bounds, and whatever decodes must encode back to something that decodes the same.
#include <cstddef>
#include <cstdint>

#include "storage/store_format.h"

namespace {

using brelay::Bytes;
using brelay::ByteView;
using namespace brelay::storage;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

void fuzz_run(ByteView input) {
  auto run = RunView::parse(input);
  if (!run) return;
  check(run->event_count() >= 1);
  check(4 * run->event_count() + 4 + (run->mac() ? 32 : 0) == input.size());
  std::uint64_t previous_end = 0;
  for (std::size_t i = 0; i < run->event_count(); ++i) {
    check(run->event_start(i) == previous_end);
    check(run->event_end(i) > run->event_start(i));
    check(run->event_end(i) <= run->payload_size());
    check(run->event_starting_at(run->event_start(i)) == i);
    check(run->first_event_at_or_after(run->event_start(i)) == i);
    check(run->events_ending_by(run->event_end(i)) == i + 1);
    previous_end = run->event_end(i);
  }
  check(previous_end == run->payload_size());
  for (std::uint64_t offset = 0; offset <= run->payload_size() + 1; offset += 1 + offset / 3) {
    const std::size_t next = run->first_event_at_or_after(offset);
    check(next <= run->event_count());
    if (next < run->event_count()) check(run->event_start(next) >= offset);
    if (next > 0) check(run->event_start(next - 1) < offset || offset == 0);
  }
}

// A compressed frame's event ends (format version 5) come out as a valid run tiling the input.
void fuzz_frame(ByteView input) {
  auto ends = frame_event_ends(input);
  if (!ends) return;
  auto run = RunView::parse(*ends);
  check(run.ok());
  check(!run->mac());
  check(run->payload_size() == input.size());
  for (std::size_t i = 0; i < run->event_count(); ++i) {
    const auto length = event_header_length(input.subspan(run->event_start(i)));
    check(length && *length == run->event_end(i) - run->event_start(i));
  }
}

void fuzz_records(ByteView input) {
  if (auto file = FileRecordView::decode(input)) {
    const Bytes encoded = file->encode();
    auto again = FileRecordView::decode(encoded);
    check(again.ok());
    check(again->encode() == encoded);
    check(again->end_position >= again->first_position);
  }
  if (auto resume = ResumeRecordView::decode(input)) {
    const Bytes encoded = resume->encode();
    auto again = ResumeRecordView::decode(encoded);
    check(again.ok());
    check(again->encode() == encoded);
  }
  if (auto next = NextFileRecord::decode(input)) {
    check(!next->closed_file.empty() && !next->next_file.empty());
    const Bytes encoded = next->encode();
    auto again = NextFileRecord::decode(encoded);
    check(again.ok());
    check(*again == *next);
    check(again->encode() == encoded);
  }
  if (auto frame = FrameView::decode(input)) {
    check(frame->stored_size > 0 && frame->stored_size <= FrameView::kMaxStoredBytes);
    const Bytes encoded = frame->encode();
    check(ByteView(encoded).size() == input.size());
    auto again = FrameView::decode(encoded);
    check(again.ok() && again->encode() == encoded);
  }
  if (auto listed = decode_gtid_list(input)) {
    // Encoding may refuse a list that zstd packs past kMaxGtidListRatio (the input's frame may
    // have packed it worse); what it encodes decodes the same.
    auto encoded = encode_gtid_list(*listed);
    if (encoded) {
      auto again = decode_gtid_list(*encoded);
      check(again.ok() && *again == *listed);
    }
  }
  if (auto key = EventKey::decode(input)) {
    const auto encoded = key->encode();
    check(ByteView(encoded).size() == input.size());
  }
  (void)decode_file_key(input);
  (void)decode_u32_value(input, "fuzz");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  fuzz_run(input);
  fuzz_frame(input);
  fuzz_records(input);
  return 0;
}
