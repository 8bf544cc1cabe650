// Fuzzes the encryption key file parser (storage/at_rest_crypto): any text either parses into
// sorted, unique, non-zero key ids or is refused with an error; nothing crashes or reads past it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/at_rest_crypto.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto keys = brelay::storage::crypto::parse_key_file(text);
  if (keys) {
    if (keys->size() == 0 || keys->current().id == 0) __builtin_trap();
    if (keys->find(keys->current().id) == nullptr) __builtin_trap();
  }
  return 0;
}
