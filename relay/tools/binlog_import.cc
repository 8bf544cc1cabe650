#include "relay/tools/binlog_import.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "relay/binlog/binlog_file.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/rotate_event.h"
#include "relay/binlog/transaction_boundary.h"
#include "relay/core/stored_gtids.h"
#include "relay/tools/stored_chain.h"
#include "storage/write_batch.h"

namespace brelay::relay {
namespace {

// Events are handed to the writer in batches of about this many bytes.
constexpr std::size_t kBatchBytes = std::size_t{4} << 20;

// Waits on the writer's progress (its callback runs on the writer thread).
class WriterProgress {
 public:
  void update(const storage::StoreWriter::Progress& progress) {
    {
      std::lock_guard lock(mutex_);
      progress_ = progress;
    }
    changed_.notify_all();
  }

  // Blocks while the queue is full; the writer's error, if it stopped.
  Status wait_for_room() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !progress_.queue_full || progress_.error; });
    if (progress_.error) return *progress_.error;
    return {};
  }

  // Blocks until `file`:`position` is durable.
  Status wait_until_durable(const std::string& file, std::uint64_t position) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] {
      if (progress_.error) return true;
      const auto& end = progress_.durable_end;
      return end && end->file == file && end->position >= position;
    });
    if (progress_.error) return *progress_.error;
    return {};
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  storage::StoreWriter::Progress progress_;  // guarded by mutex_
};

struct Observed {
  std::optional<binlog::FormatDescription> fde;
  std::uint32_t fde_server_id = 0;
  bool rows_events = false;
  bool mysql_gtids = false;
  bool anonymous_gtids = false;
  std::optional<binlog::Uuid> last_uuid;
  std::optional<std::uint32_t> mariadb_domain;
};

// Imports one file; `expected_name` is what the previous file's ROTATE named (empty: anything).
// Without a writer it only checks (the first pass over every file, before anything is written).
class FileImporter {
 public:
  FileImporter(storage::BinlogStore& store, storage::StoreWriter* writer, WriterProgress* progress,
               ImportReport& report, Observed& observed)
      : store_(store), writer_(writer), progress_(progress), report_(report), observed_(observed) {}

  // Told the size of each event read (ImportOptions::on_bytes); may be empty.
  void set_on_bytes(std::function<void(std::uint64_t)> on_bytes) { on_bytes_ = std::move(on_bytes); }

  Result<std::string> import(const std::string& path, const std::string& expected_name) {
    const std::string name = std::filesystem::path(path).filename().string();
    BRELAY_TRY(check_new_file(path, name, expected_name));
    BRELAY_ASSIGN_OR_RETURN(binlog::BinlogFileReader reader, binlog::BinlogFileReader::open(path));
    BRELAY_ASSIGN_OR_RETURN(const Bytes fde_bytes, read_format_description(reader, path));

    // The previous-GTID blob is the event after the FDE; the file's record needs it at its start.
    std::optional<Bytes> second;
    BRELAY_ASSIGN_OR_RETURN(auto next, reader.next());
    if (next) second.emplace(next->begin(), next->end());
    const bool second_is_previous = second && is_previous_gtids_event(*second);

    storage::FileStart start;
    start.name = name;
    start.first_position = 4;
    start.format_description = fde_bytes;
    if (second_is_previous) start.previous_gtids = *second;
    if (writer_ != nullptr) {
      batch_ = writer_->take_batch();
      batch_.begin_file(start);
    }

    FileState file;
    file.path = path;
    file.imported.name = name;
    tracker_.reset();
    BRELAY_TRY(add_event(fde_bytes, file));
    if (second) BRELAY_TRY(add_event(*second, file));
    while (true) {
      BRELAY_ASSIGN_OR_RETURN(auto event, reader.next());
      if (!event) break;
      BRELAY_TRY(add_event(*event, file));
    }
    if (!tracker_.at_boundary()) {
      return make_error(
          "{}: the file ends inside a transaction (it was copied while the server was writing it, or is "
          "truncated); copy it again once the server has moved past that transaction",
          path);
    }
    file.imported.end_position = file.position;
    file.imported.closed = file.ended;
    if (writer_ != nullptr) {
      if (file.ended) batch_.end_file();
      BRELAY_TRY(flush());
      BRELAY_TRY(progress_->wait_until_durable(name, file.position));
    }
    report_.files.push_back(file.imported);
    return file.rotates_to;
  }

 private:
  // Where the import of one file stands.
  struct FileState {
    std::string path;
    ImportedFile imported;
    std::uint64_t position = 4;  // where the next event starts
    std::string rotates_to;      // what the file's ROTATE names
    bool ended = false;          // the file's ROTATE or STOP was read
  };

