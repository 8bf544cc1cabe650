#include "storage/store_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <vector>

namespace brelay::storage {
namespace {

int compare_bytes(ByteView a, ByteView b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

TEST(EventKey, EncodedKeysSortLikeTheStream) {
  const std::vector<EventKey> ordered = {{1, 4},
                                         {1, 255},
                                         {1, 256},
                                         {1, 0xffffffffull},
                                         {1, 0x100000000ull},
                                         {2, 4},
                                         {256, 0},
                                         {0xffffffffu, 0xffffffffffffffffull}};
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i) {
    const auto a = ordered[i].encode();
    const auto b = ordered[i + 1].encode();
    EXPECT_LT(compare_bytes(a, b), 0) << i;
    EXPECT_LT(ordered[i], ordered[i + 1]);
  }
  for (const EventKey& key : ordered) {
    auto decoded = EventKey::decode(key.encode());
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(*decoded, key);
  }
}

TEST(EventKey, WrongSizeIsAnError) {
  const auto key = EventKey{1, 2}.encode();
  EXPECT_FALSE(EventKey::decode(ByteView(key).first(11)));
  EXPECT_FALSE(decode_file_key(ByteView(key).first(3)));
  auto seq = decode_file_key(encode_file_key(77));
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 77u);
}

FileRecordView sample_file_record() {
  FileRecordView record;
  record.closed = true;
  record.first_position = 4;
  record.end_position = 123456789012ull;
  record.first_timestamp = 1'700'000'000;
  record.last_timestamp = 1'700'000'500;
  record.created_time = 1'700'000'001;
  record.last_write_time = 1'700'000'600;
  record.name = "mysql-bin.000042";
  static const Bytes fde(300, 0xab);
  static const Bytes previous = to_bytes("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5");
  record.format_description = fde;
  record.previous_gtids = previous;
  return record;
}

TEST(FileRecord, RoundTrips) {
  const FileRecordView record = sample_file_record();
  const Bytes encoded = record.encode();
  auto decoded = FileRecordView::decode(encoded);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->closed, record.closed);
  EXPECT_EQ(decoded->first_position, record.first_position);
  EXPECT_EQ(decoded->end_position, record.end_position);
  EXPECT_EQ(decoded->first_timestamp, record.first_timestamp);
  EXPECT_EQ(decoded->last_timestamp, record.last_timestamp);
  EXPECT_EQ(decoded->created_time, record.created_time);
  EXPECT_EQ(decoded->last_write_time, record.last_write_time);
  EXPECT_EQ(decoded->name, record.name);
  EXPECT_TRUE(std::ranges::equal(decoded->format_description, record.format_description));
  EXPECT_TRUE(std::ranges::equal(decoded->previous_gtids, record.previous_gtids));

  const FileInfo info = to_file_info(9, *decoded);
  EXPECT_EQ(info.seq, 9u);
  EXPECT_EQ(record_view(info).encode(), encoded);
}

TEST(FileRecord, EveryTruncationAndTrailingByteIsAnError) {
  const Bytes encoded = sample_file_record().encode();
  for (std::size_t cut = 0; cut < encoded.size(); ++cut) {
    EXPECT_FALSE(FileRecordView::decode(ByteView(encoded).first(cut))) << "cut at " << cut;
  }
  Bytes longer = encoded;
  longer.push_back(0);
  auto decoded = FileRecordView::decode(longer);
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message().find("trailing"), std::string::npos) << decoded.error().message();
}

TEST(FileRecord, EndBeforeFirstPositionIsAnError) {
  FileRecordView record = sample_file_record();
  record.first_position = 100;
  record.end_position = 50;
  EXPECT_FALSE(FileRecordView::decode(record.encode()));
}

