#include "tests/support/paths.h"

#include <cstdlib>

namespace brelay::testing {
namespace {

std::string from_env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

std::string source_dir() {
  return from_env_or("BRELAY_SOURCE_DIR", BRELAY_COMPILED_SOURCE_DIR);
}
std::string node_dir() {
  return source_dir() + "/tests/node";
}
std::string binary_dir() {
  return from_env_or("BRELAY_BINARY_DIR", BRELAY_COMPILED_BINARY_DIR);
}

}  // namespace brelay::testing
