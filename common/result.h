// Errors as values: Error carries a message (what happened and what to do) and an optional
// numeric code (a MySQL error number, an LMDB return code, an errno), Result<T> holds either a
// value or an Error. Nothing here throws; use BRELAY_TRY / BRELAY_ASSIGN_OR_RETURN to propagate.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace brelay {

class Error {
 public:
  Error() = default;
  explicit Error(std::string message, int code = 0) : message_(std::move(message)), code_(code) {}

  const std::string& message() const { return message_; }
  int code() const { return code_; }

  // Returns a copy whose message is "<context>: <message>", keeping the code.
  Error with_context(std::string_view context) const& {
    return Error(fmt::format("{}: {}", context, message_), code_);
  }
  Error with_context(std::string_view context) && {
    message_ = fmt::format("{}: {}", context, message_);
    return std::move(*this);
  }

 private:
  std::string message_;
  int code_ = 0;
};

// Builds an Error from a fmt format string: make_error("bad length {}", n).
template <typename... Args>
Error make_error(fmt::format_string<Args...> format, Args&&... args) {
  return Error(fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
Error make_error_code(int code, fmt::format_string<Args...> format, Args&&... args) {
  return Error(fmt::format(format, std::forward<Args>(args)...), code);
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(state_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(state_));
  }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() {
  return {};
}

}  // namespace brelay

#define BRELAY_CONCAT_INNER(a, b) a##b
#define BRELAY_CONCAT(a, b) BRELAY_CONCAT_INNER(a, b)

// Evaluates a Result/Status expression and returns its Error from the enclosing function on failure.
#define BRELAY_TRY(expr)                                                   \
  do {                                                                     \
    auto brelay_try_result_ = (expr);                                      \
    if (!brelay_try_result_) return std::move(brelay_try_result_).error(); \
  } while (false)

// `BRELAY_ASSIGN_OR_RETURN(auto x, f());` declares/assigns x from a Result or returns its Error.
// `lhs` is a declaration and `tmp` a name: neither can take parentheses.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BRELAY_ASSIGN_OR_RETURN(lhs, expr) \
  BRELAY_ASSIGN_OR_RETURN_IMPL(BRELAY_CONCAT(brelay_result_, __LINE__), lhs, expr)
#define BRELAY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp) return std::move(tmp).error();           \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