TEST(ResumeRecord, RoundTripsAndRejectsTruncation) {
  ResumeRecordView record;
  record.file_seq = 3;
  record.position = 987654;
  record.timestamp = 1'700'000'123;
  record.file_name = "mariadb-bin.000003";
  const Bytes gtid = {0, 0, 0, 1, 0, 0, 0, 7};
  const Bytes executed = to_bytes("0-1-100,1-2-5");
  record.last_gtid = gtid;
  record.executed_gtid_set = executed;
  const Bytes encoded = record.encode();
  auto decoded = ResumeRecordView::decode(encoded);
  ASSERT_TRUE(decoded) << decoded.error().message();
  const ResumePoint point = to_resume_point(*decoded);
  EXPECT_EQ(point.file, "mariadb-bin.000003");
  EXPECT_EQ(point.file_seq, 3u);
  EXPECT_EQ(point.position, 987654u);
  EXPECT_EQ(point.timestamp, 1'700'000'123);
  EXPECT_EQ(point.last_gtid, gtid);
  EXPECT_EQ(point.executed_gtid_set, executed);
  for (std::size_t cut = 0; cut < encoded.size(); ++cut) {
    EXPECT_FALSE(ResumeRecordView::decode(ByteView(encoded).first(cut))) << "cut at " << cut;
  }
}

TEST(NextFileRecord, RoundTripsAndRejectsEveryCut) {
  const NextFileRecord record{"mysql-bin.000007", "mysql-bin.000008", 4};
  const Bytes encoded = record.encode();
  EXPECT_EQ(encoded[0], NextFileRecord::kVersion);
  auto decoded = NextFileRecord::decode(encoded);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(*decoded, record);
  for (std::size_t cut = 0; cut < encoded.size(); ++cut) {
    EXPECT_FALSE(NextFileRecord::decode(ByteView(encoded).first(cut))) << "cut at " << cut;
  }
  Bytes trailing = encoded;
  trailing.push_back(0);
  EXPECT_FALSE(NextFileRecord::decode(trailing));
  const NextFileRecord far{"a", "b", std::uint64_t{1} << 40};
  auto far_decoded = NextFileRecord::decode(far.encode());
  ASSERT_TRUE(far_decoded);
  EXPECT_EQ(*far_decoded, far);
}

TEST(NextFileRecord, ReadsTheTextFormOfThePreviousVersion) {
  auto decoded = NextFileRecord::decode(to_bytes("mysql-bin.000007\nmysql-bin.000008\n4"));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(*decoded, (NextFileRecord{"mysql-bin.000007", "mysql-bin.000008", 4}));
  auto large = NextFileRecord::decode(to_bytes("a.1\nb.2\n18446744073709551615"));
  ASSERT_TRUE(large);
  EXPECT_EQ(large->next_position, 18446744073709551615u);
}

TEST(NextFileRecord, RejectsGarbageAndBrokenTextForms) {
  for (const char* text : {"", "mysql-bin.000007", "mysql-bin.000007\nmysql-bin.000008",
                           "mysql-bin.000007\nmysql-bin.000008\n", "mysql-bin.000007\nmysql-bin.000008\n4x",
                           "mysql-bin.000007\nmysql-bin.000008\n-4", "mysql-bin.000007\nmysql-bin.000008\n 4",
                           "a\nb\n18446744073709551616", "\nmysql-bin.000008\n4", "mysql-bin.000007\n\n4"}) {
    EXPECT_FALSE(NextFileRecord::decode(to_bytes(text))) << "'" << text << "'";
  }
  EXPECT_FALSE(NextFileRecord::decode(Bytes{0x02, 0x01, 'a', 0x01, 'b'})) << "an unknown version";
  EXPECT_FALSE(NextFileRecord::decode(NextFileRecord{"", "b", 4}.encode())) << "no closed file";
  EXPECT_FALSE(NextFileRecord::decode(NextFileRecord{"a", "", 4}.encode())) << "no next file";
}

Bytes make_run(const std::vector<std::size_t>& sizes) {
  std::size_t payload = 0;
  std::vector<std::uint32_t> ends;
  for (std::size_t size : sizes) {
    payload += size;
    ends.push_back(static_cast<std::uint32_t>(payload));
  }
  Bytes value(RunView::encoded_size(sizes.size()));
  RunView::write(value, ends);
  return value;
}

TEST(RunView, FindsEventStartsByBinarySearch) {
  const Bytes value = make_run({10, 20, 5, 100});
  auto run = RunView::parse(value);
  ASSERT_TRUE(run) << run.error().message();
  EXPECT_EQ(run->payload_size(), 135u);
  const Bytes payload(135, 7);
  EXPECT_EQ(run->with_payload(payload).payload().size(), 135u);
  EXPECT_EQ(run->event_count(), 4u);
  EXPECT_EQ(run->event_start(0), 0u);
  EXPECT_EQ(run->event_start(3), 35u);
  EXPECT_EQ(run->event_end(3), 135u);
  EXPECT_EQ(run->event_starting_at(0), 0u);
  EXPECT_EQ(run->event_starting_at(10), 1u);
  EXPECT_EQ(run->event_starting_at(30), 2u);
  EXPECT_EQ(run->event_starting_at(35), 3u);
  EXPECT_FALSE(run->event_starting_at(1));
  EXPECT_FALSE(run->event_starting_at(34));
  EXPECT_FALSE(run->event_starting_at(135));
  EXPECT_EQ(run->first_event_at_or_after(0), 0u);
  EXPECT_EQ(run->first_event_at_or_after(1), 1u);
  EXPECT_EQ(run->first_event_at_or_after(10), 1u);
  EXPECT_EQ(run->first_event_at_or_after(11), 2u);
  EXPECT_EQ(run->first_event_at_or_after(36), 4u);
  EXPECT_EQ(run->events_ending_by(9), 0u);
  EXPECT_EQ(run->events_ending_by(10), 1u);
  EXPECT_EQ(run->events_ending_by(135), 4u);
}

TEST(RunView, RejectsMalformedRuns) {
  EXPECT_FALSE(RunView::parse(Bytes{1, 2, 3}));
  EXPECT_FALSE(RunView::parse(Bytes{0, 0, 0, 0}));              // no events
  EXPECT_FALSE(RunView::parse(Bytes{0xff, 0xff, 0xff, 0xff}));  // table larger than the run
  Bytes value = make_run({10, 20});
  value[0] = 0;  // first end becomes 0: not after the start
  EXPECT_FALSE(RunView::parse(value));
  value = make_run({10, 20});
  value[8] = 3;  // the count no longer matches the table
  EXPECT_FALSE(RunView::parse(value));
  value = make_run({10, 20});
  value[4] = 5;  // ends decrease
  EXPECT_FALSE(RunView::parse(value));
  const Bytes good = make_run({7, 1, 300});
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    auto parsed = RunView::parse(ByteView(good).first(cut));
    EXPECT_FALSE(parsed) << "cut at " << cut;
  }
}

