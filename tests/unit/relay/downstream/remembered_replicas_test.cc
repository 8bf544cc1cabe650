// RememberedReplicas (relay/downstream/remembered_replicas.h) inside a ThreadedRelay: a dump that
// follows the stream is remembered with where it is, durably (a relay on the same store loads it),
// a disconnected one is protected until replica_grace after it was last seen, a connected one
// cannot be forgotten, FORGET REPLICA removes the record from the store, and a one-shot dump is
// not remembered.
#include "relay/downstream/remembered_replicas.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"
#include "tests/support/threaded_relay.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using relay::downstream::ActiveDump;
using relay::downstream::DownstreamServer;
using relay::downstream::RememberedReplica;

ActiveDump dump_of(std::uint32_t server_id, std::uint32_t connection_id, bool remember) {
  ActiveDump dump;
  dump.connection_id = connection_id;
  dump.server_id = server_id;
  dump.uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  dump.user = "repl";
  dump.peer = "127.0.0.1:40000";
  dump.file = "mysql-bin.000002";
  dump.position = 400;
  dump.remember = remember;
  return dump;
}

std::vector<RememberedReplica> listed(ThreadedRelay& relay) {
  return relay.call([](DownstreamServer& server) { return server.remembered().list(); });
}

// The stored records once the writer has written them (empty when none is stored).
bool stored_position_is(ThreadedRelay& relay, std::optional<std::uint64_t> position) {
  auto records = relay.store().replica_records();
  if (!records) return false;
  if (!position) return records->empty();
  return records->size() == 1 && records->front().server_id == 7 && records->front().position == *position;
}

TEST(RememberedReplicasInAThreadedRelay, ADumpIsRememberedDurablyProtectedForTheGraceAndForgotten) {
  auto dir = TempDir::create("remembered-unit");
  ASSERT_TRUE(dir);
  ThreadedRelayOptions options;
  options.data_dir = dir->file("data");
  auto relay = ThreadedRelay::start(options);
  ASSERT_TRUE(relay) << relay.error().message();

  ActiveDump dump = dump_of(7, 5, true);
  (*relay)->call([&](DownstreamServer& server) {
    server.remembered().on_dump_started(dump);
    server.remembered().on_dump_started(dump_of(8, 6, false));  // mariadb-binlog without --stop-never
    return 0;
  });
  std::vector<RememberedReplica> list = listed(**relay);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].record.server_id, 7u);
  EXPECT_EQ(list[0].record.account, "repl");
  EXPECT_EQ(list[0].connection_id, std::optional<std::uint32_t>(5));
  EXPECT_FALSE(list[0].protected_until) << "a connected replica is protected as a reader, without end";
  auto refused = (*relay)->call([](DownstreamServer& server) { return server.remembered().forget(7); });
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("is connected"), std::string::npos) << refused.error().message();

  dump.position = 900;
  (*relay)->call([&](DownstreamServer& server) {
    server.remembered().on_dump_moved(dump);
    server.remembered().on_dump_ended(dump);
    return 0;
  });
  list = listed(**relay);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_FALSE(list[0].connection_id);
  EXPECT_EQ(list[0].record.position, 900u);
  EXPECT_EQ(list[0].protected_until, list[0].record.last_seen + 7 * 24 * 3600) << "replica_grace 7d";
  EXPECT_TRUE(wait_until([&] { return stored_position_is(**relay, 900); }, std::chrono::seconds(30)));

  // A relay on the same store remembers it.
  relay->reset();
  relay = ThreadedRelay::start(options);
  ASSERT_TRUE(relay) << relay.error().message();
  list = listed(**relay);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].record.server_id, 7u);
  EXPECT_EQ(list[0].record.file, "mysql-bin.000002");
  EXPECT_EQ(list[0].record.position, 900u);
  EXPECT_FALSE(list[0].connection_id);

  // FORGET REPLICA 7: gone from the list and the store; a second time it is unknown.
  auto forgotten = (*relay)->call([](DownstreamServer& server) { return server.remembered().forget(7); });
  ASSERT_TRUE(forgotten) << forgotten.error().message();
  EXPECT_TRUE(listed(**relay).empty());
  EXPECT_TRUE(
      wait_until([&] { return stored_position_is(**relay, std::nullopt); }, std::chrono::seconds(30)));
  auto again = (*relay)->call([](DownstreamServer& server) { return server.remembered().forget(7); });
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("no replica with server_id 7"), std::string::npos);
}

}  // namespace
}  // namespace brelay::testing
