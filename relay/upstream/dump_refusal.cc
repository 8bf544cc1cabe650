#include "relay/upstream/dump_refusal.h"

#include <algorithm>

namespace brelay::relay {

bool is_dump_refused(int code) {
  return std::find(kDumpRefusedCodes.begin(), kDumpRefusedCodes.end(), code) != kDumpRefusedCodes.end();
}

DumpRefusal classify_dump_refusal(int code, std::string_view needed_file, const SourceBinlogs& binlogs,
                                  const binlog::GtidSet* requested_gtids) {
  if (!is_dump_refused(code)) return DumpRefusal::kRefused;
  if (requested_gtids != nullptr && binlogs.purged_gtids &&
      !binlogs.purged_gtids->is_subset_of(*requested_gtids))
    return DumpRefusal::kPurged;
  if (!binlogs.listed) return DumpRefusal::kRefused;
  if (needed_file.empty()) return binlogs.names.empty() ? DumpRefusal::kPurged : DumpRefusal::kRefused;
  const bool present =
      std::find(binlogs.names.begin(), binlogs.names.end(), needed_file) != binlogs.names.end();
  return present ? DumpRefusal::kRefused : DumpRefusal::kPurged;
}

}  // namespace brelay::relay
