#include "relay/downstream/binlog_events_stream.h"

#include <fmt/format.h>

#include "net/binary_protocol.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/event_info.h"
#include "relay/downstream/mysql_errors.h"

namespace brelay::relay::downstream {
namespace {

using net::ColumnDefinition;

// Between two parts the kernel took whole. Not 0: libuv before 1.48 (Debian 12 has 1.44) runs a
// zero-delay timer restarted from its own callback again in the same pass, without polling for the
// other sessions' I/O in between.
constexpr std::chrono::milliseconds kNextPartDelay{1};

Error show_events_error(std::string_view what) {
  return Error(fmt::format("Error when executing command SHOW BINLOG EVENTS: {}", what),
               mysql_error::kErrorWhenExecutingCommand);
}

// A walk's error as the servers word it; a damaged store names what the relay found.
Error walk_error(const Error& error) {
  if (error.code() == mysql_error::kErrorWhenExecutingCommand) return error;
  if (error.code() == storage::kStoreDamagedCode)
    return show_events_error(fmt::format("Wrong offset or I/O error (binlog-relay: {})", error.message()));
  return show_events_error("Wrong offset or I/O error");
}

}  // namespace

std::vector<ColumnDefinition> binlog_events_columns() {
  return {ColumnDefinition::text("Log_name"),
          ColumnDefinition::unsigned_integer("Pos"),
          ColumnDefinition::text("Event_type"),
          ColumnDefinition::unsigned_integer("Server_id"),
          ColumnDefinition::unsigned_integer("End_log_pos"),
          ColumnDefinition::text("Info", 65535)};
}

BinlogEventsStream::BinlogEventsStream(storage::BinlogStore& store, uv_loop_t* loop,
                                       net::ServerSession& session, Rows rows)
    : store_(store), session_(session), rows_(rows), next_part_(loop) {}

void BinlogEventsStream::start(const ShowBinlogEventsStatement& show) {
  finished_ = false;
  net::ResultSet metadata;
  metadata.columns = columns_;
  std::vector<Bytes> packets = net::encode_result_set(metadata, session_.deprecate_eof());
  end_packet_ = std::move(packets.back());
  packets.pop_back();
  session_.set_low_water_mark(0);
  const Status resolved = resolve(show);
  if (!session_.send_reply_part(packets)) {
    finished_ = true;  // the session is closing
    return;
  }
  if (!resolved) {
    finish(net::encode_err(to_err_packet(resolved.error())));
    return;
  }
  send_part();
}

Status BinlogEventsStream::resolve(const ShowBinlogEventsStatement& show) {
  std::optional<storage::FileInfo> file;
  if (show.file) {
    BRELAY_ASSIGN_OR_RETURN(file, store_.find_file(*show.file));
  } else {
    BRELAY_ASSIGN_OR_RETURN(auto files, store_.list_files());
    if (!files.empty()) file = files.front();
  }
  if (!file) return show_events_error("Could not find target log");
  file_ = file->name;
  checksum_ = file_checksum_algorithm(*file);
  next_position_ = std::max(show.from.value_or(4), file->first_position);
  end_position_ = file->end_position;
  to_skip_ = show.offset;
  rows_left_ = show.count;
  return {};
}

Status BinlogEventsStream::add_row(ByteView event, std::uint64_t position, Part& part) {
  auto view = binlog::view_event(event, checksum_);
  if (!view) return show_events_error("Wrong offset or I/O error");
  net::TextRow row = {file_,
                      std::to_string(position),
                      std::string(binlog::event_type_name(view->header.type)),
                      std::to_string(view->header.server_id),
                      std::to_string(view->header.log_pos),
                      binlog::event_info(*view).value_or(std::string())};
  if (rows_ == Rows::kText) {
    part.packets.push_back(net::encode_text_row(row));
  } else {
    auto encoded = net::encode_binary_row(columns_, row);
    if (!encoded)
      return Error(fmt::format("binlog-relay could not encode the answer as binary rows: {}",
                               encoded.error().message()),
                   mysql_error::kUnknownError);
    part.packets.push_back(std::move(*encoded));
  }
  part.bytes += part.packets.back().size();
  return {};
}

Result<WalkStep> BinlogEventsStream::visit(ByteView event, std::uint64_t position, Part& part) {
  if (to_skip_ > 0) {
    --to_skip_;
  } else {
    BRELAY_TRY(add_row(event, position, part));
    if (rows_left_) --*rows_left_;
  }
  next_position_ = position + event.size();
  ++part.events;
  if (rows_left_ == 0U || part.bytes >= kPartBytes) return WalkStep::kStop;
  // After each event: one may be large (tens of MiB of rows), and skipped ones count no bytes.
  if (std::chrono::steady_clock::now() - part.started >= kPartTime) return WalkStep::kStop;
  return WalkStep::kContinue;
}

void BinlogEventsStream::send_part() {
  if (finished_) return;
  if (session_.closing()) {
    finished_ = true;
    return;
  }
  if (rows_left_ == 0U) {  // LIMIT 0
    finish(end_packet_);
    return;
  }
  Part part;
  const Status walk =
      walk_stored_file(store_, file_, next_position_, end_position_,
                       [&](ByteView event, std::uint64_t position) { return visit(event, position, part); });
  if (!part.packets.empty() && !session_.send_reply_part(part.packets)) {
    finished_ = true;  // the session is closing
    return;
  }
  if (!walk) {
    finish(net::encode_err(to_err_packet(walk_error(walk.error()))));
    return;
  }
  // A walk that found no event before the file's end has nothing more to find.
  if (rows_left_ == 0U || next_position_ >= end_position_ || part.events == 0) {
    finish(end_packet_);
    return;
  }
  if (session_.pending_bytes() == 0) next_part_.start(kNextPartDelay, [this] { send_part(); });
  // else on_drained() goes on
}

void BinlogEventsStream::on_drained() {
  if (finished_ || next_part_.active()) return;
  next_part_.start(kNextPartDelay, [this] { send_part(); });
}

void BinlogEventsStream::finish(const Bytes& last) {
  finished_ = true;
  next_part_.stop();
  (void)session_.send_reply(std::span<const Bytes>(&last, 1));
}

}  // namespace brelay::relay::downstream
