// The deterministic binlog stream of the storage crash test: the child program
// (store_crash_child.cc) appends it and is killed at random moments; the test
// (store_crash_test.cc) regenerates it to check what the store kept, byte for byte.
//
// File f (1-based) is "crash-bin.<f, 6 digits>". It starts at position 4 with a format-description-like
// event (a boundary of its own), then holds transactions (f - 1) * kTransactionsPerFile + 1 ..
// f * kTransactionsPerFile, then a rotate-like event (a boundary) and the file's end. Transaction t
// has 1 to 8 events of 40 bytes to 3 KiB, and one in 32 also carries a 200 KiB event, so a
// transaction often spans several group commits. Its first event carries GTID t (8 bytes,
// big-endian); its last event ends it. Everything depends only on (file, position), so the stream can
// be regenerated from the start of any file. Events are random bytes but for the binlog header's
// length field (u32 LE at offset 9), which gives each event's size.
#pragma once

#include <cstdint>
#include <string>

#include "common/bytes.h"

namespace brelay::testing {

class CrashStream {
 public:
  static constexpr std::uint64_t kTransactionsPerFile = 25;

  struct Item {
    enum class Kind { kBeginFile, kEvent, kEndFile };
    Kind kind = Kind::kBeginFile;
    std::string file;
    std::uint64_t position = 0;  // kEvent: the event's start; kBeginFile: the first position
    Bytes bytes;                 // kEvent: the event; kBeginFile: the file's FDE
    bool boundary = false;
    std::uint64_t gtid = 0;  // the transaction this event starts (0: none)
  };

  static std::string file_name(std::uint64_t file);
  // The file number in a name file_name() made; 0 when it is not one.
  static std::uint64_t file_number(const std::string& name);
  static Bytes gtid_key(std::uint64_t gtid);

  // A stream that starts at the beginning of file `first_file`.
  explicit CrashStream(std::uint64_t first_file = 1) : file_(first_file) {}

  // The next item; the stream never ends.
  const Item& next();

 private:
  void begin_transaction();

  std::uint64_t file_;
  std::uint64_t position_ = 4;
  enum class Step {
    kBeginFile,
    kFormatDescription,
    kTransactions,
    kRotate,
    kEndFile
  } step_ = Step::kBeginFile;
  std::uint64_t transaction_ = 0;  // current transaction number (0: none begun in this file)
  int events_left_ = 0;            // of the current transaction
  int event_index_ = 0;
  Item item_;
};

}  // namespace brelay::testing