  // The file must be the one the previous file's ROTATE named, and new to the store.
  Status check_new_file(const std::string& path, const std::string& name, const std::string& expected_name) {
    if (!expected_name.empty() && name != expected_name) {
      return make_error(
          "{}: out of order: the previous file ends with a ROTATE to {}; give the files oldest first, "
          "without gaps",
          path, expected_name);
    }
    BRELAY_ASSIGN_OR_RETURN(auto stored, store_.find_file(name));
    if (stored) {
      return make_error(
          "{}: the store already holds {} (up to position {}); import only files it does not hold yet", path,
          name, stored->end_position);
    }
    return {};
  }

  // Reads the file's first event, which must be a FORMAT_DESCRIPTION, and keeps what it says.
  Result<Bytes> read_format_description(binlog::BinlogFileReader& reader, const std::string& path) {
    BRELAY_ASSIGN_OR_RETURN(auto first, reader.next());
    if (!first)
      return make_error("{}: the file holds no event; a binlog starts with a FORMAT_DESCRIPTION", path);
    Bytes fde_bytes(first->begin(), first->end());
    BRELAY_ASSIGN_OR_RETURN(binlog::EventHeader fde_header, binlog::parse_event_header(fde_bytes));
    if (fde_header.type != binlog::EventType::kFormatDescription) {
      return make_error("{}: the first event is {}, not a FORMAT_DESCRIPTION: not a v4 binlog", path,
                        binlog::event_type_name(fde_header.type));
    }
    auto fde = binlog::parse_format_description(fde_bytes);
    if (!fde) return std::move(fde).error().with_context(fmt::format("{} at offset 4", path));
    algorithm_ = fde->checksum_algorithm;
    observed_.fde = *fde;
    observed_.fde_server_id = fde_header.server_id;
    return fde_bytes;
  }

  // Checks and appends the file's next event; a ROTATE or STOP ends the file.
  Status add_event(ByteView event, FileState& file) {
    auto context = [&file] { return fmt::format("{} at offset {}", file.path, file.position); };
    if (file.ended)
      return make_error("{}: an event follows the file's ROTATE/STOP: the file is damaged", context());
    auto appended = append(event, file.position);
    if (!appended) return std::move(appended).error().with_context(context());
    const auto type = binlog::event_type(event[binlog::kTypeOffset]);
    if (type == binlog::EventType::kRotate) {
      BRELAY_ASSIGN_OR_RETURN(binlog::EventView view, binlog::view_event(event, algorithm_));
      BRELAY_ASSIGN_OR_RETURN(binlog::RotateEvent rotate, binlog::parse_rotate(view));
      file.rotates_to = std::string(rotate.next_file);
      file.ended = true;
    } else if (type == binlog::EventType::kStop) {
      file.ended = true;
    }
    file.position += event.size();
    ++file.imported.events;
    return {};
  }

  Status append(ByteView event, std::uint64_t position) {
    BRELAY_ASSIGN_OR_RETURN(binlog::EventView view, binlog::view_event(event, algorithm_));
    if (view.has_checksum) BRELAY_TRY(binlog::verify_event_checksum(event));
    if (view.header.log_pos != 0 && view.header.log_pos != position + event.size()) {
      return make_error(
          "{} event says it ends at {}, but it starts at {} and has {} bytes: positions are not "
          "contiguous (the file is damaged or not a source's binlog)",
          binlog::event_type_name(view.header.type), view.header.log_pos, position, event.size());
    }
    BRELAY_ASSIGN_OR_RETURN(binlog::EventBoundary boundary, tracker_.feed(view));
    observe(view);
    storage::EventAppend append;
    append.position = position;
    append.bytes = event;
    append.ends_transaction = boundary.ends_transaction || !boundary.in_transaction;
    append.timestamp = view.header.timestamp;
    Bytes key;
    if (boundary.starts_transaction) {
      key = gtid_key(tracker_.current_gtid());
      append.gtid = key;
    }
    if (boundary.ends_transaction) ++report_.transactions;
    ++report_.events;
    report_.bytes += event.size();
    if (on_bytes_) on_bytes_(event.size());
    if (writer_ == nullptr) return {};
    batch_.append(append);
    if (batch_.byte_size() >= kBatchBytes) BRELAY_TRY(flush());
    return {};
  }

  void observe(const binlog::EventView& view) {
    const auto type = view.header.type;
    if (binlog::is_rows_event(type)) observed_.rows_events = true;
    if (type == binlog::EventType::kAnonymousGtid) observed_.anonymous_gtids = true;
    if (type == binlog::EventType::kGtid || type == binlog::EventType::kGtidTagged) {
      observed_.mysql_gtids = true;
      observed_.last_uuid = tracker_.current_gtid().mysql.source.uuid;
    }
    if (type == binlog::EventType::kMariadbGtid)
      observed_.mariadb_domain = tracker_.current_gtid().mariadb.domain_id;
  }

  Status flush() {
    if (batch_.empty()) return {};
    BRELAY_ASSIGN_OR_RETURN(storage::StoreWriter::Admission admission, writer_->submit(std::move(batch_)));
    batch_ = writer_->take_batch();
    if (admission.queue_full) BRELAY_TRY(progress_->wait_for_room());
    return {};
  }

