// Checking the pages of an LMDB data file before LMDB reads them. LMDB 0.9 trusts its pages: a
// page number, a node offset or a value size read from a damaged page sends it (and the store's
// decoders after it) reading wherever that points, which beyond the end of the data file is a
// SIGBUS, elsewhere garbage. LMDB only checks that a page number is below the last page in use
// (MDB_PAGE_NOTFOUND) and that a tree descends to a leaf (MDB_CORRUPTED).
//
// So BinlogStore::open walks, with plain reads of the file (no map, so no signal), every page of
// the snapshot it is about to use, as LMDB 0.9's on-disk format (data version 1, 64-bit pgno_t)
// lays them out: the free list's tree and the main tree, and from the main tree every named
// database's tree, following branch nodes, overflow pages and the main tree's database records
// (a database record anywhere else is damage: a store never nests databases). A page is
// accepted when it carries its own page number (LMDB writes it in every page header, and random
// bytes over a page miss it), has the flags of its place in the tree, free-space bounds and node
// offsets inside the page, children and overflow runs inside the pages in use, is reached once,
// and sits at its tree's depth; the free list's page lists must name pages in use. The pages are
// the index only (the event bytes are in event files and have their own CRC32s), so the walk reads
// a few pages per thousand events. Memory follows the pages read, never a number read from the
// file: pages in use must lie in the file, the set of pages reached grows in chunks as they are
// reached, and a free-page list in an overflow run is read a batch at a time.
//
// Pages outside the snapshot (on the free list, or beyond the last page in use) are not read: LMDB
// never reads them before writing them again.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "storage/lmdb_env.h"

namespace brelay::storage {

struct PageCheckReport {
  std::uint64_t pages = 0;  // pages read (overflow runs count as one)
  std::uint64_t txnid = 0;  // the snapshot checked
};

// Checks the snapshot of `env` (opened on `directory`) that a read transaction begun now sees.
// Errors name the data file, the page and the database it belongs to, and say what to do; the
// code is MDB_CORRUPTED.
Result<PageCheckReport> check_lmdb_pages(const LmdbEnv& env, const std::string& directory);

// The advice every "the index is damaged" message ends with.
std::string damaged_index_advice();

}  // namespace brelay::storage
