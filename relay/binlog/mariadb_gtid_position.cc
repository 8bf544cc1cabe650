#include "relay/binlog/mariadb_gtid_position.h"

#include <charconv>

#include <fmt/format.h>

namespace brelay::binlog {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

Result<MariadbGtid> MariadbGtid::parse(std::string_view text) {
  const std::string_view gtid_text = trim(text);
  const auto first = gtid_text.find('-');
  const auto second = first == std::string_view::npos ? first : gtid_text.find('-', first + 1);
  MariadbGtid gtid;
  if (second == std::string_view::npos || !parse_number(gtid_text.substr(0, first), gtid.domain_id) ||
      !parse_number(gtid_text.substr(first + 1, second - first - 1), gtid.server_id) ||
      !parse_number(gtid_text.substr(second + 1), gtid.seq_no)) {
    return make_error("bad MariaDB GTID '{}': expected domain-server-sequence like 0-1-100", gtid_text);
  }
  return gtid;
}

std::string MariadbGtid::to_string() const {
  return fmt::format("{}-{}-{}", domain_id, server_id, seq_no);
}

std::string to_string(const std::vector<MariadbGtid>& gtids) {
  std::string out;
  for (const auto& gtid : gtids) {
    if (!out.empty()) out += ',';
    out += gtid.to_string();
  }
  return out;
}

Result<MariadbGtidPosition> MariadbGtidPosition::parse(std::string_view text) {
  MariadbGtidPosition position;
  std::string_view rest = trim(text);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    BRELAY_ASSIGN_OR_RETURN(MariadbGtid gtid, MariadbGtid::parse(item));
    if (!position.by_domain_.emplace(gtid.domain_id, gtid).second) {
      return make_error("GTID position '{}' has two GTIDs for domain {}: give one per domain", trim(text),
                        gtid.domain_id);
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
    if (trim(rest).empty()) return make_error("GTID position '{}' ends with ','", trim(text));
  }
  return position;
}

MariadbGtidPosition MariadbGtidPosition::from_list(const std::vector<MariadbGtid>& gtids) {
  MariadbGtidPosition position;
  for (const auto& gtid : gtids)
    position.by_domain_[gtid.domain_id] = gtid;
  return position;
}

std::string MariadbGtidPosition::to_string() const {
  std::string out;
  for (const auto& [domain, gtid] : by_domain_) {
    if (!out.empty()) out += ',';
    out += gtid.to_string();
  }
  return out;
}

const MariadbGtid* MariadbGtidPosition::find(std::uint32_t domain_id) const {
  auto it = by_domain_.find(domain_id);
  return it == by_domain_.end() ? nullptr : &it->second;
}

void MariadbGtidPosition::update(const MariadbGtid& gtid) {
  by_domain_[gtid.domain_id] = gtid;
}

bool MariadbGtidPosition::has_reached(const MariadbGtid& gtid) const {
  const MariadbGtid* mine = find(gtid.domain_id);
  return mine != nullptr && mine->seq_no >= gtid.seq_no;
}

bool MariadbGtidPosition::includes(const MariadbGtidPosition& other) const {
  for (const auto& [domain, gtid] : other.by_domain_) {
    if (!has_reached(gtid)) return false;
  }
  return true;
}

void MariadbGtidPosition::merge(const MariadbGtidPosition& other) {
  for (const auto& [domain, gtid] : other.by_domain_) {
    if (!has_reached(gtid)) by_domain_[domain] = gtid;
  }
}

bool MariadbGtidPosition::can_start_in_file(const std::vector<MariadbGtid>& file_gtid_list) const {
  for (std::size_t i = 0; i < file_gtid_list.size(); ++i) {
    const MariadbGtid& listed = file_gtid_list[i];
    const MariadbGtid* mine = find(listed.domain_id);
    if (mine == nullptr) return false;
    if (mine->server_id == listed.server_id && mine->seq_no <= listed.seq_no) {
      if (mine->seq_no < listed.seq_no) return false;
      const bool last_of_domain =
          i + 1 == file_gtid_list.size() || file_gtid_list[i + 1].domain_id != listed.domain_id;
      if (!last_of_domain) return false;
    }
  }
  return true;
}

}  // namespace brelay::binlog
