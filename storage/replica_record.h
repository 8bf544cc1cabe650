// A remembered replica: one record of the store's `replicas` database (store_format.h), kept for
// each replica that dumped from the relay so that retention can keep what it still needs while it
// is disconnected ([storage] protect_replicas / replica_grace) and operators can see where it
// stopped. The store does not interpret the fields: the relay says who the replica is, where its
// stream continues (the source's file name and position) and when it was last seen.
//
// Key: the replica's server_id, u32 big-endian. Value (all little-endian):
//   u8      version (kVersion)
//   u32     server_id (must equal the key)
//   i64     first_seen, last_seen (relay clock, Unix seconds; first_seen <= last_seen)
//   lenenc  uuid, account, host, file (text), then position u64
//   lenenc  gtid_state (opaque bytes: the relay keeps the replica's GTID state as text)
//   u8      flags (bit 0: the dump positioned by GTID)
// A value of another version, a short or trailing value, a length past the value's end, a server_id
// that is not the key's, or first_seen after last_seen is an Error naming the server_id and the
// field. Adding the database left the store's format version at 2: older releases never open it
// (their check of unknown databases runs only on a store without a format version), and this
// release creates it when it opens an older store for writing (read-only opens of such a store see
// no remembered replicas).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::storage {

struct ReplicaRecord {
  static constexpr std::uint8_t kVersion = 1;
  // Bounds the relay keeps when it records (and decode() accepts): hostile replicas choose the
  // uuid, host and GTID state they announce.
  static constexpr std::size_t kMaxText = 1024;
  static constexpr std::size_t kMaxGtidState = 64 * 1024;

  std::uint32_t server_id = 0;
  std::string uuid;            // @replica_uuid / @slave_uuid it set ("" when none)
  std::string account;         // the relay account it logged in with
  std::string host;            // the address it last connected from
  std::string file;            // where its stream continues: the source's file name ...
  std::uint64_t position = 0;  // ... and the position in it
  std::string gtid_state;      // its GTID state when the dump started, as text ("" when positioned by file)
  bool gtid_positioned = false;
  std::int64_t first_seen = 0;  // relay clock, Unix seconds
  std::int64_t last_seen = 0;

  std::array<std::uint8_t, 4> key() const;
  Bytes encode() const;
  // `key` is the record's LMDB key (the server_id it is stored under).
  static Result<ReplicaRecord> decode(ByteView key, ByteView value);

  bool operator==(const ReplicaRecord&) const = default;
};

// The server_id a replicas key names; an Error for a key that is not 4 bytes.
Result<std::uint32_t> decode_replica_key(ByteView key);

}  // namespace brelay::storage
