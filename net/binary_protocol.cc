#include "net/binary_protocol.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/byte_reader.h"
#include "common/byte_writer.h"

namespace brelay::net {
namespace {

// MYSQL_TYPE_* codes beyond those in mysql_constants.h.
namespace type {
constexpr std::uint8_t kDecimal = 0x00;
constexpr std::uint8_t kTiny = 0x01;
constexpr std::uint8_t kShort = 0x02;
constexpr std::uint8_t kLong = 0x03;
constexpr std::uint8_t kFloat = 0x04;
constexpr std::uint8_t kDouble = 0x05;
constexpr std::uint8_t kNull = 0x06;
constexpr std::uint8_t kTimestamp = 0x07;
constexpr std::uint8_t kLongLong = 0x08;
constexpr std::uint8_t kInt24 = 0x09;
constexpr std::uint8_t kDate = 0x0a;
constexpr std::uint8_t kTime = 0x0b;
constexpr std::uint8_t kDatetime = 0x0c;
constexpr std::uint8_t kYear = 0x0d;
constexpr std::uint8_t kNewDate = 0x0e;
constexpr std::uint8_t kVarchar = 0x0f;
constexpr std::uint8_t kBit = 0x10;
constexpr std::uint8_t kJson = 0xf5;
constexpr std::uint8_t kNewDecimal = 0xf6;
constexpr std::uint8_t kGeometry = 0xff;
}  // namespace type

constexpr std::uint8_t kUnsignedParameter = 0x80;

// The width of a fixed-size integer type, 0 for others.
std::size_t integer_width(std::uint8_t t) {
  switch (t) {
    case type::kTiny: return 1;
    case type::kShort:
    case type::kYear: return 2;
    case type::kLong:
    case type::kInt24: return 4;
    case type::kLongLong: return 8;
    default: return 0;
  }
}

bool is_datetime(std::uint8_t t) {
  return t == type::kDate || t == type::kDatetime || t == type::kTimestamp || t == type::kNewDate;
}

bool is_length_encoded(std::uint8_t t) {
  return t == type::kDecimal || t == type::kNewDecimal || t == type::kVarchar || t == type::kBit ||
         t == type::kJson || t == type::kGeometry || t >= 0xf7;  // ENUM, SET, BLOBs, VAR_STRING, STRING
}

std::string signed_text(std::uint64_t raw, std::size_t width) {
  const unsigned shift = static_cast<unsigned>(64 - 8 * width);
  const auto value = static_cast<std::int64_t>(raw << shift) >> shift;
  return std::to_string(value);
}

Result<std::string> datetime_parameter(ByteReader& r) {
  BRELAY_ASSIGN_OR_RETURN(auto length, r.u8("datetime parameter length"));
  if (length != 0 && length != 4 && length != 7 && length != 11)
    return make_error("datetime parameter of {} bytes (expected 0, 4, 7 or 11)", length);
  std::uint16_t year = 0;
  std::uint8_t month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::uint32_t micro = 0;
  if (length >= 4) {
    BRELAY_ASSIGN_OR_RETURN(year, r.u16("year"));
    BRELAY_ASSIGN_OR_RETURN(month, r.u8("month"));
    BRELAY_ASSIGN_OR_RETURN(day, r.u8("day"));
  }
  if (length >= 7) {
    BRELAY_ASSIGN_OR_RETURN(hour, r.u8("hour"));
    BRELAY_ASSIGN_OR_RETURN(minute, r.u8("minute"));
    BRELAY_ASSIGN_OR_RETURN(second, r.u8("second"));
  }
  if (length == 11) {
    BRELAY_ASSIGN_OR_RETURN(micro, r.u32("microseconds"));
  }
  std::string text =
      fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", year, month, day, hour, minute, second);
  if (micro != 0) text += fmt::format(".{:06}", micro % 1000000);
  return text;
}

Result<std::string> time_parameter(ByteReader& r) {
  BRELAY_ASSIGN_OR_RETURN(auto length, r.u8("time parameter length"));
  if (length == 0) return std::string("00:00:00");
  if (length != 8 && length != 12)
    return make_error("time parameter of {} bytes (expected 0, 8 or 12)", length);
  BRELAY_ASSIGN_OR_RETURN(auto negative, r.u8("time sign"));
  BRELAY_ASSIGN_OR_RETURN(auto days, r.u32("days"));
  BRELAY_ASSIGN_OR_RETURN(auto hours, r.u8("hours"));
  BRELAY_ASSIGN_OR_RETURN(auto minutes, r.u8("minutes"));
  BRELAY_ASSIGN_OR_RETURN(auto seconds, r.u8("seconds"));
  std::uint32_t micro = 0;
  if (length == 12) {
    BRELAY_ASSIGN_OR_RETURN(micro, r.u32("microseconds"));
  }
  std::string text = fmt::format("{}{:02}:{:02}:{:02}", negative != 0 ? "-" : "",
                                 std::uint64_t{days} * 24 + hours, minutes, seconds);
  if (micro != 0) text += fmt::format(".{:06}", micro % 1000000);
  return text;
}

Result<BoundParameter> read_parameter(ByteReader& r, std::uint16_t type_and_flags) {
  const auto t = static_cast<std::uint8_t>(type_and_flags & 0xff);
  const bool is_unsigned = ((type_and_flags >> 8) & kUnsignedParameter) != 0;
  BoundParameter parameter;
  if (const std::size_t width = integer_width(t); width != 0) {
    BRELAY_ASSIGN_OR_RETURN(auto raw, r.uint_n(width, "integer parameter"));
    parameter.kind = BoundParameter::Kind::kNumber;
    parameter.text = is_unsigned ? std::to_string(raw) : signed_text(raw, width);
    return parameter;
  }
  if (t == type::kFloat || t == type::kDouble) {
    double value = 0;
    if (t == type::kFloat) {
      BRELAY_ASSIGN_OR_RETURN(auto raw, r.u32("float parameter"));
      float f = 0;
      std::memcpy(&f, &raw, sizeof(f));
      value = f;
    } else {
      BRELAY_ASSIGN_OR_RETURN(auto raw, r.u64("double parameter"));
      std::memcpy(&value, &raw, sizeof(value));
    }
    if (!std::isfinite(value)) return make_error("a floating-point parameter that is not a finite number");
    parameter.kind = BoundParameter::Kind::kNumber;
    parameter.text = fmt::format("{}", value);
    return parameter;
  }
  if (is_datetime(t) || t == type::kTime) {
    parameter.kind = BoundParameter::Kind::kString;
    BRELAY_ASSIGN_OR_RETURN(parameter.text, t == type::kTime ? time_parameter(r) : datetime_parameter(r));
    return parameter;
  }
  if (is_length_encoded(t)) {
    BRELAY_ASSIGN_OR_RETURN(auto text, r.lenenc_text("string parameter"));
    parameter.kind = BoundParameter::Kind::kString;
    parameter.text = std::string(text);
    return parameter;
  }
  return make_error("a parameter of type 0x{:02x}, which the relay does not read", t);
}

template <typename T>
Result<T> parse_number(const std::string& text, std::string_view what) {
  T value{};
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end) return make_error("'{}' is not {}", text, what);
  return value;
}

Status write_integer(ByteWriter& w, const std::string& text, std::size_t width, bool is_unsigned) {
  std::uint64_t raw = 0;
  if (is_unsigned) {
    BRELAY_ASSIGN_OR_RETURN(raw, parse_number<std::uint64_t>(text, "an unsigned integer"));
  } else {
    BRELAY_ASSIGN_OR_RETURN(auto value, parse_number<std::int64_t>(text, "an integer"));
    raw = static_cast<std::uint64_t>(value);
  }
  w.uint_n(raw, width);
  return {};
}

// Reads up to `count` numbers separated by single non-digits ("2024-01-02 03:04:05.000123").
std::vector<std::uint64_t> numbers_in(std::string_view text, std::size_t count, std::uint32_t* micro) {
  std::vector<std::uint64_t> out;
  std::size_t i = 0;
  while (i < text.size() && out.size() < count) {
    std::uint64_t value = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 12) {
      value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
      ++i;
      ++digits;
    }
    out.push_back(value);
    if (i < text.size() && text[i] == '.' && out.size() == count) {
      std::uint32_t fraction = 0;
      std::size_t places = 0;
      for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9' && places < 6; ++i, ++places)
        fraction = fraction * 10 + static_cast<std::uint32_t>(text[i] - '0');
      for (; places < 6; ++places)
        fraction *= 10;
      *micro = fraction;
      break;
    }
    ++i;
  }
  return out;
}

