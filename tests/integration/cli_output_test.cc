// What the executable writes for people and for log shippers: `import` and `export` show progress
// on stderr only when it is a terminal (a pty made by script(1)), never with --quiet or into a
// pipe; `run --log-format json` writes one JSON object per line (time, level, component, message)
// that python3's json module reads, even for a login with a hostile account name (quotes, a
// newline, control bytes, bytes that are not UTF-8).
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/raw_mysql_client.h"
#include "tests/support/relay_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

const std::string kFixture = "shyiko-mysql57-row-checksum-none.binlog";

std::string fixture() {
  return source_dir() + "/tests/data/binlogs/" + kFixture;
}

// `args` run as binlog-relay with stderr on a pipe.
CommandOutput relay(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {binlog_relay_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto output = run_command(argv, {}, 120s);
  EXPECT_TRUE(output) << output.error().message();
  return output ? *output : CommandOutput{};
}

// `args` run as binlog-relay on a pseudo-terminal (script(1)); what the terminal showed.
CommandOutput relay_on_terminal(const std::vector<std::string>& args) {
  std::string command = "'" + binlog_relay_path() + "'";
  for (const std::string& arg : args)
    command += " '" + arg + "'";
  auto output = run_command({"script", "--quiet", "--return", "--command", command, "/dev/null"}, {}, 120s);
  EXPECT_TRUE(output) << output.error().message();
  return output ? *output : CommandOutput{};
}

// The end of a long terminal transcript, for failure messages.
std::string tail(const std::string& text) {
  return text.size() > 1500 ? "..." + text.substr(text.size() - 1500) : text;
}

std::string write_config(TempDir& dir, const std::string& name) {
  TestRelayConfig config;
  config.data_dir = dir.file(name);
  const std::string path = dir.file(name + ".toml");
  EXPECT_TRUE(write_file(path, config.to_toml()));
  return path;
}

TEST(CliOutput, ImportAndExportShowProgressOnlyOnATerminalAndNotWithQuiet) {
  auto dir = TempDir::create("cli-progress");
  ASSERT_TRUE(dir);
  const std::string fast = "--progress-interval-ms=0";  // a line for every step, however small the job

  // Into a pipe: the results only.
  const CommandOutput piped = relay({"import", "--config", write_config(*dir, "piped"), fast, fixture()});
  ASSERT_EQ(piped.exit_status, 0) << piped.err;
  EXPECT_EQ(piped.err, "");
  EXPECT_NE(piped.out.find("imported 1 file(s)"), std::string::npos) << piped.out;
  const CommandOutput exported =
      relay({"export", "--data-dir", dir->file("piped"), "--out", dir->file("out1"), fast});
  ASSERT_EQ(exported.exit_status, 0) << exported.err;
  EXPECT_EQ(exported.err, "");

  // On a terminal: bytes done of the total, the rate, redrawn in place, then the results.
  const CommandOutput import_tty =
      relay_on_terminal({"import", "--config", write_config(*dir, "tty"), fast, fixture()});
  ASSERT_EQ(import_tty.exit_status, 0) << tail(import_tty.out);
  EXPECT_NE(import_tty.out.find("\rimport: "), std::string::npos) << tail(import_tty.out);
  EXPECT_NE(import_tty.out.find(" of 73.5 KiB (100%)"), std::string::npos)
      << tail(import_tty.out);  // read twice
  EXPECT_NE(import_tty.out.find("B/s"), std::string::npos) << tail(import_tty.out);
  EXPECT_NE(import_tty.out.find("imported 1 file(s)"), std::string::npos) << tail(import_tty.out);
  const CommandOutput export_tty =
      relay_on_terminal({"export", "--data-dir", dir->file("tty"), "--out", dir->file("out2"), fast});
  ASSERT_EQ(export_tty.exit_status, 0) << tail(export_tty.out);
  EXPECT_NE(export_tty.out.find("\rexport: "), std::string::npos) << tail(export_tty.out);
  EXPECT_NE(export_tty.out.find("(100%)"), std::string::npos) << tail(export_tty.out);

  // --quiet on a terminal: the results only.
  const CommandOutput quiet = relay_on_terminal(
      {"export", "--data-dir", dir->file("tty"), "--out", dir->file("out3"), fast, "--quiet"});
  ASSERT_EQ(quiet.exit_status, 0) << quiet.out;
  EXPECT_EQ(quiet.out.find("export: "), std::string::npos) << quiet.out;
  EXPECT_EQ(quiet.out.find('\r' + std::string("e")), std::string::npos) << quiet.out;
  EXPECT_NE(quiet.out.find(" bytes\t"), std::string::npos) << quiet.out;
}

TEST(CliOutput, RunWithJsonLogFormatWritesOneValidObjectPerLineEvenForHostileLogins) {
  TestRelayConfig config;
  auto dir = TempDir::create("cli-json-log");
  ASSERT_TRUE(dir);
  config.data_dir = dir->file("data");
  config.source_port = free_loopback_port().value_or(1);  // nothing listens there: upstream retries
  const std::uint16_t port = free_loopback_port().value_or(1);
  config.listen = "127.0.0.1:" + std::to_string(port);
  auto relay = RelayProcess::start(config, 60s, {"--log-format", "json"});
  ASSERT_TRUE(relay) << relay.error().message();

  const std::string hostile =
      "evil\"quote\\back\nline\x01\x1b\xff\xc3"
      "end";
  auto login = RawMysqlClient::connect(port, hostile, "wrong");
  ASSERT_FALSE(login);
  ASSERT_TRUE(wait_until([&] { return (*relay)->log().find("failed login") != std::string::npos; }, 30s))
      << (*relay)->log();
  ASSERT_TRUE(wait_until([&] { return (*relay)->log().find("\"upstream\"") != std::string::npos; }, 30s))
      << (*relay)->log();
  auto stopped = (*relay)->stop();
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 0);

  const std::string script =
      "import json,sys\n"
      "n = 0\n"
      "for line in open(sys.argv[1], 'rb').read().split(b'\\n')[:-1]:\n"
      "    o = json.loads(line.decode('utf-8'))\n"
      "    assert sorted(o) == ['component','level','message','time'], o\n"
      "    assert o['time'].endswith('Z') and len(o['time']) == 24, o\n"
      "    assert o['level'] in ('trace','debug','info','warning','error','critical'), o\n"
      "    n += 1\n"
      "    if 'failed login' in o['message']: print('LOGIN', o['level'], o['component'], "
      "repr(o['message']))\n"
      "    if o['component'] == 'upstream': print('UPSTREAM', o['level'])\n"
      "    if o['message'].startswith('binlog-relay ready'): print('READY', o['component'])\n"
      "print('LINES', n)\n";
  auto parsed = run_command({"python3", "-c", script, (*relay)->log_path()});
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->exit_status, 0) << parsed->err << (*relay)->log();
  EXPECT_NE(parsed->out.find("LOGIN warning relay 'failed login: account "), std::string::npos)
      << parsed->out;
  EXPECT_NE(parsed->out.find("UPSTREAM "), std::string::npos) << parsed->out;
  EXPECT_NE(parsed->out.find("READY relay"), std::string::npos) << parsed->out;
  // Every event is one line: as many lines as the file has newlines, none cut by the hostile name.
  EXPECT_EQ(parsed->out.find("LINES 0\n"), std::string::npos) << parsed->out;
}

}  // namespace
}  // namespace brelay::testing
