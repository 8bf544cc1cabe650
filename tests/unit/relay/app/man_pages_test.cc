// The man pages agree with the program: every subcommand of `binlog-relay --help` has a section in
// binlog-relay(8) and every option of its `--help` a .TP entry there (and nothing documented is
// gone); every key relay/core/config.cc looks up (ConfigKeyRecorder, on a configuration with every
// section) has a .TP entry under its section in binlog-relay.toml(5), and every documented key is one
// it looks up. Both pages are packaging/man/*: a failure names the option or key and the page.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "relay/app/cli.h"
#include "relay/core/config.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

const std::string kCommandPage = "packaging/man/binlog-relay.8";
const std::string kConfigPage = "packaging/man/binlog-relay.toml.5";

std::string page(const std::string& relative) {
  auto text = testing::read_file(testing::source_dir() + "/" + relative);
  EXPECT_TRUE(text) << text.error().message();
  return text.value_or("");
}

// The .TP entries of each .SS section of a roff page: section title -> the first word (roff's "\-"
// unescaped, quotes dropped) of the line after each .TP.
std::map<std::string, std::vector<std::string>> entries_by_section(const std::string& roff) {
  std::map<std::string, std::vector<std::string>> sections;
  std::istringstream lines(roff);
  std::string line;
  std::string section;
  bool after_tp = false;
  while (std::getline(lines, line)) {
    if (line.rfind(".SH ", 0) == 0) section.clear();
    if (line.rfind(".SS ", 0) == 0) {
      section = std::regex_replace(line.substr(4), std::regex("\""), "");
      sections[section];
      continue;
    }
    if (line == ".TP") {
      after_tp = true;
      continue;
    }
    if (after_tp && !section.empty()) {
      std::string text = std::regex_replace(line, std::regex(R"(\\-)"), "-");
      text = std::regex_replace(text, std::regex(R"(^\.[A-Z]+ )"), "");
      text = std::regex_replace(text, std::regex("\""), "");
      sections[section].push_back(text.substr(0, text.find_first_of(" ,")));
    }
    after_tp = false;
  }
  return sections;
}

std::string help(std::vector<const char*> args) {
  args.insert(args.begin(), "binlog-relay");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(run_cli(static_cast<int>(args.size()), args.data(), out, err), 0) << err.str();
  return out.str();
}

// The subcommand names listed under "Subcommands:" in the top-level help.
std::set<std::string> subcommands() {
  const std::string text = help({"--help"});
  std::set<std::string> names;
  const auto start = text.find("Subcommands:");
  EXPECT_NE(start, std::string::npos) << text;
  std::istringstream lines(text.substr(start + 12));
  std::string line;
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, match, std::regex(R"(^  ([a-z][a-z0-9-]*)\b)"))) names.insert(match[1]);
  }
  return names;
}

// A subcommand's options (--long names, -h/--help aside) and positionals, from its --help.
std::set<std::string> options_of(const std::string& command) {
  const std::string text = help({command.c_str(), "--help"});
  std::set<std::string> options;
  std::istringstream lines(text);
  std::string line;
  std::string block;
  std::smatch match;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] != ' ') block = line;
    if (std::regex_search(line, match, std::regex(R"(^  (?:-[a-z],)?(--[a-z][a-z0-9-]*))"))) {
      if (match[1] != "--help") options.insert(match[1]);
    } else if (block.rfind("Positionals", 0) == 0 &&
               std::regex_search(line, match, std::regex(R"(^  ([a-z][a-z0-9_-]*) )"))) {
      options.insert(match[1]);
    }
  }
  return options;
}

TEST(ManPages, EverySubcommandAndOptionOfHelpIsInTheCommandPageAndNoOther) {
  const auto documented = entries_by_section(page(kCommandPage));
  const std::set<std::string> commands = subcommands();
  EXPECT_GE(commands.size(), 7u);
  for (const std::string& command : commands) {
    SCOPED_TRACE(command);
    auto section = documented.find(command);
    if (section == documented.end()) {
      ADD_FAILURE() << "subcommand '" << command << "' is in --help but " << kCommandPage << " has no \".SS "
                    << command << "\" section for it (add one, and a SYNOPSIS line)";
      continue;
    }
    std::set<std::string> in_page;
    for (const std::string& entry : section->second) {
      // Positionals are documented as .I BINLOG...: compared by their lower-case name.
      std::string name = entry;
      if (!name.starts_with("--")) {
        name = std::regex_replace(name, std::regex(R"(\.\.\.$)"), "");
        for (char& c : name)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        name = std::regex_replace(name, std::regex(R"(^binlog$)"), "binlogs");
      }
      in_page.insert(name);
    }
    const std::set<std::string> in_help = options_of(command);
    for (const std::string& option : in_help) {
      EXPECT_TRUE(in_page.contains(option))
          << "'binlog-relay " << command << " " << option << "' is in --help but not in " << kCommandPage
          << " (add a .TP entry under \".SS " << command << "\")";
    }
    for (const std::string& option : in_page) {
      EXPECT_TRUE(in_help.contains(option)) << kCommandPage << " documents '" << option << "' under \".SS "
                                            << command << "\" but --help has no such option";
    }
  }
  for (const auto& [section, entries] : documented) {
    EXPECT_TRUE(commands.contains(section))
        << kCommandPage << " has a \".SS " << section << "\" section but --help lists no such subcommand";
  }
}

// A configuration with every section, so that config.cc looks up every key it knows.
constexpr const char* kEverySection = R"(
[source]
host = "127.0.0.1"
user = "repl"
password = "x"
server_id = 1
[storage]
[server]
server_id = 2
[[users]]
name = "replica"
password = "y"
[metrics]
[log]
)";

TEST(ManPages, EveryConfigKeyTheParserReadsIsInTheConfigPageAndNoOther) {
  ConfigKeyRecorder recorder;
  auto config = parse_config(kEverySection, "/tmp/every-section.toml");
  ASSERT_TRUE(config) << config.error().message();
  std::set<std::string> parsed = recorder.keys();
  ASSERT_GE(parsed.size(), 40u);

  std::set<std::string> documented;
  for (const auto& [section, keys] : entries_by_section(page(kConfigPage))) {
    const std::string name = std::regex_replace(section, std::regex(R"([\[\]])"), "");
    for (const std::string& key : keys)
      documented.insert(name + "." + key);
  }
  const auto shown = [](const std::string& key) {
    const auto dot = key.find('.');
    const std::string section = key.substr(0, dot);
    return (section == "users" ? "[[users]] " : "[" + section + "] ") + key.substr(dot + 1);
  };
  for (const std::string& key : parsed) {
    EXPECT_TRUE(documented.contains(key))
        << "config key " << shown(key) << " is read by relay/core/config.cc but not documented in "
        << kConfigPage << " (add a .TP entry with its type and default under its .SS section)";
  }
  for (const std::string& key : documented) {
    EXPECT_TRUE(parsed.contains(key))
        << kConfigPage << " documents " << shown(key) << " but relay/core/config.cc does not read it";
  }
}

TEST(ManPages, AnUnknownKeyIsReportedByName) {
  std::string text = kEverySection;
  text += "no_such_key = 1\n";
  auto config = parse_config(text, "/tmp/every-section.toml");
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message().find("[log] unknown key 'no_such_key'"), std::string::npos)
      << config.error().message();
}

}  // namespace
}  // namespace brelay::relay
