#include "relay/binlog/gtid_set.h"

#include <algorithm>
#include <charconv>

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "relay/binlog/serialization_varlen.h"

namespace brelay::binlog {

namespace {

constexpr std::uint64_t kFormatMask = std::uint64_t{0xff} << 56;
constexpr std::uint8_t kUntaggedFormat = 0;
constexpr std::uint8_t kTaggedFormat = 1;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Adds [start, end) to sorted disjoint intervals, merging overlapping and adjacent ones.
void add_to(GtidSet::Intervals& intervals, std::int64_t start, std::int64_t end) {
  auto it = std::lower_bound(intervals.begin(), intervals.end(), start,
                             [](const GtidSet::Interval& iv, std::int64_t value) { return iv.end < value; });
  auto last = it;
  while (last != intervals.end() && last->start <= end) {
    start = std::min(start, last->start);
    end = std::max(end, last->end);
    ++last;
  }
  it = intervals.erase(it, last);
  intervals.insert(it, {start, end});
}

void remove_from(GtidSet::Intervals& intervals, std::int64_t start, std::int64_t end) {
  GtidSet::Intervals out;
  out.reserve(intervals.size() + 1);
  for (const auto& iv : intervals) {
    if (iv.end <= start || iv.start >= end) {
      out.push_back(iv);
      continue;
    }
    if (iv.start < start) out.push_back({iv.start, start});
    if (iv.end > end) out.push_back({end, iv.end});
  }
  intervals = std::move(out);
}

bool intervals_contain(const GtidSet::Intervals& intervals, std::int64_t gno) {
  auto it = std::upper_bound(intervals.begin(), intervals.end(), gno,
                             [](std::int64_t value, const GtidSet::Interval& iv) { return value < iv.end; });
  return it != intervals.end() && it->start <= gno;
}

// Is every interval of `sub` inside `super`? Both sorted and disjoint.
bool intervals_subset(const GtidSet::Intervals& sub, const GtidSet::Intervals& super) {
  auto it = super.begin();
  for (const auto& iv : sub) {
    while (it != super.end() && it->end < iv.end)
      ++it;
    if (it == super.end() || it->start > iv.start) return false;
  }
  return true;
}

class TextParser {
 public:
  explicit TextParser(std::string_view text) : text_(text) {}

  Result<GtidSet> parse() {
    GtidSet set;
    skip_space();
    if (at_end()) return set;
    while (true) {
      BRELAY_TRY(parse_one(set));
      skip_space();
      if (at_end()) break;
      if (text_[pos_] != ',') return error("expected ',' or the end");
      ++pos_;
      skip_space();
      // The server tolerates a trailing or repeated separator.
      while (!at_end() && text_[pos_] == ',') {
        ++pos_;
        skip_space();
      }
      if (at_end()) break;
    }
    return set;
  }

 private:
  Status parse_one(GtidSet& set) {
    if (text_.size() - pos_ < 36) return error("expected a UUID");
    auto uuid = Uuid::parse(text_.substr(pos_, 36));
    if (!uuid) return error(uuid.error().message());
    pos_ += 36;
    Tsid source{*uuid, GtidTag()};
    skip_space();
    while (!at_end() && text_[pos_] == ':') {
      ++pos_;
      skip_space();
      if (at_end()) return error("expected an interval or a tag after ':'");
      if (is_tag_start_char(text_[pos_])) {
        const std::size_t start = pos_;
        while (!at_end() && (is_tag_start_char(text_[pos_]) || (text_[pos_] >= '0' && text_[pos_] <= '9')))
          ++pos_;
        auto tag = GtidTag::parse(text_.substr(start, pos_ - start));
        if (!tag) return error(tag.error().message());
        source.tag = *tag;
      } else {
        BRELAY_ASSIGN_OR_RETURN(std::int64_t first, parse_gno());
        std::int64_t last = first;
        skip_space();
        if (!at_end() && text_[pos_] == '-') {
          ++pos_;
          skip_space();
          BRELAY_ASSIGN_OR_RETURN(last, parse_gno());
          if (last < first) return error("interval end is below its start");
        }
        set.add_interval(source, first, last + 1);
      }
      skip_space();
    }
    return {};
  }

