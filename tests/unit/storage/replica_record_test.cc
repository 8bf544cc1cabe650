#include "storage/replica_record.h"

#include <gtest/gtest.h>

#include "storage/binlog_store.h"
#include "storage/lmdb_txn.h"
#include "storage/store_internals.h"
#include "tests/support/temp_dir.h"

namespace brelay::storage {
namespace {

ReplicaRecord sample() {
  ReplicaRecord record;
  record.server_id = 0x01020304;
  record.uuid = "0b6e9c1c-2d5f-11ef-9a11-0242ac120002";
  record.account = "azure_repl";
  record.host = "20.1.2.3:51234";
  record.file = "mysql-bin.000042";
  record.position = 123456789;
  record.gtid_state = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5";
  record.gtid_positioned = true;
  record.first_seen = 1700000000;
  record.last_seen = 1700000100;
  return record;
}

TEST(ReplicaRecord, RoundTripsAndIsKeyedByServerIdBigEndian) {
  const ReplicaRecord record = sample();
  const auto key = record.key();
  EXPECT_EQ(key, (std::array<std::uint8_t, 4>{1, 2, 3, 4}));
  auto decoded = ReplicaRecord::decode(key, record.encode());
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(*decoded, record);
  ReplicaRecord empty;
  empty.server_id = 5;
  auto plain = ReplicaRecord::decode(empty.key(), empty.encode());
  ASSERT_TRUE(plain);
  EXPECT_EQ(*plain, empty);
}

TEST(ReplicaRecord, EveryCutValueIsAnErrorNamingTheReplica) {
  const ReplicaRecord record = sample();
  const Bytes value = record.encode();
  for (std::size_t size = 0; size < value.size(); ++size) {
    auto decoded = ReplicaRecord::decode(record.key(), ByteView(value.data(), size));
    ASSERT_FALSE(decoded) << size;
    EXPECT_NE(decoded.error().message().find("server_id 16909060 is damaged"), std::string::npos)
        << decoded.error().message();
    EXPECT_NE(decoded.error().message().find("FORGET REPLICA 16909060"), std::string::npos);
  }
}

TEST(ReplicaRecord, HostileStoredBytesAreErrorsThatSayWhat) {
  const ReplicaRecord record = sample();
  auto message = [&](Bytes value, ByteView key) {
    auto decoded = ReplicaRecord::decode(key, value);
    EXPECT_FALSE(decoded);
    return decoded ? std::string() : decoded.error().message();
  };
  Bytes value = record.encode();
  Bytes trailing = value;
  trailing.push_back(0);
  EXPECT_NE(message(trailing, record.key()).find("trailing"), std::string::npos);
  Bytes version = value;
  version[0] = 9;
  EXPECT_NE(message(version, record.key()).find("version 9"), std::string::npos);
  ReplicaRecord other = record;
  other.server_id = 77;
  EXPECT_NE(message(value, other.key()).find("names server_id 16909060 but is stored under 77"),
            std::string::npos);
  const std::array<std::uint8_t, 3> short_key{1, 2, 3};
  EXPECT_NE(message(value, short_key).find("key has 3 bytes"), std::string::npos);
  ReplicaRecord backwards = record;
  backwards.first_seen = backwards.last_seen + 1;
  EXPECT_NE(message(backwards.encode(), record.key()).find("is after last seen"), std::string::npos);
  // A uuid length past the value's end (0xfe + u64: 2^63).
  Bytes huge(value.begin(), value.begin() + 1 + 4 + 16);
  huge.push_back(0xfe);
  for (int i = 0; i < 7; ++i)
    huge.push_back(0);
  huge.push_back(0x80);
  EXPECT_NE(message(huge, record.key()).find("uuid claims"), std::string::npos);
  ReplicaRecord long_host = record;
  long_host.host = std::string(ReplicaRecord::kMaxText + 1, 'h');
  EXPECT_NE(message(long_host.encode(), record.key()).find("at most 1024"), std::string::npos);
  Bytes flags = value;
  flags.back() = 0x80;
  EXPECT_NE(message(flags, record.key()).find("unknown flags 0x80"), std::string::npos);
}

// A store written before the replicas database existed: a read-only open sees no remembered
// replica, a writable open adds the database and keeps what it is given.
TEST(ReplicaRecord, AStoreWithoutTheReplicasDatabaseStillOpens) {
  auto dir = testing::TempDir::create("replicas-db");
  ASSERT_TRUE(dir);
  const std::string data = dir->file("data");
  {
    auto store = BinlogStore::open(data);
    ASSERT_TRUE(store) << store.error().message();
    auto txn = LmdbTxn::begin_write((*store)->internals().env());
    ASSERT_TRUE(txn);
    ASSERT_EQ(mdb_drop(txn->raw(), *(*store)->internals().dbs().replicas, 1), 0);
    ASSERT_TRUE(txn->commit());
  }
  {
    StoreOptions options;
    options.read_only = true;
    auto store = BinlogStore::open(data, options);
    ASSERT_TRUE(store) << store.error().message();
    auto records = (*store)->replica_records();
    ASSERT_TRUE(records);
    EXPECT_TRUE(records->empty());
  }
  auto store = BinlogStore::open(data);
  ASSERT_TRUE(store) << store.error().message();
  ASSERT_TRUE((*store)->update_replica_records({sample()}, {}));
  auto records = (*store)->replica_records();
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front(), sample());
}

}  // namespace
}  // namespace brelay::storage
