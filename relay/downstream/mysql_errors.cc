#include "relay/downstream/mysql_errors.h"

#include <algorithm>

#include "common/cut_for_log.h"

namespace brelay::relay::downstream {
namespace {

// With "... (N bytes)" after it, a cut message stays within MySQL's 512 bytes.
constexpr std::size_t kErrorMessageLimit = 480;

}  // namespace

std::string_view sql_state_for(std::uint16_t code) {
  switch (code) {
    case mysql_error::kParseError:
    case mysql_error::kEmptyQuery:
    case mysql_error::kSpecificAccessDenied:
    case mysql_error::kWrongValueForVariable:
    case mysql_error::kNotSupportedYet:
    case 1305:  // ER_SP_DOES_NOT_EXIST
    case 1582:  // ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT
      return "42000";
    case 1317: return "70100";
    case 1045: return "28000";
    case 1927: return "70100";
    default: return "HY000";
  }
}

net::ErrPacket to_err_packet(const Error& error) {
  const auto code = static_cast<std::uint16_t>(
      error.code() > 0 && error.code() < 65536 ? error.code() : mysql_error::kUnknownError);
  // MySQL cuts its messages to MYSQL_ERRMSG_SIZE (512 bytes); the relay's may quote a client's value.
  return net::ErrPacket{code, std::string(sql_state_for(code)),
                        cut_for_log(error.message(), kErrorMessageLimit)};
}

Error parse_error(std::string_view sql, std::size_t at, std::string_view what) {
  at = std::min(at, sql.size());
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(sql.begin(), sql.begin() + at, '\n'));
  const std::string_view near = sql.substr(at, 80);
  return Error(fmt::format("You have an error in your SQL syntax; check the manual that corresponds to your "
                           "MySQL server version for the right syntax to use near '{}' at line {} "
                           "(binlog-relay expected something else than {})",
                           near, line, what),
               mysql_error::kParseError);
}

Error parser_exhausted(std::string_view sql, std::size_t at, std::string_view why) {
  at = std::min(at, sql.size());
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(sql.begin(), sql.begin() + at, '\n'));
  return Error(fmt::format("memory exhausted near '{}' at line {} ({})", sql.substr(at, 80), line, why),
               mysql_error::kParseError);
}

Error access_denied(std::string_view privileges) {
  return Error(fmt::format("Access denied; you need (at least one of) the {} privilege(s) for this operation",
                           privileges),
               mysql_error::kSpecificAccessDenied);
}

Error unknown_system_variable(std::string_view name) {
  return Error(fmt::format("Unknown system variable '{}'", name), mysql_error::kUnknownSystemVariable);
}

}  // namespace brelay::relay::downstream
