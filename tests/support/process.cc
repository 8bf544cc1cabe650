#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace brelay::testing {
namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Only async-signal-safe calls between fork and exec.
[[noreturn]] void exec_child(pid_t parent, const std::vector<char*>& argv, const std::vector<char*>& envp,
                             const ProcessOptions& options, int in_fd, int out_fd, int err_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  if (in_fd >= 0) dup2(in_fd, 0);
  if (out_fd >= 0) dup2(out_fd, 1);
  if (err_fd >= 0) dup2(err_fd, 2);
  if (!options.working_directory.empty() && chdir(options.working_directory.c_str()) != 0) _exit(126);
  // Restore default signal handling the test runner may have changed.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execvpe(argv[0], argv.data(), envp.data());
  const char msg[] = "exec failed\n";
  ssize_t ignored = write(2, msg, sizeof(msg) - 1);
  (void)ignored;
  _exit(127);
}

int open_output(const std::string& path, bool append) {
  if (path.empty()) return -1;
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
}

}  // namespace

Result<Process> Process::start(const ProcessOptions& options) {
  if (options.argv.empty()) return make_error("Process::start: empty argv");
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e)
    env_storage.emplace_back(*e);
  for (const auto& extra : options.env) {
    const auto name = extra.substr(0, extra.find('=') + 1);
    std::erase_if(env_storage, [&](const std::string& e) { return e.starts_with(name); });
    env_storage.push_back(extra);
  }
  std::vector<char*> argv;
  for (const auto& a : options.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_storage)
    envp.push_back(e.data());
  envp.push_back(nullptr);

  const int in_fd =
      ::open(options.stdin_path.empty() ? "/dev/null" : options.stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) return make_error("opening {}: {}", options.stdin_path, std::strerror(errno));
  const int out_fd = open_output(options.stdout_path, options.append_output);
  const int err_fd = open_output(options.stderr_path, options.append_output);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) exec_child(parent, argv, envp, options, in_fd, out_fd, err_fd);
  const int fork_errno = errno;
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (pid < 0) return make_error("fork for {}: {}", options.argv[0], std::strerror(fork_errno));
  return Process(pid, options.argv[0]);
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), name_(std::move(other.name_)), exit_status_(other.exit_status_) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, -1);
    name_ = std::move(other.name_);
    exit_status_ = other.exit_status_;
  }
  return *this;
}

Process::~Process() {
  kill_and_reap();
}

void Process::kill_and_reap() {
  if (pid_ > 0 && !exit_status_) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

bool Process::reap(bool block) {
  if (pid_ <= 0 || exit_status_) return true;
  int status = 0;
  pid_t rc;
  do {
    rc = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (rc < 0 && errno == EINTR);
  if (rc == pid_) {
    exit_status_ = decode_status(status);
    return true;
  }
  if (rc < 0) {  // not our child any more (should not happen): treat as gone
    exit_status_ = -1;
    return true;
  }
  return false;
}

bool Process::running() {
  return !reap(false);
}

Result<int> Process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error("{} (pid {}) still running after {} ms", name_, pid_, timeout.count());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return *exit_status_;
}

void Process::signal(int sig) {
  if (pid_ > 0 && !exit_status_) ::kill(pid_, sig);
}

Result<int> Process::stop(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  auto status = wait(grace);
  if (status) return status;
  signal(SIGKILL);
  return wait(std::chrono::seconds(10));
}

Result<CommandOutput> run_command(const std::vector<std::string>& argv, std::string_view input,
                                  std::chrono::milliseconds timeout, const std::vector<std::string>& env) {
  BRELAY_ASSIGN_OR_RETURN(TempDir dir, TempDir::create("cmd"));
  const std::string in_path = dir.path() + "/stdin";
  const std::string out_path = dir.path() + "/stdout";
  const std::string err_path = dir.path() + "/stderr";
  {
    std::ofstream in(in_path, std::ios::binary);
    in.write(input.data(), static_cast<std::streamsize>(input.size()));
  }
  ProcessOptions options;
  options.argv = argv;
  options.env = env;
  options.stdin_path = in_path;
  options.stdout_path = out_path;
  options.stderr_path = err_path;
  BRELAY_ASSIGN_OR_RETURN(Process process, Process::start(options));
  auto status = process.wait(timeout);
  if (!status) {
    process.signal(SIGKILL);
    return std::move(status).error();
  }
  CommandOutput output;
  output.exit_status = *status;
  output.out = read_file(out_path).value_or("");
  output.err = read_file(err_path).value_or("");
  return output;
}

bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  // Exists: a zombie (exited, not yet reaped by its new parent) counts as gone.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close_paren = line.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < line.size() && line[close_paren + 2] == 'Z';
}

}  // namespace brelay::testing