void write_datetime(ByteWriter& w, const std::string& text) {
  std::uint32_t micro = 0;
  std::vector<std::uint64_t> parts = numbers_in(text, 6, &micro);
  parts.resize(6, 0);
  const bool has_time = parts[3] != 0 || parts[4] != 0 || parts[5] != 0 || micro != 0;
  const bool has_date = parts[0] != 0 || parts[1] != 0 || parts[2] != 0;
  if (!has_date && !has_time) {
    w.u8(0);
    return;
  }
  w.u8(micro != 0 ? 11 : has_time ? 7 : 4);
  w.u16(static_cast<std::uint16_t>(parts[0])).u8(static_cast<std::uint8_t>(parts[1]));
  w.u8(static_cast<std::uint8_t>(parts[2]));
  if (!has_time) return;
  w.u8(static_cast<std::uint8_t>(parts[3])).u8(static_cast<std::uint8_t>(parts[4]));
  w.u8(static_cast<std::uint8_t>(parts[5]));
  if (micro != 0) w.u32(micro);
}

void write_time(ByteWriter& w, std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  std::uint32_t micro = 0;
  std::vector<std::uint64_t> parts = numbers_in(text, 3, &micro);
  parts.resize(3, 0);
  if (parts[0] == 0 && parts[1] == 0 && parts[2] == 0 && micro == 0) {
    w.u8(0);
    return;
  }
  w.u8(micro != 0 ? 12 : 8).u8(negative ? 1 : 0);
  w.u32(static_cast<std::uint32_t>(parts[0] / 24)).u8(static_cast<std::uint8_t>(parts[0] % 24));
  w.u8(static_cast<std::uint8_t>(parts[1])).u8(static_cast<std::uint8_t>(parts[2]));
  if (micro != 0) w.u32(micro);
}

