// MySQL GTID identities: the server UUID, the optional tag (MySQL 8.3+), the pair of both
// ("TSID", transaction source id) and a single GTID "uuid[:tag]:gno". Small value types without
// heap allocation (a tag lives in a fixed 32-byte array), so a GTID can be carried per event.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::binlog {

// The largest GNO a server hands out (GNO_END - 1 = 2^63 - 2).
inline constexpr std::int64_t kMaxGno = std::numeric_limits<std::int64_t>::max() - 1;

struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  // "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", hex digits in either case.
  static Result<Uuid> parse(std::string_view text);
  static Uuid from_bytes(ByteView sixteen);
  // Lower-case canonical form.
  std::string to_string() const;

  // clang-tidy 14 takes the defaulted <=> for a literal 0 compared with a pointer.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend auto operator<=>(const Uuid&, const Uuid&) = default;
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// A GTID tag: 1-32 characters, letters and '_' then also digits, kept lower-case. Empty = untagged.
class GtidTag {
 public:
  static constexpr std::size_t kMaxLength = 32;

  GtidTag() = default;
  // Validates and lower-cases; errors name the offending character.
  static Result<GtidTag> parse(std::string_view text);

  std::string_view text() const { return {data_.data(), size_}; }
  bool empty() const { return size_ == 0; }

  friend auto operator<=>(const GtidTag& a, const GtidTag& b) { return a.text() <=> b.text(); }
  friend bool operator==(const GtidTag& a, const GtidTag& b) { return a.text() == b.text(); }

 private:
  std::array<char, kMaxLength> data_{};
  std::uint8_t size_ = 0;
};

// True for a character that may start a tag.
bool is_tag_start_char(char c);

// Transaction source id: uuid plus tag. Ordered by uuid, then tag (untagged first), as the server
// sorts them when printing a set.
struct Tsid {
  Uuid uuid;
  GtidTag tag;

  std::string to_string() const;  // "uuid" or "uuid:tag"
  // clang-tidy 14 takes the defaulted <=> for a literal 0 compared with a pointer.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend auto operator<=>(const Tsid&, const Tsid&) = default;
  friend bool operator==(const Tsid&, const Tsid&) = default;
};

struct Gtid {
  Tsid source;
  std::int64_t gno = 0;  // 1..kMaxGno; 0 for an anonymous transaction

  // "uuid:gno" or "uuid:tag:gno".
  std::string to_string() const;
  // Parses "uuid[:tag]:gno".
  static Result<Gtid> parse(std::string_view text);
  friend auto operator<=>(const Gtid&, const Gtid&) = default;
  friend bool operator==(const Gtid&, const Gtid&) = default;
};

}  // namespace brelay::binlog
