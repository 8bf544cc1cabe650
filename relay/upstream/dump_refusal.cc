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

std::string_view gtid_dump_needed_file(std::string_view relay_file, const SourceBinlogs& binlogs) {
  auto base_name = [](std::string_view file) { return file.substr(0, file.rfind('.')); };
  const bool named_alike =
      std::any_of(binlogs.names.begin(), binlogs.names.end(),
                  [&](const std::string& name) { return base_name(name) == base_name(relay_file); });
  return named_alike ? relay_file : std::string_view();
}

}  // namespace brelay::relay
