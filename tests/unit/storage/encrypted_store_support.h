// Helpers of the storage tests of encrypted stores (store_encryption_test.cc,
// store_keystream_test.cc): test master keys, a small encrypted store written and closed, file
// records and event files read back.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "storage/at_rest_crypto.h"
#include "storage/binlog_store.h"
#include "storage/store_format.h"
#include "storage/store_types.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/store_test_stream.h"

namespace brelay::testing {

// Master keys with these ids (each key's bytes derived from its id).
std::shared_ptr<const storage::crypto::MasterKeys> keys_with(const std::vector<std::uint32_t>& ids);

// The bytes of the file at `path` (empty when it cannot be read).
Bytes file_bytes(const std::string& path);

// File `seq`'s record in the open store (`value` holds its bytes); a test failure and nullopt when
// it has none or it does not decode.
std::optional<storage::FileRecordView> record_of(storage::BinlogStore& store, std::uint32_t seq,
                                                 Bytes& value);

// The record of file 3 as the writer keeps it: an FDE and previous GTIDs to encrypt.
storage::FileInfo third_file_info();

struct Written {
  TempDir dir;
  std::string data;
  TestStream stream;
};

// Writes two files (a rotation) of transactions, and an unfinished tail when `unfinished`, into a
// new store in a temporary directory, and closes it.
Written write_store(std::shared_ptr<const storage::crypto::MasterKeys> keys, bool unfinished = false);

// Reopens the closed store in `data` and reads it all back: "" when it equals `expected`, otherwise
// the error or the first difference.
std::string read_back_differences(const std::string& data, const storage::StoreOptions& options,
                                  const std::vector<StoredEvent>& expected);

}  // namespace brelay::testing