Status write_value(ByteWriter& w, const ColumnDefinition& column, const std::string& text) {
  const auto t = static_cast<std::uint8_t>(column.type);
  if (const std::size_t width = integer_width(t); width != 0)
    return write_integer(w, text, width, (column.flags & column_flag::kUnsigned) != 0);
  if (t == type::kFloat) {
    BRELAY_ASSIGN_OR_RETURN(auto value, parse_number<double>(text, "a number"));
    const auto f = static_cast<float>(value);
    std::uint32_t raw = 0;
    std::memcpy(&raw, &f, sizeof(raw));
    w.u32(raw);
    return {};
  }
  if (t == type::kDouble) {
    BRELAY_ASSIGN_OR_RETURN(auto value, parse_number<double>(text, "a number"));
    std::uint64_t raw = 0;
    std::memcpy(&raw, &value, sizeof(raw));
    w.u64(raw);
    return {};
  }
  if (is_datetime(t)) {
    write_datetime(w, text);
    return {};
  }
  if (t == type::kTime) {
    write_time(w, text);
    return {};
  }
  w.lenenc_text(text);
  return {};
}

}  // namespace

std::vector<Bytes> encode_stmt_prepare_ok(const StmtPrepareOk& ok, bool deprecate_eof) {
  std::vector<Bytes> packets;
  ByteWriter header;
  header.u8(kOkHeader).u32(ok.statement_id).u16(static_cast<std::uint16_t>(ok.columns.size()));
  header.u16(ok.parameter_count).u8(0).u16(ok.warnings);
  packets.push_back(std::move(header).take());
  if (ok.parameter_count > 0) {
    for (std::uint16_t i = 0; i < ok.parameter_count; ++i) {
      ColumnDefinition parameter = ColumnDefinition::text("?", 0);
      parameter.charset = charset::kBinary;
      packets.push_back(encode_column_definition(parameter));
    }
    if (!deprecate_eof) packets.push_back(encode_eof({}));
  }
  if (!ok.columns.empty()) {
    for (const ColumnDefinition& column : ok.columns)
      packets.push_back(encode_column_definition(column));
    if (!deprecate_eof) packets.push_back(encode_eof({}));
  }
  return packets;
}

