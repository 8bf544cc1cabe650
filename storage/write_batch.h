// WriteBatch: what a producer (the upstream, on the loop thread) hands the StoreWriter in one
// submit(): file starts, events, file ends and relay metadata puts, in stream order. It copies
// everything it is given (event bytes back to back in one buffer), so the producer may reuse its
// buffers at once. Built by one thread, then moved into the writer; not thread-safe.
//
// The store does not parse events; the producer says what it knows:
//   - a file begins: its name, the position its first stored event will have, its FDE and its
//     previous-GTID blob (served by readers when they enter the file);
//   - each event: its position (positions in a file are contiguous: the next event starts at
//     position + size), its raw bytes with the checksum, whether it is a transaction boundary,
//     the GTID of the transaction it starts (if it starts one) and its timestamp;
//   - a file ends (the source rotated away from it; nothing more will be appended to it);
//   - the transaction in progress is abandoned (the upstream lost its connection in the middle of
//     it): the events appended since the last boundary are dropped, and the next event must start
//     at that boundary again. A file may begin or end only at a boundary.
// Validation happens in StoreWriter::submit, which rejects a whole batch that breaks these rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"

namespace brelay::storage {

struct FileStart {
  std::string name;                  // the source's file name, e.g. "mysql-bin.000042"
  std::uint64_t first_position = 4;  // where the file's first appended event will start
  ByteView format_description;       // the file's FDE event, as the source sent it
  ByteView previous_gtids;           // opaque previous-GTID blob (MySQL set / MariaDB GTID list)
};

struct EventAppend {
  std::uint64_t position = 0;  // the event's start offset in its file
  ByteView bytes;              // the raw event, checksum included
  // A transaction boundary: the last event of a transaction, or an event outside any transaction
  // (FDE, PREVIOUS_GTIDS, GTID_LIST, ROTATE, STOP, ...). Readers and resumes stop only at boundaries.
  bool ends_transaction = false;
  // On the event that starts a transaction: its GTID as an opaque, comparable key (at most the
  // store's maximum key size, 511 bytes). Empty otherwise.
  ByteView gtid;
  std::int64_t timestamp = 0;  // the event's timestamp (source clock, Unix seconds)
  // Optional, with a boundary: the executed GTID set up to and including this transaction; it is
  // kept with the resume point (ResumePoint::executed_gtid_set) when this boundary becomes it.
  ByteView executed_gtid_set;
};

class WriteBatch {
 public:
  void begin_file(const FileStart& start);
  void append(const EventAppend& event);
  void end_file();
  void abandon_transaction();
  void put_meta(std::string_view key, ByteView value);

  // Room for `event_bytes` of events in `events` appends (and their GTIDs), so that filling the
  // batch up to that allocates nothing more (a producer that submits at a size threshold reserves
  // it once; a recycled batch keeps what it had).
  void reserve(std::size_t event_bytes, std::size_t events);

  bool empty() const { return ops_.empty(); }
  std::size_t event_count() const { return events_.size(); }
  // What the batch holds in memory; counts against the writer's queue bound.
  std::size_t byte_size() const;
  // What its buffers have room for (clear() keeps them, so a recycled batch allocates nothing).
  std::size_t capacity_bytes() const;
  void clear();

 private:
  friend class StoreWriter;

  // Event bytes back to back. Unlike a vector it neither zero-fills what append() overwrites at
  // once nor takes a page fault per 4 KiB of a new buffer (it populates the pages in one call):
  // both were about a quarter of the upstream's CPU per ingested MiB.
  class Buffer {
   public:
    const std::uint8_t* data() const { return data_.get(); }
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return capacity_; }
    void append(ByteView bytes);
    void reserve(std::size_t capacity);
    void clear() { size_ = 0; }

   private:
    std::unique_ptr<std::uint8_t[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
  };

  enum class OpKind : std::uint8_t { kBeginFile, kEvent, kEndFile, kAbandonTransaction, kPutMeta };
  struct Op {
    OpKind kind;
    std::uint32_t index;  // into files_, events_ or metas_ (unused otherwise)
  };
  struct Event {
    std::uint64_t position;
    std::size_t offset;  // in payload_
    std::size_t size;
    std::size_t gtid_offset;  // in extras_
    std::size_t gtid_size;
    std::size_t executed_offset;  // in extras_
    std::size_t executed_size;
    std::int64_t timestamp;
    bool boundary;
  };
  struct File {
    std::string name;
    std::uint64_t first_position;
    Bytes format_description;
    Bytes previous_gtids;
  };
  struct Meta {
    std::string key;
    Bytes value;
  };

  ByteView event_bytes(const Event& event) const {
    return ByteView(payload_.data() + event.offset, event.size);
  }
  ByteView event_gtid(const Event& event) const {
    return ByteView(extras_.data() + event.gtid_offset, event.gtid_size);
  }
  ByteView event_executed_set(const Event& event) const {
    return ByteView(extras_.data() + event.executed_offset, event.executed_size);
  }

  std::vector<Op> ops_;
  std::vector<Event> events_;
  std::vector<File> files_;
  std::vector<Meta> metas_;
  Buffer payload_;  // event bytes back to back
  Buffer extras_;   // GTIDs and executed sets
  std::size_t other_bytes_ = 0;
};

}  // namespace brelay::storage
