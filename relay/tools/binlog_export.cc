#include "relay/tools/binlog_export.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "relay/binlog/binlog_file.h"
#include "relay/core/stored_event_check.h"
#include "storage/store_reader.h"

namespace brelay::relay {
namespace {

constexpr std::size_t kReadBytes = std::size_t{1} << 20;

Result<ExportedFile> write_file(storage::BinlogStore& store, const storage::FileInfo& info,
                                const std::string& partial_path, const std::string& path,
                                const std::function<void(std::uint64_t)>& on_bytes) {
  BRELAY_ASSIGN_OR_RETURN(storage::StoreReader reader, storage::StoreReader::open(store));
  BRELAY_TRY(reader.seek(info.name, info.first_position));
  BRELAY_ASSIGN_OR_RETURN(binlog::BinlogFileWriter writer, binlog::BinlogFileWriter::create(partial_path));
  ExportedFile exported{info.name, path, 4, 0, info.closed, info.first_position > 4};
  if (exported.partial) {
    // Stored from a later position: the file's FDE first, so that readers can decode what follows.
    if (info.format_description.empty())
      return make_error("{} is stored from position {} without its format description", info.name,
                        info.first_position);
    BRELAY_TRY(writer.append(info.format_description));
  }
  const binlog::ChecksumAlgorithm checksum = stored_file_checksum(info);
  while (true) {
    BRELAY_ASSIGN_OR_RETURN(storage::ReadBatch batch, reader.read(kReadBytes));
    if (reader.file().name != info.name || batch.runs.empty()) break;
    for (const storage::EventRun& run : batch.runs) {
      for (std::size_t i = 0; i < run.event_count(); ++i) {
        BRELAY_TRY(verify_stored_event(store, info.name, run.event_position(i), run.event(i), checksum));
        BRELAY_TRY(writer.append(run.event(i)));
        exported.events += 1;
      }
    }
    reader.consume(batch.bytes);
    reader.release();
    if (on_bytes) on_bytes(batch.bytes);
    if (batch.at_durable_end) break;
  }
  reader.release();
  exported.size = writer.position();
  BRELAY_TRY(writer.finish());
  return exported;
}

}  // namespace

Result<ExportedFile> export_file(storage::BinlogStore& store, std::string_view file_name,
                                 const std::string& path,
                                 const std::function<void(std::uint64_t)>& on_bytes) {
  BRELAY_ASSIGN_OR_RETURN(std::optional<storage::FileInfo> info, store.find_file(file_name));
  if (!info)
    return make_error("{} is not stored in {}: see `binlog-relay dump` for what is", file_name,
                      store.directory());
  const std::string partial_path = path + ".partial";
  auto exported = write_file(store, *info, partial_path, path, on_bytes);
  if (!exported) {
    std::remove(partial_path.c_str());
    return std::move(exported).error();
  }
  if (std::rename(partial_path.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(partial_path.c_str());
    return make_error("cannot rename {} to {}: {}", partial_path, path, std::strerror(error));
  }
  return exported;
}

}  // namespace brelay::relay