  storage::BinlogStore& store_;
  storage::StoreWriter* writer_;  // not owned; null: check only
  WriterProgress* progress_;      // not owned; null: check only
  ImportReport& report_;
  Observed& observed_;
  binlog::ChecksumAlgorithm algorithm_ = binlog::ChecksumAlgorithm::kUndefined;
  binlog::TransactionBoundaryTracker tracker_;
  storage::WriteBatch batch_;
  std::function<void(std::uint64_t)> on_bytes_;
};

SourceIdentity derive_identity(const Observed& observed) {
  SourceIdentity identity = source_identity_from_format_description(*observed.fde, observed.fde_server_id);
  auto& vars = identity.variables;
  vars["log_bin"] = "ON";
  vars["binlog_checksum"] = std::string(binlog::checksum_algorithm_name(identity.checksum));
  if (observed.rows_events) vars["binlog_format"] = "ROW";
  if (identity.flavor == Flavor::kMysql) {
    const bool gtids = observed.mysql_gtids && !observed.anonymous_gtids;
    vars["gtid_mode"] = gtids ? "ON" : "OFF";
    vars["enforce_gtid_consistency"] = gtids ? "ON" : "OFF";
    if (observed.last_uuid) identity.server_uuid = observed.last_uuid->to_string();
  } else if (observed.mariadb_domain) {
    vars["gtid_domain_id"] = std::to_string(*observed.mariadb_domain);
  }
  return identity;
}

// The name the first file must have to continue what the store holds (empty: the store is empty).
Result<std::string> expected_first_file(storage::BinlogStore& store, const std::string& first_path) {
  BRELAY_ASSIGN_OR_RETURN(std::optional<StoredChainEnd> end, stored_chain_end(store));
  if (!end) return std::string();
  if (end->open) {
    return make_error(
        "{}: the store's newest file {} has no ROTATE or STOP yet, so no file can follow it; import into "
        "a new data directory, or let the relay pull what follows {} from the source",
        first_path, end->last_file, end->last_file);
  }
  if (end->expected_next.empty()) {
    return make_error(
        "{}: the store's newest file {} ends with a STOP and its name has no sequence number: "
        "the file that follows it cannot be known; import into a new data directory",
        first_path, end->last_file);
  }
  return end->expected_next;
}

// Reads and checks every file (and that the first continues the store) without writing anything.
Status check_all(storage::BinlogStore& store, const std::vector<std::string>& paths,
                 const ImportOptions& options) {
  ImportReport report;
  Observed observed;
  FileImporter checker(store, nullptr, nullptr, report, observed);
  checker.set_on_bytes(options.on_bytes);
  // A file the store already holds gets FileImporter's own message; any other first file must be
  // the one the store's newest file hands over to.
  const std::string first_name = std::filesystem::path(paths.front()).filename().string();
  BRELAY_ASSIGN_OR_RETURN(auto stored, store.find_file(first_name));
  std::string expected;
  if (!stored) {
    BRELAY_ASSIGN_OR_RETURN(expected, expected_first_file(store, paths.front()));
    if (!expected.empty() && first_name != expected) {
      return make_error(
          "{}: does not continue the stored chain: the store's newest file hands over to {}, so the next "
          "file to import is {} (nothing was imported)",
          paths.front(), expected, expected);
    }
  }
  for (const std::string& path : paths) {
    auto rotates_to = checker.import(path, expected);
    if (!rotates_to)
      return Error(fmt::format("{} (nothing was imported)", rotates_to.error().message()),
                   rotates_to.error().code());
    expected = *rotates_to;
  }
  return {};
}

}  // namespace

Result<ImportReport> import_files(storage::BinlogStore& store, const std::vector<std::string>& paths,
                                  const ImportOptions& options) {
  if (paths.empty()) return make_error("no binlog files to import");
  BRELAY_TRY(check_all(store, paths, options));
  auto progress = std::make_shared<WriterProgress>();
  BRELAY_ASSIGN_OR_RETURN(
      auto writer,
      storage::StoreWriter::start(store, options.writer, [progress](const auto& p) { progress->update(p); }));
  ImportReport report;
  Observed observed;
  FileImporter importer(store, writer.get(), progress.get(), report, observed);
  importer.set_on_bytes(options.on_bytes);
  std::string expected;
  for (const std::string& path : paths) {
    auto rotates_to = importer.import(path, expected);
    if (!rotates_to) {
      (void)writer->stop();
      return std::move(rotates_to).error();
    }
    expected = *rotates_to;
  }
  BRELAY_TRY(writer->stop());
  report.source = derive_identity(observed);
  if (options.record_source_identity) {
    BRELAY_ASSIGN_OR_RETURN(auto existing, store.get_meta(kSourceIdentityMetaKey));
    if (!existing || options.replace_source_identity)
      BRELAY_TRY(store.put_meta(kSourceIdentityMetaKey, encode_source_identity(report.source)));
  }
  return report;
}

}  // namespace brelay::relay