  Result<std::int64_t> parse_gno() {
    std::int64_t value = 0;
    const char* begin = text_.data() + pos_;
    const auto [end, ec] = std::from_chars(begin, text_.data() + text_.size(), value);
    if (ec != std::errc() || end == begin) return error("expected a transaction number");
    if (value < 1 || value > kMaxGno)
      return error(fmt::format("transaction number {} is out of 1..{}", value, kMaxGno));
    pos_ += static_cast<std::size_t>(end - begin);
    return value;
  }

  Error error(std::string_view what) const {
    return make_error("malformed GTID set '{}': {} at position {}", text_, what, pos_);
  }
  void skip_space() {
    while (!at_end() && is_space(text_[pos_]))
      ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }

  std::string_view text_;
  std::size_t pos_ = 0;
};

Error malformed_encoding(std::string_view what) {
  return make_error("malformed GTID set encoding: {}; the source or client sent a corrupt set", what);
}

}  // namespace

Result<GtidSet> GtidSet::parse(std::string_view text) {
  return TextParser(text).parse();
}

Result<GtidSet> GtidSet::decode(ByteView encoded) {
  ByteReader reader(encoded);
  if (encoded.size() < 8)
    return malformed_encoding(fmt::format("{} bytes, shorter than the 8-byte count", encoded.size()));
  const std::uint64_t first = *reader.u64("n_sids");
  const std::uint8_t format = static_cast<std::uint8_t>((first & kFormatMask) >> 56);
  if (format != kUntaggedFormat && format != kTaggedFormat) {
    return malformed_encoding(fmt::format("unknown format {}", format));
  }
  const bool tagged = format == kTaggedFormat;
  const std::uint64_t n_sids = tagged ? (first & 0x00ffffffffffff00ULL) >> 8 : first & ~kFormatMask;
  GtidSet set;
  for (std::uint64_t i = 0; i < n_sids; ++i) {
    if (reader.remaining() < 16 + 8) {
      return malformed_encoding(fmt::format("source {} of {} truncated", i + 1, n_sids));
    }
    Tsid source{Uuid::from_bytes(*reader.bytes(16, "uuid")), GtidTag()};
    if (tagged) {
      auto length = read_varlen_unsigned(reader, "tag length");
      if (!length || *length > GtidTag::kMaxLength || *length > reader.remaining()) {
        return malformed_encoding(fmt::format("bad tag in source {}", i + 1));
      }
      auto tag = GtidTag::parse(*reader.text(static_cast<std::size_t>(*length), "tag"));
      if (!tag) return malformed_encoding(tag.error().message());
      source.tag = *tag;
    }
    auto n_intervals = reader.u64("n_intervals");
    if (!n_intervals) return malformed_encoding(fmt::format("source {} truncated", i + 1));
    if (*n_intervals > reader.remaining() / 16) {
      return malformed_encoding(
          fmt::format("{} intervals announced but {} bytes remain", *n_intervals, reader.remaining()));
    }
    std::int64_t last = 0;
    for (std::uint64_t j = 0; j < *n_intervals; ++j) {
      const std::int64_t start = *reader.i64("start");
      const std::int64_t end = *reader.i64("end");
      if (start <= last || end <= start) {
        return malformed_encoding(
            fmt::format("interval [{}, {}) of {} after {} is empty, unordered or not positive", start, end,
                        source.to_string(), last));
      }
      last = end;
      add_to(set.sets_[source], start, end);
    }
  }
  if (!reader.at_end()) return malformed_encoding(fmt::format("{} trailing bytes", reader.remaining()));
  return set;
}

Bytes GtidSet::encode() const {
  bool tagged = false;
  for (const auto& [source, intervals] : sets_)
    tagged = tagged || !source.tag.empty();
  ByteWriter writer;
  const std::uint64_t n_sids = sets_.size();
  if (tagged) {
    writer.u64(std::uint64_t{kTaggedFormat} << 56 | n_sids << 8 | kTaggedFormat);
  } else {
    writer.u64(n_sids);
  }
  for (const auto& [source, intervals] : sets_) {
    writer.bytes(source.uuid.bytes);
    if (tagged) {
      write_varlen_unsigned(writer, source.tag.text().size());
      writer.text(source.tag.text());
    }
    writer.u64(intervals.size());
    for (const auto& iv : intervals)
      writer.i64(iv.start).i64(iv.end);
  }
  return std::move(writer).take();
}

std::string GtidSet::to_string(std::string_view separator) const {
  std::string out;
  const Uuid* previous_uuid = nullptr;
  for (const auto& [source, intervals] : sets_) {
    if (previous_uuid == nullptr || *previous_uuid != source.uuid) {
      if (previous_uuid != nullptr) out += separator;
      out += source.uuid.to_string();
    }
    if (!source.tag.empty()) {
      out += ':';
      out += source.tag.text();
    }
    for (const auto& iv : intervals) {
      if (iv.end - 1 == iv.start) {
        fmt::format_to(std::back_inserter(out), ":{}", iv.start);
      } else {
        fmt::format_to(std::back_inserter(out), ":{}-{}", iv.start, iv.end - 1);
      }
    }
    previous_uuid = &source.uuid;
  }
  return out;
}

bool GtidSet::contains(const Gtid& gtid) const {
  return contains(gtid.source, gtid.gno);
}

bool GtidSet::contains(const Tsid& source, std::int64_t gno) const {
  auto it = sets_.find(source);
  return it != sets_.end() && intervals_contain(it->second, gno);
}

bool GtidSet::is_subset_of(const GtidSet& other) const {
  for (const auto& [source, intervals] : sets_) {
    const Intervals* super = other.find(source);
    if (super == nullptr || !intervals_subset(intervals, *super)) return false;
  }
  return true;
}

bool GtidSet::intersects(const GtidSet& other) const {
  for (const auto& [source, intervals] : sets_) {
    const Intervals* theirs = other.find(source);
    if (theirs == nullptr) continue;
    for (const auto& iv : intervals) {
      for (const auto& jv : *theirs) {
        if (iv.start < jv.end && jv.start < iv.end) return true;
      }
    }
  }
  return false;
}

std::uint64_t GtidSet::count() const {
  std::uint64_t total = 0;
  for (const auto& [source, intervals] : sets_) {
    for (const auto& iv : intervals) {
      const std::uint64_t size = static_cast<std::uint64_t>(iv.end) - static_cast<std::uint64_t>(iv.start);
      total = total + size < total ? UINT64_MAX : total + size;
    }
  }
  return total;
}

void GtidSet::add(const Gtid& gtid) {
  add_interval(gtid.source, gtid.gno, gtid.gno + 1);
}

void GtidSet::add_interval(const Tsid& source, std::int64_t start, std::int64_t end) {
  if (start >= end) return;
  add_to(sets_[source], start, end);
}

void GtidSet::add(const GtidSet& other) {
  for (const auto& [source, intervals] : other.sets_) {
    Intervals& mine = sets_[source];
    for (const auto& iv : intervals)
      add_to(mine, iv.start, iv.end);
  }
}

void GtidSet::remove(const GtidSet& other) {
  for (const auto& [source, intervals] : other.sets_) {
    auto it = sets_.find(source);
    if (it == sets_.end()) continue;
    for (const auto& iv : intervals)
      remove_from(it->second, iv.start, iv.end);
    if (it->second.empty()) sets_.erase(it);
  }
}

GtidSet GtidSet::union_of(const GtidSet& a, const GtidSet& b) {
  GtidSet out = a;
  out.add(b);
  return out;
}

GtidSet GtidSet::difference(const GtidSet& a, const GtidSet& b) {
  GtidSet out = a;
  out.remove(b);
  return out;
}

GtidSet GtidSet::intersection(const GtidSet& a, const GtidSet& b) {
  return difference(a, difference(a, b));
}

const GtidSet::Intervals* GtidSet::find(const Tsid& source) const {
  auto it = sets_.find(source);
  return it == sets_.end() ? nullptr : &it->second;
}

std::int64_t GtidSet::last_gno(const Tsid& source) const {
  const Intervals* intervals = find(source);
  return intervals == nullptr ? 0 : intervals->back().end - 1;
}

}  // namespace brelay::binlog
