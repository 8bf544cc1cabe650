// The DDL reader and the GIPK hazard tracker fed arbitrary statement texts (the source's, but
// bounded all the same), with a per-input time budget (CTest runs it with -timeout=2): reading is
// one linear pass without recursion, keeps at most kMaxDdlTables names, and the tracker's table
// map stays within kMaxTables.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "relay/binlog/ddl_statement.h"
#include "relay/upstream/gipk_hazard_tracker.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const brelay::binlog::DdlStatement ddl = brelay::binlog::parse_ddl_statement(text);
  check(ddl.tables.size() <= brelay::binlog::kMaxDdlTables);
  check(ddl.like.size() <= 1 && ddl.renamed_to.size() <= 1);
  // The same text twice through one tracker (a CREATE then the same again, an ALTER twice).
  static brelay::relay::GipkHazardTracker tracker;
  for (int i = 0; i < 2; ++i) {
    const auto flags = tracker.on_statement("db", text);
    check(flags.size() <= 3);
  }
  check(tracker.table_count() <= brelay::relay::GipkHazardTracker::kMaxTables);
  return 0;
}
