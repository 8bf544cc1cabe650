#include "storage/store_edits.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "storage/lmdb_cursor.h"

namespace brelay::storage {
namespace {

// Cuts the run that starts before `from` and reaches past it (if any) so it ends at `from`.
Result<std::uint64_t> cut_run_reaching_into(LmdbTxn& txn, const StoreDatabases& dbs, EventKey from) {
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, dbs.events));
  const auto from_key = from.encode();
  BRELAY_ASSIGN_OR_RETURN(auto at_or_after, cursor.seek(from_key));
  BRELAY_ASSIGN_OR_RETURN(auto before, at_or_after ? cursor.prev() : cursor.last());
  if (!before) return std::uint64_t{0};
  BRELAY_ASSIGN_OR_RETURN(EventKey start, EventKey::decode(before->key));
  if (start.file_seq != from.file_seq || start >= from) return std::uint64_t{0};
  BRELAY_ASSIGN_OR_RETURN(RunView run, RunView::parse(before->value));
  const std::uint64_t offset = from.position - start.position;
  if (offset >= run.payload_size()) return std::uint64_t{0};
  if (run.mac()) {
    // The writer ends an encrypted file's runs at transaction boundaries (writer_index.cc), and
    // cuts only happen at boundaries: a MAC'd run never needs one.
    return make_error(
        "cannot cut the authenticated run at position {} of file #{} at {}: the store's index is damaged",
        start.position, from.file_seq, from.position);
  }
  const auto kept_events = run.event_starting_at(offset);
  if (!kept_events) {
    return make_error("cannot cut the stored run at position {} of file #{}: no event starts there",
                      from.position, from.file_seq);
  }
  std::vector<std::uint32_t> ends(*kept_events);
  for (std::size_t i = 0; i < ends.size(); ++i)
    ends[i] = run.event_end(i);
  const std::uint64_t removed = run.payload_size() - offset;
  const auto start_key = start.encode();
  BRELAY_ASSIGN_OR_RETURN(auto value, txn.reserve(dbs.events, start_key, RunView::encoded_size(ends.size())));
  RunView::write(value, ends);
  return removed;
}

}  // namespace

Result<EraseCounts> erase_events(LmdbTxn& txn, const StoreDatabases& dbs, EventKey from, EventKey until) {
  EraseCounts counts;
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, dbs.events));
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.seek(from.encode()));
  while (entry) {
    BRELAY_ASSIGN_OR_RETURN(EventKey key, EventKey::decode(entry->key));
    if (key >= until) break;
    BRELAY_ASSIGN_OR_RETURN(RunView run, RunView::parse(entry->value));
    counts.event_bytes += run.payload_size();
    counts.runs += 1;
    BRELAY_TRY(cursor.del());
    // After a delete LMDB leaves the cursor on the entry that followed: next() returns it.
    BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t cut, cut_run_reaching_into(txn, dbs, from));
  counts.event_bytes += cut;
  return counts;
}

namespace {

// Removes `gtid` from `gtids` when it still locates `at`.
Status erase_gtid_at(LmdbTxn& txn, const StoreDatabases& dbs, ByteView gtid, ByteView at) {
  BRELAY_ASSIGN_OR_RETURN(auto located, txn.get(dbs.gtids, gtid));
  if (located && std::ranges::equal(*located, at)) BRELAY_TRY(txn.del(dbs.gtids, gtid));
  return {};
}

// The listed GTIDs of compressed files in [from, until) (whole files in practice: only purges
// reach sealed files).
Result<std::uint64_t> erase_listed_gtids(LmdbTxn& txn, const StoreDatabases& dbs, EventKey from,
                                         EventKey until) {
  if (!dbs.gtid_lists) return std::uint64_t{0};
  std::uint64_t erased = 0;
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, *dbs.gtid_lists));
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.seek(encode_file_key(from.file_seq)));
  while (entry) {
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(entry->key));
    if (EventKey{seq, 0} >= until) break;
    BRELAY_ASSIGN_OR_RETURN(std::vector<GtidListEntry> listed, decode_gtid_list(entry->value));
    std::vector<GtidListEntry> kept;
    for (GtidListEntry& gtid : listed) {
      const EventKey at{seq, gtid.position};
      if (at < from || at >= until) {
        kept.push_back(std::move(gtid));
        continue;
      }
      BRELAY_TRY(erase_gtid_at(txn, dbs, gtid.gtid, at.encode()));
      erased += 1;
    }
    if (kept.empty()) {
      BRELAY_TRY(cursor.del());
      BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());  // the entry that followed the deleted one
      continue;
    }
    if (kept.size() != listed.size()) {
      BRELAY_ASSIGN_OR_RETURN(Bytes value, encode_gtid_list(kept));
      BRELAY_TRY(txn.put(*dbs.gtid_lists, encode_file_key(seq), value));
      if (seq == UINT32_MAX) break;
      BRELAY_ASSIGN_OR_RETURN(entry, cursor.seek(encode_file_key(seq + 1)));
      continue;
    }
    BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return erased;
}

}  // namespace

