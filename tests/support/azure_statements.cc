#include "tests/support/azure_statements.h"

namespace brelay::testing {
namespace {

// Reads a single-quoted MySQL literal starting at text[at] == '\''; advances `at` past it.
Result<std::string> read_literal(std::string_view text, std::size_t& at) {
  std::string value;
  ++at;
  while (at < text.size()) {
    const char c = text[at++];
    if (c == '\'') {
      if (at < text.size() && text[at] == '\'') {
        value.push_back('\'');
        ++at;
        continue;
      }
      return value;
    }
    if (c == '\\' && at < text.size()) {
      const char e = text[at++];
      switch (e) {
        case '0': value.push_back('\0'); break;
        case 'n': value.push_back('\n'); break;
        case 'r': value.push_back('\r'); break;
        case 't': value.push_back('\t'); break;
        case 'Z': value.push_back('\x1a'); break;
        default: value.push_back(e);
      }
      continue;
    }
    value.push_back(c);
  }
  return make_error("unterminated string literal");
}

void skip_space(std::string_view text, std::size_t& at) {
  while (at < text.size() && (text[at] == ' ' || text[at] == '\n' || text[at] == '\t'))
    ++at;
}

Status parse_call(std::string_view text, std::size_t& at, PrintedAzureSetup& setup) {
  at += 5;  // "CALL "
  const std::size_t name_end = text.find_first_of("(;", at);
  if (name_end == std::string_view::npos) return make_error("a CALL without an end");
  const std::string name(text.substr(at, name_end - at));
  at = name_end;
  if (text[at] == ';') {
    ++at;
    if (name == "mysql.az_replication_start") setup.starts = true;
    return {};
  }
  setup.procedure = name;
  ++at;  // '('
  while (true) {
    skip_space(text, at);
    if (at >= text.size()) return make_error("a CALL without ')'");
    if (text[at] == '\'') {
      auto literal = read_literal(text, at);
      if (!literal) return literal.error();
      setup.args.push_back(std::move(*literal));
    } else {
      const std::size_t end = text.find_first_of(",)", at);
      if (end == std::string_view::npos) return make_error("a CALL without ')'");
      std::string_view token = text.substr(at, end - at);
      while (!token.empty() && token.back() == ' ')
        token.remove_suffix(1);
      setup.args.emplace_back(token);
      at = end;
    }
    skip_space(text, at);
    if (at < text.size() && text[at] == ',') {
      ++at;
      continue;
    }
    if (at < text.size() && text[at] == ')') {
      at = text.find(';', at);
      if (at == std::string_view::npos) return make_error("a CALL without ';'");
      ++at;
      return {};
    }
    return make_error("unexpected text in a CALL at offset {}", at);
  }
}

}  // namespace

Result<PrintedAzureSetup> parse_printed_azure_setup(std::string_view text) {
  PrintedAzureSetup setup;
  bool have_ca = false;
  std::size_t at = 0;
  while (at < text.size()) {
    skip_space(text, at);
    if (at >= text.size()) break;
    const std::string_view rest = text.substr(at);
    if (rest.starts_with("#") || rest.starts_with("--")) {
      const auto end = text.find('\n', at);
      at = end == std::string_view::npos ? text.size() : end + 1;
    } else if (rest.starts_with("az mysql flexible-server gtid reset ")) {
      const auto end = text.find('\n', at);
      setup.gtid_reset_line = std::string(text.substr(at, end - at));
      const auto option = setup.gtid_reset_line.find("--gtid-set '");
      if (option == std::string::npos) return make_error("no --gtid-set in {}", setup.gtid_reset_line);
      std::size_t literal_at = option + 11;
      auto set = read_literal(setup.gtid_reset_line, literal_at);
      if (!set) return set.error();
      setup.gtid_reset_set = std::move(*set);
      at = end == std::string_view::npos ? text.size() : end + 1;
    } else if (rest.starts_with("SET @ca = ")) {
      at += 10;
      auto literal = read_literal(text, at);
      if (!literal) return literal.error();
      setup.ca = std::move(*literal);
      have_ca = true;
      at = text.find(';', at) + 1;
    } else if (rest.starts_with("CALL ")) {
      if (Status call = parse_call(text, at, setup); !call) return call.error();
    } else {
      return make_error("unexpected text at offset {}: {}", at, rest.substr(0, 40));
    }
  }
  if (!have_ca) return make_error("no SET @ca statement");
  if (setup.procedure.empty()) return make_error("no change_master CALL");
  return setup;
}

}  // namespace brelay::testing
