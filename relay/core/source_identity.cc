#include "relay/core/source_identity.h"

#include <charconv>

namespace brelay::relay {
namespace {

std::string escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

std::string unescape(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) {
      out.push_back(value[i + 1] == 'n' ? '\n' : value[i + 1]);
      ++i;
    } else {
      out.push_back(value[i]);
    }
  }
  return out;
}

}  // namespace

Flavor flavor_of_version(std::string_view version) {
  return version.find("MariaDB") != std::string_view::npos ? Flavor::kMariadb : Flavor::kMysql;
}

std::string_view strip_compatibility_prefix(std::string_view version) {
  constexpr std::string_view kPrefix = "5.5.5-";
  if (version.starts_with(kPrefix) && flavor_of_version(version) == Flavor::kMariadb) {
    return version.substr(kPrefix.size());
  }
  return version;
}

std::string_view to_string(Flavor flavor) {
  return flavor == Flavor::kMariadb ? "mariadb" : "mysql";
}

Bytes encode_source_identity(const SourceIdentity& identity) {
  std::string text;
  text += "flavor=" + std::string(to_string(identity.flavor)) + "\n";
  text += "version=" + escape(identity.version) + "\n";
  text += "server_id=" + std::to_string(identity.server_id) + "\n";
  text += "server_uuid=" + escape(identity.server_uuid) + "\n";
  text += "checksum=" + std::to_string(static_cast<int>(identity.checksum)) + "\n";
  for (const auto& [name, value] : identity.variables)
    text += "var." + name + "=" + escape(value) + "\n";
  return to_bytes(text);
}

Result<SourceIdentity> decode_source_identity(ByteView bytes) {
  SourceIdentity identity;
  std::string_view text = as_text(bytes);
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return make_error("stored source identity: bad line '{}'", line);
    const std::string_view key = line.substr(0, eq);
    const std::string value = unescape(line.substr(eq + 1));
    if (key == "flavor") {
      if (value != "mysql" && value != "mariadb")
        return make_error("stored source identity: bad flavor '{}'", value);
      identity.flavor = value == "mariadb" ? Flavor::kMariadb : Flavor::kMysql;
    } else if (key == "version") {
      identity.version = value;
    } else if (key == "server_id" || key == "checksum") {
      std::uint32_t number = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (ec != std::errc() || ptr != value.data() + value.size()) {
        return make_error("stored source identity: bad {} '{}'", key, value);
      }
      if (key == "server_id")
        identity.server_id = number;
      else
        identity.checksum = static_cast<binlog::ChecksumAlgorithm>(number);
    } else if (key == "server_uuid") {
      identity.server_uuid = value;
    } else if (key.starts_with("var.")) {
      identity.variables[std::string(key.substr(4))] = value;
    }
    // Unknown keys come from a newer relay: ignore them.
  }
  return identity;
}

SourceIdentity source_identity_from_format_description(const binlog::FormatDescription& fde,
                                                       std::uint32_t server_id) {
  SourceIdentity identity;
  identity.flavor = fde.is_mariadb() ? Flavor::kMariadb : Flavor::kMysql;
  identity.version = fde.server_version;
  // MariaDB 10.x greets with "5.5.5-" in front of its version (old clients took it for 5.5).
  if (identity.flavor == Flavor::kMariadb && binlog::split_server_version(fde.server_version)[0] < 11)
    identity.version = "5.5.5-" + fde.server_version;
  identity.server_id = server_id;
  identity.checksum = fde.checksum_algorithm == binlog::ChecksumAlgorithm::kUndefined
                          ? binlog::ChecksumAlgorithm::kOff
                          : fde.checksum_algorithm;
  return identity;
}

}  // namespace brelay::relay
