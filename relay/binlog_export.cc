#include "relay/binlog_export.h"

#include "relay/binlog/binlog_file.h"
#include "storage/store_reader.h"

namespace brelay::relay {

Result<ExportedFile> export_file(storage::BinlogStore& store, std::string_view file_name,
                                 const std::string& path) {
  BRELAY_ASSIGN_OR_RETURN(std::optional<storage::FileInfo> info, store.find_file(file_name));
  if (!info) return make_error("the store holds no binlog file named {}", file_name);
  BRELAY_ASSIGN_OR_RETURN(storage::StoreReader reader, storage::StoreReader::open(store));
  BRELAY_TRY(reader.seek_file_start(file_name));
  BRELAY_ASSIGN_OR_RETURN(binlog::BinlogFileWriter writer, binlog::BinlogFileWriter::create(path));
  ExportedFile exported;
  if (info->first_position > 4 && !info->format_description.empty()) {
    BRELAY_TRY(writer.append(info->format_description));
    ++exported.events;
  }
  constexpr std::size_t kReadBytes = std::size_t{4} << 20;
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(storage::ReadBatch batch, reader.read(kReadBytes));
    if (batch.file_changed || batch.runs.empty()) break;
    for (const storage::EventRun& run : batch.runs) {
      for (std::size_t i = 0; i < run.event_count(); ++i) {
        if (Status appended = writer.append(run.event(i)); !appended) {
          reader.release();
          return std::move(appended).error();
        }
        ++exported.events;
      }
    }
    reader.consume(batch.bytes);
    if (batch.at_durable_end) break;
  }
  reader.release();
  exported.bytes = writer.position();
  BRELAY_TRY(writer.finish());
  BRELAY_ASSIGN_OR_RETURN(std::optional<storage::FileInfo> after, store.find_file(file_name));
  exported.complete = after && after->closed;
  return exported;
}

}  // namespace brelay::relay
