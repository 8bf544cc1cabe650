// `binlog-relay hash-password`: the hashes net/ checks logins against, in the form [[users]] takes.
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "net/auth_caching_sha2.h"
#include "net/auth_native.h"
#include "relay/app/commands.h"

namespace brelay::relay {
namespace {

void strip_trailing_newlines(std::string& text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
}

// Turns the terminal's echo off for its lifetime.
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

std::string prompt_without_echo(std::string_view prompt, std::ostream& err) {
  err << prompt << std::flush;
  std::string line;
  {
    EchoOff quiet;
    std::getline(std::cin, line);
  }
  err << "\n";
  strip_trailing_newlines(line);
  return line;
}

}  // namespace

int run_hash_password(const HashPasswordOptions& options, std::ostream& out, std::ostream& err) {
  std::string password;
  if (!options.password_file.empty()) {
    std::ifstream in(options.password_file, std::ios::binary);
    if (!in) {
      err << fmt::format("binlog-relay hash-password: cannot read {}: {}\n", options.password_file,
                         std::strerror(errno));
      return 1;
    }
    std::ostringstream contents;
    contents << in.rdbuf();
    password = contents.str();
    strip_trailing_newlines(password);
  } else if (isatty(STDIN_FILENO) != 0) {
    password = prompt_without_echo("Password: ", err);
    if (prompt_without_echo("Same password again: ", err) != password) {
      err << "binlog-relay hash-password: the two passwords differ; nothing printed\n";
      return 1;
    }
  } else {
    std::getline(std::cin, password);
    strip_trailing_newlines(password);
  }
  if (password.empty()) {
    err << "binlog-relay hash-password: the password is empty; give one on standard input or with "
           "--password-file (an account without a password would let anyone log in)\n";
    return 1;
  }
  out << fmt::format("native_hash = \"{}\"\n",
                     net::format_native_password_hash(net::native_password_hash(password)));
  out << fmt::format("sha2_hash = \"{}\"\n",
                     net::format_caching_sha2_password_hash(net::caching_sha2_password_hash(password)));
  return 0;
}

}  // namespace brelay::relay
