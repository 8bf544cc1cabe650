// The replicas the relay serves: those that registered with COM_REGISTER_SLAVE (SHOW REPLICAS /
// SHOW SLAVE HOSTS lists them), and the dumps in progress with the identity that makes two of
// them "the same replica": the @replica_uuid / @slave_uuid it set, or without one its server_id
// (MySQL's kill_zombie_dump_threads). A new dump with the same identity ends the older one.
// Loop thread only; owned by the DownstreamServer.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace brelay::relay::downstream {

struct RegisteredReplica {
  std::uint32_t connection_id = 0;
  std::uint32_t server_id = 0;
  std::string host;  // as the replica reported it (report_host), else empty
  std::uint16_t port = 0;
  std::uint32_t source_id = 0;  // the master_id it sent
  std::string uuid;             // @replica_uuid / @slave_uuid, when set
  std::string user;
};

// A dump in progress and how far it got, for status and SHOW REPLICAS.
struct ActiveDump {
  std::uint32_t connection_id = 0;
  std::uint32_t server_id = 0;
  std::string uuid;
  std::string user;
  std::string peer;
  std::string file;
  std::uint64_t position = 0;
  std::uint64_t bytes_sent = 0;
  std::size_t pending_bytes = 0;  // accepted for the socket, not yet taken by the kernel
  // Semi-sync: the last position the replica acknowledged.
  std::string acknowledged_file;
  std::uint64_t acknowledged_position = 0;
  // Remembered (remembered_replicas.h): a dump that follows the stream (not NON_BLOCK, server_id
  // not 0), with the GTID state it asked from ("" for a dump by file and position).
  bool remember = false;
  std::string gtid_state;
};

// Told about dumps as they start, move and end (the RememberedReplicas); loop thread.
class DumpObserver {
 public:
  virtual ~DumpObserver() = default;
  virtual void on_dump_started(const ActiveDump& dump) = 0;
  virtual void on_dump_moved(const ActiveDump& dump) = 0;
  virtual void on_dump_ended(const ActiveDump& dump) = 0;
};

class ReplicaRegistry {
 public:
  // COM_REGISTER_SLAVE: records the replica; a registration with the same server_id replaces the
  // older one (as the servers do).
  void register_replica(RegisteredReplica replica);
  void forget_connection(std::uint32_t connection_id);
  // Registered replicas, ordered by server_id.
  std::vector<RegisteredReplica> replicas() const;

  // A dump starts on `connection_id`. Returns the connections whose dumps are the same replica's
  // (same uuid; or, without a uuid, the same non-zero server_id of a dump without one): end them.
  std::vector<std::uint32_t> start_dump(const ActiveDump& dump);
  void update_dump(std::uint32_t connection_id, const std::string& file, std::uint64_t position,
                   std::uint64_t bytes_sent, std::size_t pending_bytes);
  void acknowledge(std::uint32_t connection_id, const std::string& file, std::uint64_t position);
  void end_dump(std::uint32_t connection_id);
  std::vector<ActiveDump> dumps() const;
  std::size_t dump_count() const { return dumps_.size(); }
  // The observer of dumps (null: none); not owned, must outlive the registry or be reset first.
  void set_observer(DumpObserver* observer) { observer_ = observer; }

 private:
  DumpObserver* observer_ = nullptr;
  std::map<std::uint32_t, RegisteredReplica> registered_;  // by connection id
  std::map<std::uint32_t, ActiveDump> dumps_;              // by connection id
};

}  // namespace brelay::relay::downstream
