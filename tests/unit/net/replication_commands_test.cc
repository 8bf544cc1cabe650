// COM_REGISTER_SLAVE, COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID, dump packet envelopes and semi-sync
// acknowledgements:
// round trips, the layouts the replicas send (MySQL 5.7's NUL file name, a missing GTID section),
// and truncation.
#include "net/replication_commands.h"

#include <gtest/gtest.h>

#include "common/byte_writer.h"
#include "net/mysql_constants.h"

namespace brelay::net {
namespace {

TEST(RegisterReplica, RoundTripsAndAcceptsAShortTail) {
  RegisterReplica c{4001, "replica-1", "repl", "", 3306, 0, 0};
  const Bytes wire = encode_register_replica(c);
  EXPECT_EQ(wire[0], command::kRegisterSlave);
  auto decoded = decode_register_replica(wire);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->server_id, 4001u);
  EXPECT_EQ(decoded->host, "replica-1");
  EXPECT_EQ(decoded->user, "repl");
  EXPECT_EQ(decoded->port, 3306);
  // Without rank and master id.
  auto short_form = decode_register_replica(ByteView(wire).first(wire.size() - 8));
  ASSERT_TRUE(short_form) << short_form.error().message();
  for (std::size_t cut = 0; cut < 1 + 4 + 1 + 9 + 1 + 4 + 1 + 2; ++cut)
    EXPECT_FALSE(decode_register_replica(ByteView(wire).first(cut))) << cut;
}

TEST(BinlogDump, RoundTrips) {
  BinlogDump c{123456, dump_flag::kNonBlock, 77, "mysql-bin.000042"};
  const Bytes wire = encode_binlog_dump(c);
  ASSERT_EQ(wire.size(), 1u + 4 + 2 + 4 + c.file_name.size());
  auto decoded = decode_binlog_dump(wire);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->position, 123456u);
  EXPECT_EQ(decoded->flags, dump_flag::kNonBlock);
  EXPECT_EQ(decoded->server_id, 77u);
  EXPECT_EQ(decoded->file_name, "mysql-bin.000042");
  for (std::size_t cut = 0; cut < 11; ++cut)
    EXPECT_FALSE(decode_binlog_dump(ByteView(wire).first(cut))) << cut;
  EXPECT_FALSE(decode_binlog_dump(encode_register_replica({})));
}

// Issue 14 item 2: zongji sends the file name with a trailing NUL ("mysql-bin.000001\0"); MariaDB and
// MySQL take the name as a C string, cut at the first NUL.
TEST(BinlogDump, FileNameWithTrailingZeroByteIsCutAtTheFirstNul) {
  const std::string zongji_name("mysql-bin.000001\0", 17);
  Bytes wire = encode_binlog_dump({4, 0, 5, zongji_name});
  auto decoded = decode_binlog_dump(wire);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->file_name, "mysql-bin.000001");
  decoded = decode_binlog_dump(encode_binlog_dump({4, 0, 5, std::string("a\0b\0", 4)}));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->file_name, "a");
  decoded = decode_binlog_dump(encode_binlog_dump({4, 0, 5, std::string(1, '\0')}));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->file_name, "");  // the first binlog
}

TEST(BinlogDumpGtid, RoundTripsAndReadsTheReplicaVariants) {
  BinlogDumpGtid c;
  c.flags = dump_flag::kHeartbeatV2OrAnnotateRows;
  c.server_id = 9;
  c.file_name = "";
  c.position = 4;
  c.gtid_set = Bytes{1, 0, 0, 0, 0, 0, 0, 0, 0xaa};
  const Bytes wire = encode_binlog_dump_gtid(c);
  auto decoded = decode_binlog_dump_gtid(wire);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->flags, c.flags);
  EXPECT_EQ(decoded->server_id, 9u);
  EXPECT_FALSE(decoded->has_file_name());
  EXPECT_EQ(decoded->position, 4u);
  EXPECT_EQ(decoded->gtid_set, c.gtid_set);
  // MySQL 5.7: a name length with NUL bytes for a name.
  BinlogDumpGtid old = c;
  old.file_name = std::string(3, '\0');
  auto decoded_old = decode_binlog_dump_gtid(encode_binlog_dump_gtid(old));
  ASSERT_TRUE(decoded_old);
  EXPECT_FALSE(decoded_old->has_file_name());
  // Without the GTID section at all.
  ByteWriter bare;
  bare.u8(command::kBinlogDumpGtid).u16(0).u32(1).u32(0).u64(4);
  auto decoded_bare = decode_binlog_dump_gtid(bare.data());
  ASSERT_TRUE(decoded_bare) << decoded_bare.error().message();
  EXPECT_TRUE(decoded_bare->gtid_set.empty());
  // A GTID length beyond the packet, a name length beyond the packet, trailing bytes.
  Bytes lying = wire;
  lying[1 + 2 + 4 + 4 + 8] = 0xff;
  EXPECT_FALSE(decode_binlog_dump_gtid(lying));
  Bytes long_name = wire;
  long_name[1 + 2 + 4] = 0x40;
  EXPECT_FALSE(decode_binlog_dump_gtid(long_name));
  Bytes trailing = wire;
  trailing.push_back(0);
  EXPECT_FALSE(decode_binlog_dump_gtid(trailing));
}

