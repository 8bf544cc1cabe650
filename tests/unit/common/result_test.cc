#include "common/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace brelay {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return make_error_code(22, "'{}' is not a digit", c);
  return c - '0';
}

Result<int> sum_digits(std::string_view text) {
  int sum = 0;
  for (char c : text) {
    BRELAY_ASSIGN_OR_RETURN(int digit, parse_digit(c));
    sum += digit;
  }
  return sum;
}

Status check_even(int v) {
  if (v % 2 != 0) return make_error("{} is odd", v);
  return {};
}

Status sum_is_even(std::string_view text) {
  BRELAY_ASSIGN_OR_RETURN(int sum, sum_digits(text));
  BRELAY_TRY(check_even(sum));
  return {};
}

TEST(Result, ValuesAndErrorsPropagate) {
  EXPECT_EQ(*sum_digits("123"), 6);
  auto bad = sum_digits("1x3");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "'x' is not a digit");
  EXPECT_EQ(bad.error().code(), 22);
  EXPECT_TRUE(sum_is_even("22"));
  auto odd = sum_is_even("21");
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().message(), "3 is odd");
}

TEST(Result, ContextIsPrependedAndCodeKept) {
  Error e = make_error_code(1045, "access denied").with_context("logging in");
  EXPECT_EQ(e.message(), "logging in: access denied");
  EXPECT_EQ(e.code(), 1045);
}

TEST(Result, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
  EXPECT_EQ(Result<int>(make_error("x")).value_or(3), 3);
}

}  // namespace
}  // namespace brelay
