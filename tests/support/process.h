// Child processes for tests: start a program, wait for it with a time limit, stop exactly that pid.
// Every child gets PR_SET_PDEATHSIG(SIGKILL), so it dies with the test process even when the test
// crashes, and the destructor of a still-running Process kills and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace brelay::testing {

struct ProcessOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  std::vector<std::string> env;   // extra NAME=value entries on top of the test's environment
  std::string stdin_path;         // empty: /dev/null
  std::string stdout_path;        // empty: inherit the test's stdout
  std::string stderr_path;        // empty: inherit the test's stderr
  bool append_output = false;     // open stdout/stderr files for append rather than truncate
  std::string working_directory;  // empty: the test's
};

class Process {
 public:
  static Result<Process> start(const ProcessOptions& options);

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();  // SIGKILL + reap when still running

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  // True while the child has not exited (reaps it if it has).
  bool running();
  // Waits for the exit; returns the exit status (128 + signal for a signal), or an error on timeout.
  Result<int> wait(std::chrono::milliseconds timeout);
  // Sends `signal` to this pid only; no-op once exited.
  void signal(int signal);
  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit status.
  Result<int> stop(std::chrono::milliseconds grace = std::chrono::seconds(30));
  std::optional<int> exit_status() const { return exit_status_; }

 private:
  Process(pid_t pid, std::string name) : pid_(pid), name_(std::move(name)) {}
  bool reap(bool block);
  void kill_and_reap();

  pid_t pid_ = -1;
  std::string name_;
  std::optional<int> exit_status_;
};

struct CommandOutput {
  int exit_status = -1;
  std::string out;
  std::string err;
};

// Runs a command to completion with `input` on stdin; captures stdout and stderr.
Result<CommandOutput> run_command(const std::vector<std::string>& argv, std::string_view input = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(120),
                                  const std::vector<std::string>& env = {});

// True when `pid` no longer runs (absent or a zombie).
bool process_gone(pid_t pid);

}  // namespace brelay::testing