// A frame's events back to back, each with a 19-byte header whose u32 LE at offset 9 is its length.
Bytes frame_of(std::initializer_list<std::uint32_t> lengths) {
  Bytes frame;
  for (std::uint32_t length : lengths) {
    const std::size_t at = frame.size();
    frame.resize(at + std::max<std::size_t>(length, 19), 0x5a);
    for (int i = 0; i < 4; ++i)
      frame[at + 9 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(length >> (8 * i));
  }
  return frame;
}

TEST(FrameEventEnds, WalksTheEventHeadersOfACompressedFrame) {
  auto ends = frame_event_ends(frame_of({19, 100, 23}));
  ASSERT_TRUE(ends) << ends.error().message();
  auto run = RunView::parse(*ends);
  ASSERT_TRUE(run) << run.error().message();
  ASSERT_EQ(run->event_count(), 3u);
  EXPECT_EQ(run->event_end(0), 19u);
  EXPECT_EQ(run->event_end(1), 119u);
  EXPECT_EQ(run->event_end(2), 142u);
  EXPECT_EQ(run->payload_size(), 142u);
  EXPECT_FALSE(run->mac());
  EXPECT_EQ(event_header_length(frame_of({4000})), 4000u);
  EXPECT_FALSE(event_header_length(Bytes(18)));
}

TEST(FrameEventEnds, RejectsFramesTheirHeadersDoNotTile) {
  EXPECT_FALSE(frame_event_ends(Bytes{}));                             // no event
  EXPECT_FALSE(frame_event_ends(ByteView(frame_of({40})).first(30)));  // past the frame's end
  Bytes short_length = frame_of({40, 19});
  short_length[40 + 9] = 18;  // shorter than a header
  auto error = frame_event_ends(short_length);
  ASSERT_FALSE(error);
  EXPECT_NE(error.error().message().find("at offset 40"), std::string::npos) << error.error().message();
  Bytes cut = frame_of({40});
  cut.resize(40 + 10);  // a header cut by the frame's end
  EXPECT_FALSE(frame_event_ends(cut));
  Bytes huge = frame_of({40});
  huge[12] = 0xff;  // a length of about 4 GiB
  EXPECT_FALSE(frame_event_ends(huge));
}

std::vector<GtidListEntry> mariadb_like_gtids(std::size_t count) {
  std::vector<GtidListEntry> entries;
  std::uint64_t position = 4;
  for (std::size_t i = 0; i < count; ++i) {
    Bytes key = {2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int b = 0; b < 8; ++b)
      key[9 + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>((1000 + i) >> (8 * (7 - b)));
    entries.push_back(GtidListEntry{position, key});
    position += 300 + (i * 7919) % 5000;
  }
  return entries;
}

TEST(GtidList, RoundTripsAndPacksATransactionIntoAFewBytes) {
  const auto entries = mariadb_like_gtids(10000);
  auto value = encode_gtid_list(entries);
  ASSERT_TRUE(value) << value.error().message();
  EXPECT_LT(value->size(), 10000u * 8);  // against about 80 bytes per transaction in two databases
  auto back = decode_gtid_list(*value);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, entries);
  auto empty = encode_gtid_list({});
  ASSERT_TRUE(empty);
  auto none = decode_gtid_list(*empty);
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_TRUE(none->empty());
  std::vector<GtidListEntry> unordered = mariadb_like_gtids(2);
  std::swap(unordered[0], unordered[1]);
  EXPECT_FALSE(encode_gtid_list(unordered));
}

TEST(GtidList, RejectsEveryCutAndAWrongCountOrSize) {
  const Bytes value = encode_gtid_list(mariadb_like_gtids(50)).value();
  for (std::size_t cut = 0; cut < value.size(); ++cut)
    EXPECT_FALSE(decode_gtid_list(ByteView(value).first(cut))) << "cut at " << cut;
  Bytes more = value;
  more[0] += 1;  // one entry more than the packed bytes hold
  EXPECT_FALSE(decode_gtid_list(more));
  Bytes fewer = value;
  fewer[0] -= 1;
  EXPECT_FALSE(decode_gtid_list(fewer));
  Bytes size = value;
  size[4] += 1;  // a packed size other than the frame's
  EXPECT_FALSE(decode_gtid_list(size));
  Bytes huge = value;
  huge[7] = 0x7f;  // about 2 GiB: refused before any allocation
  auto refused = decode_gtid_list(huge);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("packed size"), std::string::npos) << refused.error().message();
  Bytes flipped = value;
  flipped[value.size() / 2] ^= 0x10;  // zstd's checksum or format catches it
  EXPECT_FALSE(decode_gtid_list(flipped));
  Bytes trailing = value;
  trailing.push_back(0);
  EXPECT_FALSE(decode_gtid_list(trailing));
}

}  // namespace
}  // namespace brelay::storage
