// The Info column of SHOW BINLOG EVENTS (and `binlog-relay dump`) for one event, as the servers
// print it for the common types: Query "use `db`; statement" (or the statement), Rotate
// "file;pos=N", Xid "COMMIT /* xid=N */", GTID "SET @@SESSION.GTID_NEXT= 'uuid:n'", MariaDB GTID
// "BEGIN GTID d-s-n", Gtid_list "[d-s-n,...]", Binlog_checkpoint the file, Format_desc
// "Server ver: X, Binlog ver: 4", Previous_gtids the set, Table_map "table_id: N (db.table)",
// rows "table_id: N flags: STMT_END_F", Annotate_rows the statement, Rows_query "# statement", heartbeats
// the file. Other types: "". A malformed event gives an error, never a crash.
#pragma once

#include <string>

#include "common/result.h"
#include "relay/binlog/event_header.h"

namespace brelay::binlog {

Result<std::string> event_info(const EventView& event);

}  // namespace brelay::binlog
