// Numbers of the MySQL client/server protocol that both halves of net/ use: capability flags,
// command bytes, server status flags, column types, character sets and the error codes net/ itself
// sends. Values are from the MySQL and MariaDB sources (include/mysql_com.h, my_command.h,
// mysqld_error.h); see ../shared/docs/protocol.md section 6.
#pragma once

#include <cstdint>

namespace brelay::net {

// Capability flags (CLIENT_*), the low and high 16 bits of the greeting and the handshake response.
namespace capability {
inline constexpr std::uint32_t kLongPassword = 0x00000001;
inline constexpr std::uint32_t kFoundRows = 0x00000002;
inline constexpr std::uint32_t kLongFlag = 0x00000004;
inline constexpr std::uint32_t kConnectWithDb = 0x00000008;
inline constexpr std::uint32_t kCompress = 0x00000020;
inline constexpr std::uint32_t kLocalFiles = 0x00000080;
inline constexpr std::uint32_t kProtocol41 = 0x00000200;
inline constexpr std::uint32_t kInteractive = 0x00000400;
inline constexpr std::uint32_t kSsl = 0x00000800;
inline constexpr std::uint32_t kTransactions = 0x00002000;
inline constexpr std::uint32_t kSecureConnection = 0x00008000;
inline constexpr std::uint32_t kMultiStatements = 0x00010000;
inline constexpr std::uint32_t kMultiResults = 0x00020000;
inline constexpr std::uint32_t kPsMultiResults = 0x00040000;
inline constexpr std::uint32_t kPluginAuth = 0x00080000;
inline constexpr std::uint32_t kConnectAttrs = 0x00100000;
inline constexpr std::uint32_t kPluginAuthLenencClientData = 0x00200000;
inline constexpr std::uint32_t kSessionTrack = 0x00800000;
inline constexpr std::uint32_t kDeprecateEof = 0x01000000;
}  // namespace capability

// Command bytes (COM_*), the first byte of every packet a client sends in the command phase.
namespace command {
inline constexpr std::uint8_t kSleep = 0x00;
inline constexpr std::uint8_t kQuit = 0x01;
inline constexpr std::uint8_t kInitDb = 0x02;
inline constexpr std::uint8_t kQuery = 0x03;
inline constexpr std::uint8_t kFieldList = 0x04;
inline constexpr std::uint8_t kStatistics = 0x09;
inline constexpr std::uint8_t kProcessKill = 0x0c;
inline constexpr std::uint8_t kPing = 0x0e;
inline constexpr std::uint8_t kBinlogDump = 0x12;
inline constexpr std::uint8_t kRegisterSlave = 0x15;
inline constexpr std::uint8_t kResetConnection = 0x1f;
inline constexpr std::uint8_t kBinlogDumpGtid = 0x1e;
}  // namespace command

// Server status flags (SERVER_STATUS_*) in OK and EOF packets and the greeting.
namespace server_status {
inline constexpr std::uint16_t kInTransaction = 0x0001;
inline constexpr std::uint16_t kAutocommit = 0x0002;
inline constexpr std::uint16_t kMoreResultsExist = 0x0008;
}  // namespace server_status

// Column types (MYSQL_TYPE_*) for result-set column definitions.
enum class ColumnType : std::uint8_t {
  kTiny = 0x01,
  kLong = 0x03,
  kDouble = 0x05,
  kNull = 0x06,
  kTimestamp = 0x07,
  kLongLong = 0x08,
  kDatetime = 0x0c,
  kVarchar = 0x0f,
  kBlob = 0xfc,
  kVarString = 0xfd,
  kString = 0xfe,
};

// Column flags (*_FLAG) of a column definition.
namespace column_flag {
inline constexpr std::uint16_t kNotNull = 0x0001;
inline constexpr std::uint16_t kBinary = 0x0080;
inline constexpr std::uint16_t kUnsigned = 0x0020;
}  // namespace column_flag

// Character set / collation ids.
namespace charset {
inline constexpr std::uint8_t kUtf8GeneralCi = 33;
inline constexpr std::uint8_t kBinary = 63;
inline constexpr std::uint8_t kUtf8mb4GeneralCi = 45;
}  // namespace charset

// Error codes net/ sends itself, with their SQLSTATEs.
namespace error_code {
inline constexpr std::uint16_t kHandshakeError = 1043;           // 08S01 "Bad handshake"
inline constexpr std::uint16_t kAccessDenied = 1045;             // 28000
inline constexpr std::uint16_t kUnknownCommand = 1047;           // 08S01
inline constexpr std::uint16_t kNetPacketTooLarge = 1153;        // 08S01
inline constexpr std::uint16_t kNetPacketsOutOfOrder = 1156;     // 08S01
inline constexpr std::uint16_t kNetReadInterrupted = 1159;       // 08S01 (read timeout)
inline constexpr std::uint16_t kNetWriteInterrupted = 1161;      // 08S01 (write timeout)
inline constexpr std::uint16_t kNotSupportedAuthMode = 1251;     // 08004
inline constexpr std::uint16_t kSecureTransportRequired = 3159;  // HY000
inline constexpr std::uint16_t kConnectionKilled = 1927;         // 70100 (MariaDB ER_CONNECTION_KILLED)
inline constexpr std::uint16_t kServerShutdown = 1053;           // 08S01
inline constexpr std::uint16_t kTooManyConnections = 1040;       // 08004 ER_CON_COUNT_ERROR
inline constexpr std::uint16_t kHostIsBlocked = 1129;            // HY000
inline constexpr std::uint16_t kUserLimitReached = 1226;         // 42000
}  // namespace error_code

// Largest payload of one protocol packet; a payload of this size or more continues in the next packet.
inline constexpr std::uint32_t kMaxPacketChunk = 0xffffff;

// Auth plugin names.
inline constexpr const char* kNativePasswordPlugin = "mysql_native_password";
inline constexpr const char* kCachingSha2Plugin = "caching_sha2_password";

}  // namespace brelay::net
