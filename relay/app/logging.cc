#include "relay/app/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace brelay::relay {

Status configure_logging(const LogSettings& settings) {
  const auto level = spdlog::level::from_str(settings.level);
  if (level == spdlog::level::off && settings.level != "off") {
    return make_error("'{}' is not a log level: use trace, debug, info, warn, error, critical or off",
                      settings.level);
  }
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
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
  return {};
}

}  // namespace brelay::relay
