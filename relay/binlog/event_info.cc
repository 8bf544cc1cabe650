#include "relay/binlog/event_info.h"

#include "relay/binlog/format_description.h"
#include "relay/binlog/gtid_event.h"
#include "relay/binlog/gtid_list_event.h"
#include "relay/binlog/heartbeat_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/previous_gtids_event.h"
#include "relay/binlog/query_event.h"
#include "relay/binlog/rotate_event.h"
#include "relay/binlog/table_map_event.h"
#include "relay/binlog/transaction_payload_event.h"
#include "relay/binlog/xid_event.h"

namespace brelay::binlog {

Result<std::string> event_info(const EventView& event) {
  switch (event.header.type) {
    case EventType::kQuery: {
      BRELAY_ASSIGN_OR_RETURN(QueryEvent query, parse_query(event));
      if (query.schema.empty() || (event.header.flags & event_flags::kSuppressUse) != 0) {
        return std::string(query.query);
      }
      return fmt::format("use `{}`; {}", query.schema, query.query);
    }
    case EventType::kRotate: {
      BRELAY_ASSIGN_OR_RETURN(RotateEvent rotate, parse_rotate(event));
      return rotate_info(rotate);
    }
    case EventType::kXid: {
      BRELAY_ASSIGN_OR_RETURN(std::uint64_t xid, parse_xid(event));
      return xid_info(xid);
    }
    case EventType::kGtid:
    case EventType::kAnonymousGtid:
    case EventType::kGtidTagged: {
      BRELAY_ASSIGN_OR_RETURN(GtidEvent gtid, parse_gtid_event(event));
      return gtid_event_info(gtid);
    }
    case EventType::kMariadbGtid: {
      BRELAY_ASSIGN_OR_RETURN(MariadbGtidEvent gtid, parse_mariadb_gtid(event));
      return mariadb_gtid_info(gtid);
    }
    case EventType::kGtidList: {
      BRELAY_ASSIGN_OR_RETURN(GtidListEvent list, parse_gtid_list(event));
      return gtid_list_info(list);
    }
    case EventType::kBinlogCheckpoint: {
      BRELAY_ASSIGN_OR_RETURN(std::string_view file, parse_binlog_checkpoint(event));
      return std::string(file);
    }
    case EventType::kFormatDescription: {
      BRELAY_ASSIGN_OR_RETURN(FormatDescription fde, parse_format_description(event.bytes));
      return format_description_info(fde);
    }
    case EventType::kPreviousGtids: {
      BRELAY_ASSIGN_OR_RETURN(GtidSet set, parse_previous_gtids(event));
      return set.to_single_line();
    }
    case EventType::kTableMap: {
      BRELAY_ASSIGN_OR_RETURN(TableMapEvent map, parse_table_map(event));
      return fmt::format("table_id: {} ({}.{})", map.table_id, map.schema, map.table);
    }
    case EventType::kAnnotateRows: {
      BRELAY_ASSIGN_OR_RETURN(std::string_view text, parse_statement_text(event));
      return std::string(text);
    }
    case EventType::kRowsQuery: {
      BRELAY_ASSIGN_OR_RETURN(std::string_view text, parse_statement_text(event));
      return fmt::format("# {}", text);
    }
    case EventType::kHeartbeat:
    case EventType::kHeartbeatV2: {
      BRELAY_ASSIGN_OR_RETURN(Heartbeat heartbeat, parse_heartbeat(event));
      return std::string(heartbeat.file);
    }
    case EventType::kTransactionPayload: {
      BRELAY_ASSIGN_OR_RETURN(TransactionPayload payload, parse_transaction_payload(event));
      return transaction_payload_info(payload);
    }
    default: break;
  }
  if (is_rows_event(event.header.type)) {
    BRELAY_ASSIGN_OR_RETURN(RowsEventHeader rows, parse_rows_header(event));
    if ((rows.flags & kRowsStatementEndFlag) != 0)
      return fmt::format("table_id: {} flags: STMT_END_F", rows.table_id);
    return fmt::format("table_id: {}", rows.table_id);
  }
  return std::string();
}

}  // namespace brelay::binlog
