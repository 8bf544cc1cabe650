// The MySQL error numbers the relay's server side answers with, their SQLSTATEs, and the standard
// texts clients and replicas know (MySQL's share/messages_to_clients.txt, MariaDB's
// sql/share/errmsg-utf8.txt, sql/rpl_binlog_sender.cc, sql/sql_repl.cc). Errors travel as
// brelay::Error with the MySQL number as code(); to_err_packet() turns one into the ERR packet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/mysql_packets.h"

namespace brelay::relay::downstream {

namespace mysql_error {
inline constexpr std::uint16_t kNoSuchThread = 1094;               // HY000
inline constexpr std::uint16_t kKillDenied = 1095;                 // HY000
inline constexpr std::uint16_t kUnknownError = 1105;               // HY000
inline constexpr std::uint16_t kParseError = 1064;                 // 42000
inline constexpr std::uint16_t kEmptyQuery = 1065;                 // 42000
inline constexpr std::uint16_t kUnknownSystemVariable = 1193;      // HY000
inline constexpr std::uint16_t kErrorWhenExecutingCommand = 1220;  // HY000
inline constexpr std::uint16_t kSpecificAccessDenied = 1227;       // 42000
inline constexpr std::uint16_t kWrongValueForVariable = 1231;      // 42000
inline constexpr std::uint16_t kNotSupportedYet = 1235;            // 42000
inline constexpr std::uint16_t kFatalErrorReadingBinlog = 1236;    // HY000
inline constexpr std::uint16_t kUnknownTargetBinlog = 1373;        // HY000
inline constexpr std::uint16_t kLogInUse = 1378;                   // HY000
inline constexpr std::uint16_t kMalformedGtidSetEncoding = 1773;   // HY000
inline constexpr std::uint16_t kMalformedPacket = 1835;            // HY000
}  // namespace mysql_error

// The SQLSTATE MySQL sends with `code` (HY000 for anything not listed).
std::string_view sql_state_for(std::uint16_t code);

// An ERR packet for `error`: its code (ER_UNKNOWN_ERROR when it has none) and message.
net::ErrPacket to_err_packet(const Error& error);

// ER_PARSE_ERROR for `sql`, pointing at `at`: "You have an error in your SQL syntax; ... near '...'
// at line N", followed by what the relay could not read there.
Error parse_error(std::string_view sql, std::size_t at, std::string_view what);

// ER_PARSE_ERROR as MySQL gives it when its parser runs out of room: bison's stack is capped
// (MY_YACC_MAX, sql_parse.cc my_yyoverflow) and the overflow is reported through ER_PARSE_ERROR's
// "%s near '%-.80s' at line %d" as "memory exhausted near '...' at line N" (1064, 42000). MySQL
// answers ER_STACK_OVERRUN_NEED_MORE (1436) only for what gets past its parser and then recurses
// too deep; the relay refuses such statements as text, before anything is evaluated, so 1064 is the
// answer that fits (and the one clients expect for a statement the server cannot read). `why`
// names the relay's limit.
Error parser_exhausted(std::string_view sql, std::size_t at, std::string_view why);

// ER_SPECIFIC_ACCESS_DENIED_ERROR for a statement that needs one of `privileges`.
Error access_denied(std::string_view privileges);

// ER_UNKNOWN_SYSTEM_VARIABLE.
Error unknown_system_variable(std::string_view name);

}  // namespace brelay::relay::downstream
