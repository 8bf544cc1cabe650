#include "tests/unit/storage/encrypted_store_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "storage/lmdb_txn.h"
#include "storage/store_internals.h"
#include "storage/store_writer.h"

namespace brelay::testing {

using namespace storage;

std::shared_ptr<const crypto::MasterKeys> keys_with(const std::vector<std::uint32_t>& ids) {
  std::vector<crypto::MasterKey> keys;
  for (std::uint32_t id : ids) {
    crypto::MasterKey key;
    key.id = id;
    key.key.fill(static_cast<std::uint8_t>(id * 17));
    keys.push_back(key);
  }
  return std::make_shared<const crypto::MasterKeys>(std::move(keys));
}

Bytes file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<FileRecordView> record_of(BinlogStore& store, std::uint32_t seq, Bytes& value) {
  std::optional<FileRecordView> found;
  Status read = [&]() -> Status {
    BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(store.internals().env()));
    BRELAY_ASSIGN_OR_RETURN(auto stored, txn.get(store.internals().dbs().files, encode_file_key(seq)));
    if (!stored) return make_error("no record");
    value.assign(stored->begin(), stored->end());
    return {};
  }();
  EXPECT_TRUE(read) << read.error().message();
  if (!read) return found;
  auto decoded = FileRecordView::decode(value);
  EXPECT_TRUE(decoded) << decoded.error().message();
  if (decoded) found = *decoded;
  return found;
}

FileInfo third_file_info() {
  FileInfo info;
  info.seq = 3;
  info.name = "bin.000003";
  info.first_position = 4;
  info.end_position = 4;
  info.format_description = Bytes(100, 0x61);
  info.previous_gtids = Bytes(40, 0x62);
  return info;
}

Written write_store(std::shared_ptr<const crypto::MasterKeys> keys, bool unfinished) {
  auto dir = TempDir::create("store-encryption");
  EXPECT_TRUE(dir);
  Written w{std::move(dir).value(), "", TestStream()};
  w.data = w.dir.file("data");
  StoreOptions options;
  options.master_keys = std::move(keys);
  auto store = BinlogStore::open(w.data, options);
  EXPECT_TRUE(store) << store.error().message();
  ProgressLog log;
  StoreWriter::Options writer_options;
  writer_options.max_run_bytes = 3000;  // several runs per file, split inside transactions too
  auto writer = StoreWriter::start(**store, writer_options, log.callback());
  EXPECT_TRUE(writer) << writer.error().message();
  for (int file = 0; file < 2; ++file) {
    WriteBatch batch;
    w.stream.begin_file(batch);
    for (int i = 0; i < 30; ++i)
      w.stream.transaction(batch, 3, 150 + 40 * (i % 5));
    if (file == 0) w.stream.end_file(batch);
    EXPECT_TRUE((*writer)->submit(std::move(batch)));
  }
  EXPECT_TRUE(log.wait_durable(w.stream.current_file(), w.stream.next_position()));
  if (unfinished) {
    WriteBatch batch;
    w.stream.unfinished_events(batch, 4, 900);
    EXPECT_TRUE((*writer)->submit(std::move(batch)));
  }
  EXPECT_TRUE((*writer)->stop());
  return w;
}

std::string read_back_differences(const std::string& data, const StoreOptions& options,
                                  const std::vector<StoredEvent>& expected) {
  auto store = BinlogStore::open(data, options);
  if (!store) return store.error().message();
  auto events = read_everything(**store, 1 << 20);
  if (!events) return events.error().message();
  return compare_events(*events, expected);
}

}  // namespace brelay::testing