Result<std::uint32_t> decode_statement_id(ByteView payload) {
  ByteReader r(payload);
  BRELAY_TRY(r.skip(1, "command"));
  return r.u32("statement id");
}

Result<StmtExecute> decode_stmt_execute(ByteView payload, std::size_t parameter_count,
                                        const std::vector<std::uint16_t>& bound_types) {
  ByteReader r(payload);
  BRELAY_ASSIGN_OR_RETURN(auto code, r.u8("command"));
  if (code != command::kStmtExecute)
    return make_error("not a COM_STMT_EXECUTE packet: command byte 0x{:02x}", code);
  StmtExecute execute;
  BRELAY_ASSIGN_OR_RETURN(execute.statement_id, r.u32("statement id"));
  BRELAY_ASSIGN_OR_RETURN(execute.flags, r.u8("flags"));
  BRELAY_TRY(r.skip(4, "iteration count"));
  if (parameter_count == 0) return execute;
  BRELAY_ASSIGN_OR_RETURN(ByteView null_bitmap, r.bytes((parameter_count + 7) / 8, "NULL bitmap"));
  BRELAY_ASSIGN_OR_RETURN(auto new_types, r.u8("new_params_bound_flag"));
  if (new_types == 1) {
    execute.types.resize(parameter_count);
    for (auto& t : execute.types) {
      BRELAY_ASSIGN_OR_RETURN(auto low, r.u8("parameter type"));
      BRELAY_ASSIGN_OR_RETURN(auto flags, r.u8("parameter flags"));
      t = static_cast<std::uint16_t>(low | (flags << 8));
    }
  } else if (bound_types.size() == parameter_count) {
    execute.types = bound_types;
  } else {
    return make_error("COM_STMT_EXECUTE without parameter types for a first execution");
  }
  execute.parameters.resize(parameter_count);
  for (std::size_t i = 0; i < parameter_count; ++i) {
    const bool is_null = (null_bitmap[i / 8] >> (i % 8)) & 1;
    if (is_null || (execute.types[i] & 0xff) == type::kNull) continue;
    BRELAY_ASSIGN_OR_RETURN(execute.parameters[i], read_parameter(r, execute.types[i]));
  }
  return execute;
}

Result<Bytes> encode_binary_row(const std::vector<ColumnDefinition>& columns, const TextRow& row) {
  if (row.size() != columns.size())
    return make_error("a row of {} values for {} columns", row.size(), columns.size());
  ByteWriter w;
  w.u8(kOkHeader);
  Bytes bitmap((columns.size() + 7 + 2) / 8, 0);
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (!row[i] || static_cast<std::uint8_t>(columns[i].type) == type::kNull)
      bitmap[(i + 2) / 8] = static_cast<std::uint8_t>(bitmap[(i + 2) / 8] | (1u << ((i + 2) % 8)));
  }
  w.bytes(bitmap);
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (!row[i] || static_cast<std::uint8_t>(columns[i].type) == type::kNull) continue;
    if (Status written = write_value(w, columns[i], *row[i]); !written)
      return make_error("column '{}': {}", columns[i].name, written.error().message());
  }
  return std::move(w).take();
}

Result<std::vector<Bytes>> encode_binary_result_set(const ResultSet& result, bool deprecate_eof) {
  std::vector<Bytes> packets;
  packets.reserve(result.columns.size() + result.rows.size() + 3);
  ByteWriter count;
  count.lenenc(result.columns.size());
  packets.push_back(std::move(count).take());
  for (const auto& column : result.columns)
    packets.push_back(encode_column_definition(column));
  if (!deprecate_eof) packets.push_back(encode_eof({}));
  for (const auto& row : result.rows) {
    BRELAY_ASSIGN_OR_RETURN(Bytes encoded, encode_binary_row(result.columns, row));
    packets.push_back(std::move(encoded));
  }
  if (deprecate_eof) {
    packets.push_back(encode_ok(OkPacket(), kEofHeader));
  } else {
    packets.push_back(encode_eof({}));
  }
  return packets;
}

}  // namespace brelay::net