Result<std::uint64_t> pack_gtid_positions(LmdbTxn& txn, const StoreDatabases& dbs, std::uint32_t file_seq) {
  if (!dbs.gtid_lists) return make_error("the store has no gtid_lists database: it was opened read-only");
  std::vector<GtidListEntry> entries;
  {
    BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, dbs.gtid_positions));
    BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.seek(EventKey{file_seq, 0}.encode()));
    while (entry) {
      BRELAY_ASSIGN_OR_RETURN(EventKey key, EventKey::decode(entry->key));
      if (key.file_seq != file_seq) break;
      entries.push_back(GtidListEntry{key.position, Bytes(entry->value.begin(), entry->value.end())});
      BRELAY_TRY(cursor.del());
      BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());  // the entry that followed the deleted one
    }
  }
  if (entries.empty()) return std::uint64_t{0};
  BRELAY_ASSIGN_OR_RETURN(auto existing, txn.get(*dbs.gtid_lists, encode_file_key(file_seq)));
  if (existing) {
    // A list packed before (never for a file compressed once; kept whole all the same).
    BRELAY_ASSIGN_OR_RETURN(std::vector<GtidListEntry> earlier, decode_gtid_list(*existing));
    entries.insert(entries.end(), earlier.begin(), earlier.end());
    std::ranges::sort(entries, {}, &GtidListEntry::position);
  }
  BRELAY_ASSIGN_OR_RETURN(Bytes value, encode_gtid_list(entries));
  BRELAY_TRY(txn.put(*dbs.gtid_lists, encode_file_key(file_seq), value));
  return static_cast<std::uint64_t>(entries.size());
}

Status drop_index_of_compressed_file(LmdbTxn& txn, const StoreDatabases& dbs, std::uint32_t file_seq) {
  const EventKey from{file_seq, 0};
  const EventKey until = file_seq == UINT32_MAX ? EventKey{file_seq, UINT64_MAX} : EventKey{file_seq + 1, 0};
  BRELAY_TRY(erase_events(txn, dbs, from, until));
  BRELAY_TRY(pack_gtid_positions(txn, dbs, file_seq));
  return {};
}

Result<std::uint64_t> erase_gtids(LmdbTxn& txn, const StoreDatabases& dbs, EventKey from, EventKey until) {
  std::uint64_t erased = 0;
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, dbs.gtid_positions));
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.seek(from.encode()));
  while (entry) {
    BRELAY_ASSIGN_OR_RETURN(EventKey key, EventKey::decode(entry->key));
    if (key >= until) break;
    const Bytes gtid(entry->value.begin(), entry->value.end());
    BRELAY_TRY(erase_gtid_at(txn, dbs, gtid, entry->key));
    BRELAY_TRY(cursor.del());
    erased += 1;
    BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t listed, erase_listed_gtids(txn, dbs, from, until));
  return erased + listed;
}

Result<bool> erase_file_record(LmdbTxn& txn, const StoreDatabases& dbs, std::uint32_t file_seq) {
  const auto key = encode_file_key(file_seq);
  BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(dbs.files, key));
  if (!value) return false;
  auto record = FileRecordView::decode(*value);
  if (!record) return std::move(record).error();
  const std::string name(record->name);
  const bool compressed = record->compression.has_value();
  BRELAY_TRY(txn.del(dbs.file_names, as_bytes(name)));
  BRELAY_TRY(txn.del(dbs.files, key));
  if (compressed && dbs.frames) {
    // A compressed file's frames go with it.
    BRELAY_ASSIGN_OR_RETURN(LmdbCursor frames, LmdbCursor::open(txn, *dbs.frames));
    BRELAY_ASSIGN_OR_RETURN(auto entry, frames.seek(EventKey{file_seq, 0}.encode()));
    while (entry) {
      BRELAY_ASSIGN_OR_RETURN(EventKey at, EventKey::decode(entry->key));
      if (at.file_seq != file_seq) break;
      BRELAY_TRY(frames.del());
      BRELAY_ASSIGN_OR_RETURN(entry, frames.next());  // the entry that followed the deleted one
    }
  }
  return true;
}

}  // namespace brelay::storage
