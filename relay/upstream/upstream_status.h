// UpstreamStatus: what an operator wants to know about the relay's connection to its source (SHOW
// RELAY STATUS, `binlog-relay status`, /metrics read it). The Upstream keeps it current on the loop
// thread; readers take a copy there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/store_types.h"

namespace brelay::relay {

enum class UpstreamState {
  kConnecting,          // resolving, TCP, TLS, login
  kSettingUp,           // the replica's setup queries, COM_REGISTER_SLAVE
  kStreaming,           // the dump is running
  kWaitingToReconnect,  // after a failure, for the back-off delay
  kWaitingForStore,     // the storage writer stopped (full disk, ...): pulling resumes with it
  kStopped,             // stopped by an error retrying cannot fix (last_error says what to do)
  kShutDown,            // the relay is stopping
};

std::string_view to_string(UpstreamState state);

struct UpstreamStatus {
  UpstreamState state = UpstreamState::kConnecting;
  std::string last_error;      // the newest failure, "" when none since the relay started
  std::string source_address;  // host:port
  std::string source_version;  // the greeting's version string of the current connection
  bool tls = false;
  bool semi_sync = false;    // the source asks for acknowledgements on this connection
  std::string dump_request;  // how the current dump was asked for ("mysql-bin.000003:4", "GTID ...")
  // The newest source coordinates the stream showed (events' log_pos and heartbeats).
  std::string source_file;
  std::uint64_t source_position = 0;
  // The last event handed to the writer (its file and end position) and the durable end.
  std::string received_file;
  std::uint64_t received_position = 0;
  std::optional<storage::ResumePoint> durable_end;
  // Seconds the stream is behind the source (from event timestamps and heartbeats, corrected for the
  // clock offset measured at connect); nullopt while not streaming.
  std::optional<std::int64_t> seconds_behind_source;
  std::uint64_t received_bytes = 0;    // event bytes received from the source since start
  std::uint64_t received_events = 0;   // events received (heartbeats and artificial events included)
  std::uint64_t reconnects = 0;        // connection attempts after the first
  std::uint64_t acknowledgements = 0;  // semi-sync acknowledgements sent
  std::uint64_t source_switches = 0;   // failovers to another [source] hosts server
  std::string last_switch;             // "from db1:3306 to db2:3306 at 0-1-57"; "" = none
  // The last failover round's refused candidates ("db2:3306: behind: lacks 0-1-5..0-1-9; <fix>",
  // joined by " | "); "" once a candidate was accepted or before any round.
  std::string candidate_refusals;
};

}  // namespace brelay::relay
