#include "relay/binlog/gtid.h"

#include <algorithm>
#include <charconv>

#include "common/hex.h"

namespace brelay::binlog {

namespace {

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

Result<Uuid> Uuid::parse(std::string_view text) {
  static constexpr std::size_t kTextLength = 36;
  if (text.size() != kTextLength) {
    return make_error("bad UUID '{}': expected 36 characters like 3e11fa47-71ca-11e1-9e33-c80aa9429562",
                      text);
  }
  Uuid uuid;
  std::size_t byte = 0;
  for (std::size_t i = 0; i < kTextLength;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return make_error("bad UUID '{}': expected '-' at position {}", text, i);
      ++i;
      continue;
    }
    const int high = hex_digit_value(text[i]);
    const int low = hex_digit_value(text[i + 1]);
    if (high < 0 || low < 0) return make_error("bad UUID '{}': non-hex digit at position {}", text, i);
    uuid.bytes[byte++] = static_cast<std::uint8_t>(high << 4 | low);
    i += 2;
  }
  return uuid;
}

Uuid Uuid::from_bytes(ByteView sixteen) {
  Uuid uuid;
  std::copy_n(sixteen.begin(), uuid.bytes.size(), uuid.bytes.begin());
  return uuid;
}

std::string Uuid::to_string() const {
  static constexpr std::size_t kGroupBytes[] = {4, 2, 2, 2, 6};  // 8-4-4-4-12 digits
  const ByteView all(bytes);
  std::string out;
  out.reserve(36);
  std::size_t start = 0;
  for (std::size_t group : kGroupBytes) {
    if (start != 0) out.push_back('-');
    append_hex(out, all.subspan(start, group));
    start += group;
  }
  return out;
}

bool is_tag_start_char(char c) {
  return is_alpha(c) || c == '_';
}

Result<GtidTag> GtidTag::parse(std::string_view text) {
  if (text.size() > kMaxLength) {
    return make_error("bad GTID tag '{}': longer than {} characters", text, kMaxLength);
  }
  GtidTag tag;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool valid = is_tag_start_char(c) || (i > 0 && c >= '0' && c <= '9');
    if (!valid) {
      return make_error(
          "bad GTID tag '{}': character '{}' at position {} (tags are letters, digits and '_', "
          "not starting with a digit)",
          text, c, i);
    }
    tag.data_[i] = to_lower(c);
  }
  tag.size_ = static_cast<std::uint8_t>(text.size());
  return tag;
}

std::string Tsid::to_string() const {
  if (tag.empty()) return uuid.to_string();
  return uuid.to_string() + ":" + std::string(tag.text());
}

std::string Gtid::to_string() const {
  return source.to_string() + ":" + std::to_string(gno);
}

Result<Gtid> Gtid::parse(std::string_view text) {
  const auto first_colon = text.find(':');
  if (first_colon == std::string_view::npos) {
    return make_error("bad GTID '{}': expected uuid[:tag]:number", text);
  }
  Gtid gtid;
  BRELAY_ASSIGN_OR_RETURN(gtid.source.uuid, Uuid::parse(text.substr(0, first_colon)));
  std::string_view rest = text.substr(first_colon + 1);
  const auto second_colon = rest.find(':');
  if (second_colon != std::string_view::npos) {
    BRELAY_ASSIGN_OR_RETURN(gtid.source.tag, GtidTag::parse(rest.substr(0, second_colon)));
    if (gtid.source.tag.empty()) return make_error("bad GTID '{}': empty tag", text);
    rest = rest.substr(second_colon + 1);
  }
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), gtid.gno);
  if (error != std::errc() || end != rest.data() + rest.size() || gtid.gno < 1 || gtid.gno > kMaxGno) {
    return make_error("bad GTID '{}': the number must be 1..{}", text, kMaxGno);
  }
  return gtid;
}

}  // namespace brelay::binlog
