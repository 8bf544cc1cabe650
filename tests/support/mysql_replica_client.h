// A test client that speaks to a master exactly as a MySQL 8.0 (or 5.7) replica's IO thread does
// (protocol.md section 1): the query sequence with its checks (version, @@SERVER_ID different from
// its own, heartbeat period, checksum negotiation and the SELECT that must return NONE or CRC32,
// GTID_MODE, @@SERVER_UUID, its uuid), COM_REGISTER_SLAVE, optional semi-sync negotiation, then
// COM_BINLOG_DUMP or COM_BINLOG_DUMP_GTID with the 8.0 flags (heartbeat v2) or 5.7's layout.
//
// While it reads the stream it applies a replica's rules and fails on any break of them: every
// event's CRC is verified (the fake ROTATE by the announced algorithm, later events by the FDE's),
// each stored event must start where the previous one ended (log_pos - event_size), heartbeats
// must name the current file and not be behind, and semi-sync packets carry the 0xEF prefix. It
// rebuilds each file from what it received (magic, then every event at its position), so tests
// can compare the bytes with the originals, and answers semi-sync acknowledgement requests.
//
// Owns a private EventLoop; one thread at a time (not a loop thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/blocking_client.h"
#include "net/tls_context.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/gtid_set.h"

namespace brelay::testing {

struct MysqlReplicaOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string user = "repl";
  std::string password;
  net::TlsMode tls_mode = net::TlsMode::kPreferred;
  std::string tls_ca_file;
  bool mysql57 = false;  // 5.7's statements and COM_BINLOG_DUMP_GTID layout
  std::uint32_t server_id = 101;
  std::string uuid = "a1b2c3d4-0000-4000-8000-000000000101";
  std::chrono::nanoseconds heartbeat_period = std::chrono::seconds(30);
  bool semi_sync = false;
  std::chrono::milliseconds timeout{30'000};  // for each wait
};

// An event as the replica received it (after the packet prefix).
struct ReceivedEvent {
  std::uint8_t type = 0;
  std::string file;            // the file it belongs to (the last ROTATE's)
  std::uint64_t position = 0;  // where it starts in that file (0 for artificial events and heartbeats)
  Bytes bytes;
  bool artificial = false;  // fake ROTATE, heartbeat, or an FDE with log_pos 0
  bool ack_requested = false;
};

// One file as rebuilt from the stream: bytes [first_position, first_position + bytes.size()) of it
// (first_position 0: the magic and everything from position 4).
// Ranges the master skipped (GTID auto-positioning) are zeros in `bytes` and listed in `holes`.
struct ReceivedFile {
  std::uint64_t first_position = 0;
  Bytes bytes;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> holes;  // [begin, end) positions
};

class MysqlReplicaClient {
 public:
  // Connects, logs in and runs the IO thread's query sequence and COM_REGISTER_SLAVE.
  static Result<std::unique_ptr<MysqlReplicaClient>> connect(MysqlReplicaOptions options);
  ~MysqlReplicaClient();

  // Starts COM_BINLOG_DUMP from `file`:`position`.
  Status dump_from(const std::string& file, std::uint64_t position, std::uint16_t flags = 0);
  // Starts COM_BINLOG_DUMP_GTID with auto-positioning (8.0: flags 0x02, empty name, position 4).
  Status dump_gtids(const binlog::GtidSet& executed);

  // Reads the stream until `done` says stop, the stream ends (EOF: ok; ERR or a broken rule: the
  // error) or the timeout passes (an error). `done` sees each event after it was checked.
  Status receive(const std::function<bool(const ReceivedEvent&)>& done);
  // Reads until the stream ends with EOF (a non-blocking dump).
  Status receive_until_eof();

  const std::vector<ReceivedEvent>& events() const { return events_; }
  const std::map<std::string, ReceivedFile>& files() const { return files_; }
  // The file and position the replica would resume from.
  const std::string& file() const { return file_; }
  std::uint64_t position() const { return position_; }
  std::size_t heartbeats() const { return heartbeats_; }
  std::size_t acknowledgements_sent() const { return acks_sent_; }
  const std::vector<std::string>& queries() const { return queries_; }
  net::BlockingClient& client() { return *client_; }

 private:
  class Receiver;
  explicit MysqlReplicaClient(MysqlReplicaOptions options);
  Status setup();
  Result<net::QueryResult> query(const std::string& sql);
  Status start_stream(Bytes command);
  // Checks one packet of the stream and records it; errors break the stream.
  Status on_packet(ByteView payload);

  MysqlReplicaOptions options_;
  std::unique_ptr<net::BlockingClient> client_;
  std::unique_ptr<Receiver> receiver_;
  std::vector<std::string> queries_;
  binlog::ChecksumAlgorithm announced_ = binlog::ChecksumAlgorithm::kUndefined;
  binlog::ChecksumAlgorithm binlog_checksum_ = binlog::ChecksumAlgorithm::kUndefined;
  bool seen_fde_ = false;
  std::string file_;
  std::uint64_t position_ = 0;
  std::vector<ReceivedEvent> events_;
  std::map<std::string, ReceivedFile> files_;
  std::size_t heartbeats_ = 0;
  std::size_t acks_sent_ = 0;
};

}  // namespace brelay::testing
