#include "relay/app/logging.h"

#include <ctime>

#include <spdlog/formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fmt/format.h>

namespace brelay::relay {
namespace {

// The length of the valid UTF-8 sequence at the start of `text` (1 to 4), or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are not).
std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  std::uint32_t min = 0;
  std::uint32_t code = 0;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, min = 0x80, code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min = 0x800, code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min = 0x10000, code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

// The leading "component: " of a message, or "" when it has none.
std::string_view component_of(std::string_view message) {
  const std::size_t colon = message.find(": ");
  if (colon == 0 || colon == std::string_view::npos || colon > 32) return {};
  const std::string_view word = message.substr(0, colon);
  if (word.front() < 'a' || word.front() > 'z') return {};
  for (char c : word) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return {};
  }
  return word;
}

// spdlog's formatter for format = "json".
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
    const std::string line = format_json_log_line(msg.time, std::string_view(level.data(), level.size()),
                                                  std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\u{:04x}", c);
    } else if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text.substr(i));
      if (length == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      out.append(text.substr(i, length));
      i += length;
      continue;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

std::string format_json_log_line(std::chrono::system_clock::time_point time, std::string_view level,
                                 std::string_view message) {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(since_epoch.count() / 1000);
  const auto millis = static_cast<int>(since_epoch.count() % 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  const std::string_view component = component_of(message);
  if (!component.empty()) message.remove_prefix(component.size() + 2);
  return fmt::format(
      R"({{"time":"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z","level":"{}","component":"{}","message":"{}"}})",
      utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis,
      json_escape(level), component.empty() ? "relay" : component, json_escape(message));
}

Status configure_logging(const LogSettings& settings) {
  const auto level = spdlog::level::from_str(settings.level);
  if (level == spdlog::level::off && settings.level != "off") {
    return make_error("'{}' is not a log level: use trace, debug, info, warn, error, critical or off",
                      settings.level);
  }
  if (settings.format != "text" && settings.format != "json")
    return make_error("'{}' is not a log format: use text or json", settings.format);
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (settings.file.empty()) {
      logger =
          std::make_shared<spdlog::logger>("binlog-relay", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
      logger = std::make_shared<spdlog::logger>(
          "binlog-relay", std::make_shared<spdlog::sinks::basic_file_sink_mt>(settings.file, false));
    }
  } catch (const spdlog::spdlog_ex& e) {
    return make_error("cannot open the log file {}: {}", settings.file, e.what());
  }
  if (settings.format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
  return {};
}

}  // namespace brelay::relay
