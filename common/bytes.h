// Byte buffers shared by every layer: Bytes owns, ByteView borrows. Helpers convert to and from
// text (names, SQL); common/hex.h (included here) converts to and from hex.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/hex.h"

namespace brelay {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}
inline std::string_view as_text(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline Bytes to_bytes(std::string_view text) {
  auto view = as_bytes(text);
  return Bytes(view.begin(), view.end());
}

}  // namespace brelay