TEST(SemiSyncAck, RoundTrips) {
  const Bytes wire = encode_semi_sync_ack({987654321, "mysql-bin.000003"});
  EXPECT_EQ(wire[0], kSemiSyncIndicator);
  auto decoded = decode_semi_sync_ack(wire);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->position, 987654321u);
  EXPECT_EQ(decoded->file_name, "mysql-bin.000003");
  for (std::size_t cut = 0; cut <= 9; ++cut)
    EXPECT_FALSE(decode_semi_sync_ack(ByteView(wire).first(cut))) << cut;
}

TEST(DumpEnvelope, RoundTripsWithAndWithoutSemiSync) {
  const Bytes event{0x10, 0x20, 0x30, 0x40, 0x50};
  for (const bool semi_sync : {false, true}) {
    for (const bool ack_requested : {false, true}) {
      if (!semi_sync && ack_requested) continue;
      const Bytes wire = encode_dump_envelope({semi_sync, ack_requested, event});
      ASSERT_EQ(wire.size(), (semi_sync ? 3u : 1u) + event.size());
      EXPECT_EQ(wire[0], 0x00);
      if (semi_sync) {
        EXPECT_EQ(wire[1], kSemiSyncIndicator);
        EXPECT_EQ(wire[2], ack_requested ? kSemiSyncAckRequested : 0);
      }
      const DumpEnvelopePrefix prefix = encode_dump_envelope_prefix(semi_sync, ack_requested);
      EXPECT_EQ(Bytes(prefix.view().begin(), prefix.view().end()),
                Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(prefix.size)));
      auto decoded = decode_dump_envelope(wire, semi_sync);
      ASSERT_TRUE(decoded) << decoded.error().message();
      EXPECT_EQ(decoded->semi_sync, semi_sync);
      EXPECT_EQ(decoded->ack_requested, ack_requested);
      EXPECT_EQ(Bytes(decoded->event.begin(), decoded->event.end()), event);
      EXPECT_EQ(decoded->event.data(), wire.data() + prefix.size) << "a view into the payload";
      EXPECT_EQ(encode_dump_envelope(*decoded), wire);
    }
  }
}

TEST(DumpEnvelope, RejectsEveryCutThatLeavesNoEvent) {
  const Bytes event{0xaa, 0xbb};
  for (const bool semi_sync : {false, true}) {
    const Bytes wire = encode_dump_envelope({semi_sync, semi_sync, event});
    const std::size_t prefix = semi_sync ? 3 : 1;
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      auto decoded = decode_dump_envelope(ByteView(wire).first(cut), semi_sync);
      EXPECT_EQ(decoded.ok(), cut > prefix) << "semi_sync " << semi_sync << " cut at " << cut;
      if (decoded) {
        EXPECT_EQ(decoded->event.size(), cut - prefix);
      }
    }
  }
}

TEST(DumpEnvelope, RejectsAWrongStatusByteOrSemiSyncHeader) {
  EXPECT_FALSE(decode_dump_envelope(Bytes{0xff, 0x01, 0x02}, false));
  EXPECT_FALSE(decode_dump_envelope(Bytes{0x01, 0xef, 0x00, 0x02}, true));
  auto no_indicator = decode_dump_envelope(Bytes{0x00, 0x10, 0x01, 0x02}, true);
  ASSERT_FALSE(no_indicator);
  EXPECT_NE(no_indicator.error().message().find("0xEF"), std::string::npos);
  // Flag bits other than 0x01 do not ask for an acknowledgement.
  auto other_flags = decode_dump_envelope(Bytes{0x00, 0xef, 0x02, 0x02}, true);
  ASSERT_TRUE(other_flags);
  EXPECT_FALSE(other_flags->ack_requested);
  // Without semi-sync, 0xEF is the first byte of the event.
  auto plain = decode_dump_envelope(Bytes{0x00, 0xef, 0x01, 0x02}, false);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->event.size(), 3u);
  EXPECT_FALSE(plain->ack_requested);
}

}  // namespace
}  // namespace brelay::net
