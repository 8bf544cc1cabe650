// Drives ByteReader with a field sequence chosen by the input itself: every read must either
// succeed within bounds or return an error, never read past the end.
#include <cstddef>
#include <cstdint>

#include "common/byte_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t ops = data[0] % 16 + 1;
  brelay::ByteReader program(brelay::ByteView(data + 1, std::min<std::size_t>(ops, size - 1)));
  brelay::ByteReader r(brelay::ByteView(data, size).subspan(program.remaining() + 1));
  while (!program.at_end()) {
    const std::uint8_t op = *program.u8("op");
    const std::size_t before = r.position();
    bool ok = true;
    switch (op % 8) {
      case 0: ok = r.u8("f").ok(); break;
      case 1: ok = r.u32("f").ok(); break;
      case 2: ok = r.u64("f").ok(); break;
      case 3: ok = r.lenenc_or_null("f").ok(); break;
      case 4: ok = r.lenenc_text("f").ok(); break;
      case 5: ok = r.nul_text("f").ok(); break;
      case 6: ok = r.bytes(op / 8, "f").ok(); break;
      default: ok = r.skip(op / 8, "f").ok(); break;
    }
    if (!ok && r.position() != before) __builtin_trap();
    if (r.position() > r.whole().size()) __builtin_trap();
  }
  return 0;
}
